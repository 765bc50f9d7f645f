"""国密 (SM2/SM3) for batches that must use Chinese commercial cryptography only.

SM2 signatures come from GmSSL (the reference 国密 library, via the ``gmssl-pyx`` binding, an
optional dependency: ``pip install 'govnet[gm]'``); SM3 digests from the OpenSSL that
``cryptography`` ships (streamed, for files of any size). A signature is SM2 over SM3 with
the user ID ``1234567812345678`` (GB/T 32918.2 with the default ID of GM/T 0009), DER-encoded
(r, s) — what OpenSSL 3, GmSSL and Tongsuo produce and accept by default.

Key files are the standard PEM forms, readable by ``openssl pkey`` and GmSSL:
- private: ``-----BEGIN PRIVATE KEY-----``, PKCS#8 of an ``id-ecPublicKey`` on the SM2 curve
  (OID 1.2.156.10197.1.301) holding the ECPrivateKey with its public point;
- public: ``-----BEGIN PUBLIC KEY-----``, SubjectPublicKeyInfo with the uncompressed point.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives import hashes

from govnet.errors import GovnetError
from govnet.i18n import _

DEFAULT_ID = b"1234567812345678"
# DER prefixes of the one layout each (named SM2 curve, uncompressed point); d/x/y follow
_ALG_ID = bytes.fromhex("301306072a8648ce3d020106082a811ccf5501822d")
SPKI_PREFIX = bytes.fromhex("3059") + _ALG_ID + bytes.fromhex("03420004")
PKCS8_PREFIX = (
    bytes.fromhex("308187020100") + _ALG_ID + bytes.fromhex("046d306b0201010420")
)  # then d (32 bytes)
PKCS8_PUBLIC = bytes.fromhex("a14403420004")  # then x || y (64 bytes)
N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


class GmUnavailable(GovnetError):
    """The optional SM2 library is not installed (exit 2: install it)."""


def _lib() -> Any:
    try:
        import gmssl_pyx
    except ImportError:
        raise GmUnavailable(
            _(
                "SM2 (国密) needs the optional package gmssl-pyx: install it with pip install "
                "'govnet[gm]'"
            )
        ) from None
    return gmssl_pyx


class Sm3:
    """An SM3 digest with the interface of :mod:`hashlib`'s (update, hexdigest)."""

    def __init__(self, data: bytes = b"") -> None:
        self._hash = hashes.Hash(hashes.SM3())
        if data:
            self._hash.update(data)

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.finalize().hex()


def generate() -> tuple[bytes, bytes]:
    """A new key pair: (private d, 32 bytes; public x || y, 64 bytes)."""
    public, private = _lib().sm2_key_generate()
    return bytes(private), bytes(public)


def _pem(label: str, der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    begin, end = f"-----BEGIN {label}-----".encode(), f"-----END {label}-----".encode()
    return b"\n".join([begin, *lines, end]) + b"\n"


def private_pem(private: bytes, public: bytes) -> bytes:
    return _pem("PRIVATE KEY", PKCS8_PREFIX + private + PKCS8_PUBLIC + public)


def public_pem(public: bytes) -> bytes:
    return _pem("PUBLIC KEY", SPKI_PREFIX + public)


def pem_der(text: bytes, label: str) -> bytes | None:
    """The DER inside the first ``label`` PEM block of ``text``, or None."""
    begin, end = f"-----BEGIN {label}-----".encode(), f"-----END {label}-----".encode()
    start = text.find(begin)
    stop = text.find(end, start + len(begin))
    if start < 0 or stop < 0:
        return None
    try:
        return base64.b64decode(b"".join(text[start + len(begin) : stop].split()), validate=True)
    except ValueError:
        return None


def is_private_der(der: bytes) -> bool:
    return der.startswith(PKCS8_PREFIX[:23])  # up to and including the SM2 curve OID


def is_public_der(der: bytes) -> bool:
    return der.startswith(SPKI_PREFIX[:23])


def parse_private(der: bytes) -> tuple[bytes, bytes] | None:
    """(d, x || y) from govnet's/OpenSSL's PKCS#8 layout, or None."""
    size = len(PKCS8_PREFIX) + 32 + len(PKCS8_PUBLIC) + 64
    if len(der) != size or not der.startswith(PKCS8_PREFIX):
        return None
    private = der[len(PKCS8_PREFIX) : len(PKCS8_PREFIX) + 32]
    rest = der[len(PKCS8_PREFIX) + 32 :]
    if not rest.startswith(PKCS8_PUBLIC) or not 0 < int.from_bytes(private, "big") < N - 1:
        return None
    public = _on_curve(rest[len(PKCS8_PUBLIC) :])
    return None if public is None else (private, public)


def _on_curve(public: bytes) -> bytes | None:
    lib = _lib()
    try:
        return bytes(lib.normalize_sm2_public_key(public))
    except lib.InvalidValueError:
        return None


def parse_public(der: bytes) -> bytes | None:
    """x || y of an SPKI SM2 public key on the curve, or None."""
    if len(der) != len(SPKI_PREFIX) + 64 or not der.startswith(SPKI_PREFIX):
        return None
    return _on_curve(der[len(SPKI_PREFIX) :])


def sign(private: bytes, public: bytes, data: bytes) -> bytes:
    """DER (r, s): SM2 over SM3(Z || data), Z with the default user ID."""
    return bytes(_lib().sm2_sign(private, public, data, signer_id=DEFAULT_ID))


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """GmSSL prints its error trace to file descriptor 2 when a signature does not verify;
    the person reading govnet's one-line message does not need it."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def verify(public: bytes, data: bytes, signature: bytes) -> bool:
    lib = _lib()
    with _quiet_stderr():
        try:
            return bool(lib.sm2_verify(public, data, signature, signer_id=DEFAULT_ID))
        except lib.GmsslInnerError:  # InvalidValueError too: a malformed signature
            return False
