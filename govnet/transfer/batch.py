"""A batch: what crosses the gap (网闸) as files, tamper-evident.

A batch is one directory ``SOURCE-000042/`` holding JSON Lines files (one row per line) and
``manifest.json``: the source's name, the batch's sequence number, the hash of the previous
batch (a hash chain), the time window it covers, each file's rows, bytes and digest, the
source store's ledger head, and the signature ``algorithm`` with its ``digest``.
``manifest.sig`` is the signature of ``manifest.json``'s bytes (base64). The batch's hash is
the digest of those bytes.

Two algorithms, each with its own digest for everything in the batch:
- ``ed25519`` (default): Ed25519 signature, SHA-256 of files and manifest;
- ``sm2`` (国密): SM2 signature over SM3 (govnet/transfer/gm.py), SM3 of files and manifest,
  so a receiver that may use only SM algorithms checks a batch with SM2/SM3 alone.
``prev`` is the previous batch's hash as that batch defined it (its own digest): the receiver
compares it with the hash it stored when it imported that batch and never re-hashes an older
manifest. When a source moves from one algorithm to the other (a key change), the first batch
with the new key links to the last one of the old key that way; the receiver must trust the
new key (``--trust``) or that batch and every later one are refused/held.

Keys: the exporting side signs with a private key given by reference (``file:…``/``env:…``,
govnet/secrets.py); the importing side trusts public keys (PEM files). A key's id is the first
16 hex digits of the digest (SHA-256 for Ed25519, SM3 for SM2) of its public key. A manifest
must claim the algorithm of the trusted key its id names: no algorithm confusion.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import Field, ValidationError, model_validator
from sqlalchemy import Date, DateTime, Table

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.secrets import SecretRef
from govnet.transfer import gm
from govnet.validation import Strict

FORMAT = "govnet-batch/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MAX_MANIFEST = 1 << 20  # bytes
MAX_LINE = 16 << 20  # one JSON row
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
Algorithm = Literal["ed25519", "sm2"]
ALGORITHMS: tuple[Algorithm, ...] = ("ed25519", "sm2")
DIGEST_OF: dict[str, str] = {"ed25519": "sha256", "sm2": "sm3"}
DIGEST_LABEL = {"sha256": "SHA-256", "sm3": "SM3"}
HEX64 = r"^[0-9a-f]{64}$"


class Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


class TransferError(GovnetError):
    """A batch or key that cannot be used (exit 2)."""


class FileEntry(Strict):
    rows: int = Field(ge=0)
    bytes: int = Field(ge=0)
    sha256: str | None = Field(default=None, pattern=HEX64)
    sm3: str | None = Field(default=None, pattern=HEX64)

    def digest(self, name: str) -> str | None:
        return self.sm3 if name == "sm3" else self.sha256


class Window(Strict):
    start: str | None = Field(alias="from", default=None)
    end: str = Field(alias="to")


class LedgerHead(Strict):
    seq: int = Field(ge=0)
    hash: str


class Manifest(Strict):
    format: str
    source: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=1)
    prev: str = Field(pattern=r"^([0-9a-f]{64})?$")
    created: str
    window: Window
    files: dict[str, FileEntry]
    ledger_head: LedgerHead
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    tool: str
    algorithm: Algorithm = "ed25519"  # absent in the first batches govnet wrote: Ed25519
    digest: Literal["sha256", "sm3"] = "sha256"

    @model_validator(mode="after")
    def _one_digest(self) -> Manifest:
        if self.digest != DIGEST_OF[self.algorithm]:
            wanted = DIGEST_OF[self.algorithm]
            raise ValueError(
                _(
                    "algorithm {algorithm} goes with digest {wanted}",
                    algorithm=self.algorithm,
                    wanted=wanted,
                )
            )
        for name, entry in self.files.items():
            other = "sha256" if self.digest == "sm3" else "sm3"
            if entry.digest(self.digest) is None or entry.digest(other) is not None:
                raise ValueError(
                    _(
                        "file {name}: give its {digest} and no other digest",
                        name=name,
                        digest=self.digest,
                    )
                )
        return self


def valid_source(name: str) -> bool:
    return 0 < len(name) <= 64 and set(name) <= NAME_CHARS and name[0].isalnum()


def batch_name(source: str, seq: int) -> str:
    return f"{source}-{seq:06d}"


# -- keys --------------------------------------------------------------------------------


def digester(name: str) -> Digest:
    """A streaming digest by its manifest name: ``sha256`` or ``sm3``."""
    return hashlib.sha256() if name == "sha256" else gm.Sm3()


@dataclass(frozen=True)
class PublicKey:
    """A trusted sender key: Ed25519 (32 raw bytes) or SM2 (x || y, 64 bytes)."""

    algorithm: Algorithm
    raw: bytes

    @property
    def key_id(self) -> str:
        if self.algorithm == "sm2":  # 国密 only: SM3 of the uncompressed point
            return gm.Sm3(b"\x04" + self.raw).hexdigest()[:16]
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            blob = base64.b64decode(signature.strip(), validate=True)
        except ValueError:
            return False
        if self.algorithm == "sm2":
            return gm.verify(self.raw, data, blob)
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(blob, data)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """A private key to sign manifests with, and its public half."""

    algorithm: Algorithm
    secret: bytes = field(repr=False)  # Ed25519: 32 raw bytes; SM2: d (32 bytes)
    public: PublicKey

    @property
    def key_id(self) -> str:
        return self.public.key_id

    @property
    def digest(self) -> str:
        return DIGEST_OF[self.algorithm]

    def sign(self, data: bytes) -> bytes:
        if self.algorithm == "sm2":
            blob = gm.sign(self.secret, self.public.raw, data)
        else:
            blob = Ed25519PrivateKey.from_private_bytes(self.secret).sign(data)
        return base64.b64encode(blob) + b"\n"


def _ed25519_raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def generate_key(path: Path, algorithm: str = "ed25519") -> tuple[Path, str]:
    """A new signing key at ``path`` (PEM, mode 0600, never overwritten) and ``path.pub``."""
    if algorithm not in ALGORITHMS:
        raise TransferError(
            _(
                "--algorithm {algorithm}: use one of {known}",
                algorithm=algorithm,
                known=", ".join(ALGORITHMS),
            )
        )
    if algorithm == "sm2":
        secret, raw = gm.generate()
        pem, public_pem = gm.private_pem(secret, raw), gm.public_pem(raw)
        kid = PublicKey("sm2", raw).key_id
    else:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        kid = PublicKey("ed25519", _ed25519_raw(private.public_key())).key_id
    pub_path = path.with_name(path.name + ".pub")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise TransferError(
            _("{path}: exists; a signing key is never overwritten", path=path)
        ) from None
    except OSError as exc:
        raise TransferError(
            _("{path}: cannot write: {strerror}", path=path, strerror=exc.strerror)
        ) from exc
    with os.fdopen(fd, "wb") as stream:
        stream.write(pem)
    pub_path.write_bytes(public_pem)
    return pub_path, kid


def load_signing_key(ref: str) -> SigningKey:
    try:
        secret = SecretRef.parse(ref)
    except ValueError as exc:
        raise TransferError(_("signing key: {exc}", exc=exc)) from None
    text = secret.resolve("signing key").encode()
    der = gm.pem_der(text, "PRIVATE KEY")
    if der is not None and gm.is_private_der(der):
        parts = gm.parse_private(der)
        if parts is None:
            raise TransferError(
                _(
                    "signing key: an SM2 key, but not in the PKCS#8 layout govnet writes (with "
                    "its public key); make one with `govnet export --generate-key PATH "
                    "--algorithm sm2`"
                )
            )
        key = SigningKey("sm2", parts[0], PublicKey("sm2", parts[1]))
        if not key.public.verify(b"govnet", key.sign(b"govnet")):
            raise TransferError(
                _("signing key: its SM2 private and public parts do not belong together")
            )
        return key
    try:
        loaded = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise TransferError(
            _(
                "signing key: not an unencrypted PEM private key; make one with `govnet export "
                "--generate-key PATH`"
            )
        ) from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise TransferError(_("signing key: not an Ed25519 or SM2 key"))
    raw = loaded.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return SigningKey("ed25519", raw, PublicKey("ed25519", _ed25519_raw(loaded.public_key())))


def load_public_key(path: Path) -> PublicKey:
    try:
        data = path.read_bytes()[:65536]
    except OSError as exc:
        raise TransferError(
            _(
                "{path}: cannot read the public key: {strerror}",
                path=path,
                strerror=exc.strerror,
            )
        ) from exc
    der = gm.pem_der(data, "PUBLIC KEY")
    if der is not None and gm.is_public_der(der):
        raw = gm.parse_public(der)
        if raw is None:
            raise TransferError(
                _("{path}: an SM2 public key that is not a point on the curve", path=path)
            )
        return PublicKey("sm2", raw)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise TransferError(_("{path}: not a PEM public key", path=path)) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise TransferError(_("{path}: not an Ed25519 or SM2 public key", path=path))
    return PublicKey("ed25519", _ed25519_raw(key))


def load_trusted(paths: list[Path]) -> dict[str, PublicKey]:
    keys = {key.key_id: key for key in map(load_public_key, paths)}
    if not keys:
        raise TransferError(_("no trusted key: pass --trust FILE.pub (the sender's public key)"))
    return keys


# -- rows --------------------------------------------------------------------------------


def encode_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, datetime | date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def decode_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key not in table.c:
            raise ValueError(_("unknown column {key!r} of {name}", key=key, name=table.name))
        kind = table.c[key].type
        if value is not None and isinstance(kind, DateTime):
            out[key] = datetime.fromisoformat(value)
        elif value is not None and isinstance(kind, Date):
            out[key] = date.fromisoformat(value)
        else:
            out[key] = value
    return out


def dumps(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass
class Loaded:
    """A batch read from disk and checked (signature, files, hashes, row counts)."""

    path: Path
    manifest: Manifest
    raw: bytes
    hash: str

    def rows(self, name: str) -> list[dict[str, Any]]:
        if name not in self.manifest.files:
            return []
        out: list[dict[str, Any]] = []
        with (self.path / name).open("rb") as stream:
            for number, line in enumerate(stream, start=1):
                try:
                    value = json.loads(line)
                except ValueError:
                    raise TransferError(
                        _("{file}:{number}: not JSON", file=self.path / name, number=number)
                    ) from None
                if not isinstance(value, dict):
                    raise TransferError(
                        _(
                            "{file}:{number}: not a JSON object",
                            file=self.path / name,
                            number=number,
                        )
                    )
                out.append(value)
        return out


def read_manifest(path: Path) -> tuple[Manifest, bytes]:
    file = path / MANIFEST
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_MANIFEST + 1)
    except OSError as exc:
        raise TransferError(
            _("{file}: cannot read: {strerror}", file=file, strerror=exc.strerror)
        ) from exc
    if len(raw) > MAX_MANIFEST:
        raise TransferError(
            _(
                "{file}: larger than {max_manifest} bytes: not a govnet manifest",
                file=file,
                max_manifest=MAX_MANIFEST,
            )
        )
    try:
        data = json.loads(raw)
        manifest = Manifest.model_validate(data)
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TransferError(
            _("{file}: not a govnet batch manifest ({first})", file=file, first=first)
        ) from None
    if manifest.format != FORMAT:
        raise TransferError(
            _(
                "{file}: format {format!r}, expected {format2!r}",
                file=file,
                format=manifest.format,
                format2=FORMAT,
            )
        )
    return manifest, raw


def load(path: Path, trusted: dict[str, PublicKey]) -> Loaded:
    """Read and check everything but the chain; raise :class:`TransferError` naming the batch."""
    manifest, raw = read_manifest(path)
    public = trusted.get(manifest.key_id)
    if public is None:
        raise TransferError(
            _(
                "{path}: signed by key {key_id}, which is not trusted; pass the sender's public "
                "key with --trust",
                path=path,
                key_id=manifest.key_id,
            )
        )
    if public.algorithm != manifest.algorithm:
        raise TransferError(
            _(
                "{path}: the manifest claims {claimed} but key {key_id} is an {algorithm} key: "
                "refused (a forged or confused batch)",
                path=path,
                claimed=manifest.algorithm,
                key_id=manifest.key_id,
                algorithm=public.algorithm,
            )
        )
    try:
        signature = (path / SIGNATURE).read_bytes()[:4096]
    except OSError:
        raise TransferError(
            _(
                "{path}: {signature} is missing; the batch is incomplete",
                path=path,
                signature=SIGNATURE,
            )
        ) from None
    if not public.verify(raw, signature):
        raise TransferError(
            _(
                "{path}: the signature does not match the manifest: the batch was altered; do "
                "not use it, ask the sending side to copy it again",
                path=path,
            )
        )
    if path.name != batch_name(manifest.source, manifest.seq):
        raise TransferError(
            _(
                "{path}: the manifest says batch {source}",
                path=path,
                source=batch_name(manifest.source, manifest.seq),
            )
        )
    present = {p.name for p in path.iterdir()}
    extra = sorted(present - set(manifest.files) - {MANIFEST, SIGNATURE})
    if extra:
        raise TransferError(
            _("{path}: files not in the manifest: {extra}", path=path, extra=", ".join(extra))
        )
    for name, entry in manifest.files.items():
        file = path / name
        if "/" in name or name.startswith(".") or not name.endswith(".jsonl"):
            raise TransferError(
                _("{path}: bad file name {name!r} in the manifest", path=path, name=name)
            )
        if name not in present:
            raise TransferError(_("{file}: missing; the batch is incomplete", file=file))
        digest = digester(manifest.digest)
        size = lines = 0
        with file.open("rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
                size += len(block)
                lines += block.count(b"\n")
        if size != entry.bytes or digest.hexdigest() != entry.digest(manifest.digest):
            raise TransferError(
                _(
                    "{file}: content differs from the signed manifest ({digest}); the batch was "
                    "altered or damaged in transit; ask the sending side to copy it again",
                    file=file,
                    digest=DIGEST_LABEL[manifest.digest],
                )
            )
        if lines != entry.rows:
            raise TransferError(
                _(
                    "{file}: {lines} rows, the manifest says {rows}",
                    file=file,
                    lines=lines,
                    rows=entry.rows,
                )
            )
    head = digester(manifest.digest)
    head.update(raw)
    return Loaded(path, manifest, raw, head.hexdigest())
