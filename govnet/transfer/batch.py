"""A batch: what crosses the gap (网闸) as files, tamper-evident.

A batch is one directory ``SOURCE-000042/`` holding JSON Lines files (one row per line) and
``manifest.json``: the source's name, the batch's sequence number, the SHA-256 of the previous
batch's manifest (a hash chain), the time window it covers, each file's rows, bytes and
SHA-256, and the source store's ledger head. ``manifest.sig`` is the Ed25519 signature of
``manifest.json``'s bytes (base64). The batch's hash is the SHA-256 of those bytes.

Keys: the exporting side signs with a private key given by reference (``file:…``/``env:…``,
govnet/secrets.py); the importing side trusts public keys (PEM files). A key's id is the first
16 hex digits of the SHA-256 of its raw public bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import Field, ValidationError
from sqlalchemy import Date, DateTime, Table

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.secrets import SecretRef
from govnet.validation import Strict

FORMAT = "govnet-batch/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MAX_MANIFEST = 1 << 20  # bytes
MAX_LINE = 16 << 20  # one JSON row
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class TransferError(GovnetError):
    """A batch or key that cannot be used (exit 2)."""


class FileEntry(Strict):
    rows: int = Field(ge=0)
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


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


def valid_source(name: str) -> bool:
    return 0 < len(name) <= 64 and set(name) <= NAME_CHARS and name[0].isalnum()


def batch_name(source: str, seq: int) -> str:
    return f"{source}-{seq:06d}"


# -- keys --------------------------------------------------------------------------------


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(path: Path) -> tuple[Path, str]:
    """A new signing key at ``path`` (mode 0600, never overwritten) and ``path.pub``."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
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
    pub_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pub_path, key_id(private.public_key())


def load_signing_key(ref: str) -> Ed25519PrivateKey:
    try:
        secret = SecretRef.parse(ref)
    except ValueError as exc:
        raise TransferError(_("signing key: {exc}", exc=exc)) from None
    text = secret.resolve("signing key")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise TransferError(
            _(
                "signing key: not an unencrypted PEM private key; make one with `govnet export "
                "--generate-key PATH`"
            )
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise TransferError(_("signing key: not an Ed25519 key"))
    return key


def load_trusted(paths: list[Path]) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for path in paths:
        try:
            data = path.read_bytes()[:65536]
            key = serialization.load_pem_public_key(data)
        except OSError as exc:
            raise TransferError(
                _(
                    "{path}: cannot read the public key: {strerror}",
                    path=path,
                    strerror=exc.strerror,
                )
            ) from exc
        except (ValueError, TypeError) as exc:
            raise TransferError(_("{path}: not a PEM public key", path=path)) from exc
        if not isinstance(key, Ed25519PublicKey):
            raise TransferError(_("{path}: not an Ed25519 public key", path=path))
        keys[key_id(key)] = key
    if not keys:
        raise TransferError(_("no trusted key: pass --trust FILE.pub (the sender's public key)"))
    return keys


def sign(private: Ed25519PrivateKey, data: bytes) -> bytes:
    return base64.b64encode(private.sign(data)) + b"\n"


def verify_signature(public: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        public.verify(base64.b64decode(signature.strip(), validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


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


def load(path: Path, trusted: dict[str, Ed25519PublicKey]) -> Loaded:
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
    if not verify_signature(public, raw, signature):
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
        digest = hashlib.sha256()
        size = lines = 0
        with file.open("rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
                size += len(block)
                lines += block.count(b"\n")
        if size != entry.bytes or digest.hexdigest() != entry.sha256:
            raise TransferError(
                _(
                    "{file}: content differs from the signed manifest (SHA-256); the batch was "
                    "altered or damaged in transit; ask the sending side to copy it again",
                    file=file,
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
    return Loaded(path, manifest, raw, hashlib.sha256(raw).hexdigest())
