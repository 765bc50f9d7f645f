"""Probe tokens: who sent a probe, from where, when — signed, so a canary trusts only govnet's.

A token binds the probe run id, the protocol it travels on, the sender's source IP and MAC,
its host name, the time it was issued and a per-packet nonce, under HMAC-SHA256 with a secret
shared by the prober and the canary (given by reference, ``env:NAME`` or ``file:PATH``).

Wire form (version 1), then base32 without padding, lower case (so it survives DNS, whose
resolvers may change the case of a name)::

    0   version          1 byte   (1)
    1   protocol         1 byte   (1 icmp, 2 tcp, 3 dns)
    2   issued           4 bytes  (unix seconds, big-endian)
    6   probe id         8 bytes  (one probe run)
    14  nonce            8 bytes  (one packet)
    22  address family   1 byte   (0 none, 4, 6) + 0/4/16 bytes of source address
    ..  source MAC       6 bytes  (zeros: unknown)
    ..  host             1 byte length + up to 32 bytes of UTF-8
    ..  tag              16 bytes (HMAC-SHA256 of everything above, truncated to 128 bits)

The tag is truncated to 128 bits (as HMAC-SHA-256-128 in RFC 4868) so a token fits in one DNS
name of ~100 characters; forging it is still a 2^-128 guess.

:class:`Verifier` rejects, in this order, tokens that are missing or malformed
(:class:`UnsignedToken`), carry a wrong tag (:class:`ForgedToken`), are older than
``max_age`` or from the future beyond ``skew`` (:class:`ExpiredToken`), and tokens already
seen (:class:`ReplayedToken`, by their id in a :class:`ReplayCache`; govnet's is the store).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from hashlib import sha256
from typing import Any, Protocol

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.secrets import SecretRef

VERSION = 1
TAG_BYTES = 16
HOST_MAX = 32
MIN_SECRET = 16  # bytes: shorter shared secrets are refused
_HEAD = struct.Struct(">BBI8s8s")


class ProbeProtocol(StrEnum):
    ICMP = "icmp"
    TCP = "tcp"
    DNS = "dns"

    def __str__(self) -> str:
        return self.value


PROTOCOLS = (ProbeProtocol.ICMP, ProbeProtocol.TCP, ProbeProtocol.DNS)
_CODE = {ProbeProtocol.ICMP: 1, ProbeProtocol.TCP: 2, ProbeProtocol.DNS: 3}
_PROTO = {v: k for k, v in _CODE.items()}


class ProbeError(GovnetError):
    """A probe or canary cannot run (no privilege, bad secret, bad listen address): exit 2."""


class TokenRejected(Exception):
    """A token the canary does not count. ``reason`` is one of the class names' short forms."""

    reason = "rejected"

    def __init__(self, message: str, token: Token | None = None) -> None:
        super().__init__(message)
        self.token = token


class UnsignedToken(TokenRejected):
    reason = "unsigned"


class ForgedToken(TokenRejected):
    reason = "forged"


class ExpiredToken(TokenRejected):
    reason = "expired"


class ReplayedToken(TokenRejected):
    reason = "replayed"


IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Token:
    """What one probe packet claims about itself (trusted only once verified)."""

    probe_id: str  # 16 hex digits: one probe run
    nonce: str  # 16 hex digits: one packet
    protocol: ProbeProtocol
    issued: int  # unix seconds
    src_ip: IPAddr | None = None
    src_mac: str | None = None  # aa:bb:cc:dd:ee:ff
    host: str = ""

    @property
    def id(self) -> str:
        return f"{self.probe_id}-{self.nonce}"

    @property
    def issued_at(self) -> datetime:
        return datetime.fromtimestamp(self.issued, UTC)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "probe_id": self.probe_id,
            "protocol": self.protocol.value,
            "issued": self.issued_at.isoformat(),
            "src_ip": str(self.src_ip) if self.src_ip else None,
            "src_mac": self.src_mac,
            "host": self.host,
        }


def new_id() -> str:
    """A fresh 64-bit random id (probe ids and nonces), 16 hex digits."""
    return secrets.token_hex(8)


def _host_bytes(host: str) -> bytes:
    raw = host.encode("utf-8")[:HOST_MAX]
    return raw.decode("utf-8", "ignore").encode("utf-8")  # never cut a character in half


def _mac_bytes(mac: str | None) -> bytes:
    if not mac:
        return bytes(6)
    digits = mac.replace(":", "").replace("-", "").replace(".", "")
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raise ValueError(f"bad MAC address {mac!r}") from None
    if len(raw) != 6:
        raise ValueError(f"bad MAC address {mac!r}")
    return raw


class TokenCodec:
    """Signs and reads tokens with one shared secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET:
            raise ProbeError(
                _(
                    "the probe secret is {n_secret} bytes; use at least {min_secret} (e.g. "
                    "'openssl rand -hex 32 > probe.secret')",
                    n_secret=len(secret),
                    min_secret=MIN_SECRET,
                )
            )
        self._secret = secret

    @classmethod
    def from_ref(cls, ref: str | SecretRef) -> TokenCodec:
        """From ``env:NAME`` or ``file:PATH`` (via :mod:`govnet.secrets`; never plain text)."""
        if isinstance(ref, str):
            try:
                ref = SecretRef.parse(ref)
            except ValueError as exc:
                raise ProbeError(_("--secret: {exc}", exc=exc)) from None
        return cls(ref.resolve("probe secret").encode("utf-8"))

    @property
    def key_id(self) -> str:
        """A public fingerprint of the secret (HMAC of a constant): prober and canary compare
        it through the store, so a canary with another secret is never taken as listening."""
        return hmac.new(self._secret, b"govnet-probe key id", sha256).hexdigest()[:16]

    def _tag(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, sha256).digest()[:TAG_BYTES]

    # -- writing ------------------------------------------------------------------------

    def issue(
        self,
        probe_id: str,
        protocol: ProbeProtocol,
        now: datetime,
        src_ip: IPAddr | None = None,
        src_mac: str | None = None,
        host: str = "",
        nonce: str | None = None,
    ) -> Token:
        """A new token (fresh nonce unless given), its host cut to what the wire carries."""
        return Token(
            probe_id=probe_id,
            nonce=nonce or new_id(),
            protocol=protocol,
            issued=int(now.timestamp()),
            src_ip=src_ip,
            src_mac=src_mac.lower() if src_mac else None,
            host=_host_bytes(host).decode("utf-8"),
        )

    def pack(self, token: Token) -> bytes:
        """The signed binary form."""
        try:
            head = _HEAD.pack(
                VERSION,
                _CODE[token.protocol],
                token.issued,
                bytes.fromhex(token.probe_id),
                bytes.fromhex(token.nonce),
            )
        except (ValueError, struct.error) as exc:
            raise ValueError(f"bad token fields: {exc}") from None
        if token.src_ip is None:
            addr = b"\x00"
        else:
            addr = bytes([token.src_ip.version]) + token.src_ip.packed
        host = _host_bytes(token.host)
        body = head + addr + _mac_bytes(token.src_mac) + bytes([len(host)]) + host
        return body + self._tag(body)

    def encode(self, token: Token) -> str:
        """The text form carried in packets: lower-case base32, no padding."""
        return base64.b32encode(self.pack(token)).decode("ascii").rstrip("=").lower()

    # -- reading ------------------------------------------------------------------------

    def decode(self, text: str | None) -> Token:
        """The token in ``text`` if its tag is right. Raises Unsigned/ForgedToken."""
        if not text:
            raise UnsignedToken("no token in the probe")
        raw = _b32(text)
        if raw is None or len(raw) < _HEAD.size + 1 + 6 + 1 + TAG_BYTES:
            raise UnsignedToken("malformed token")
        body, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(body)):
            raise ForgedToken("bad signature (wrong secret or altered token)")
        try:
            return _unpack(body)
        except (ValueError, KeyError, struct.error, IndexError) as exc:
            # signed by someone holding the secret, yet not a token this version writes
            raise ForgedToken(f"signed but malformed token: {exc}") from None


def _b32(text: str) -> bytes | None:
    cleaned = text.strip().upper()
    cleaned += "=" * (-len(cleaned) % 8)
    try:
        return base64.b32decode(cleaned)
    except (binascii.Error, ValueError):
        return None


def _unpack(body: bytes) -> Token:
    version, code, issued, probe_id, nonce = _HEAD.unpack_from(body)
    if version != VERSION:
        raise ValueError(f"unknown token version {version}")
    pos = _HEAD.size
    family = body[pos]
    pos += 1
    src_ip: IPAddr | None
    if family == 0:
        src_ip = None
    elif family in (4, 6):
        size = 4 if family == 4 else 16
        src_ip = ipaddress.ip_address(body[pos : pos + size])
        pos += size
    else:
        raise ValueError(f"bad address family {family}")
    mac_raw = body[pos : pos + 6]
    pos += 6
    length = body[pos]
    pos += 1
    host = body[pos : pos + length]
    if len(host) != length or pos + length != len(body):
        raise ValueError("bad length")
    mac = None if mac_raw == bytes(6) else ":".join(f"{b:02x}" for b in mac_raw)
    return Token(
        probe_id=probe_id.hex(),
        nonce=nonce.hex(),
        protocol=_PROTO[code],
        issued=issued,
        src_ip=src_ip,
        src_mac=mac,
        host=host.decode("utf-8"),
    )


class ReplayCache(Protocol):
    """Remembers token ids until they expire."""

    def claim(self, token: Token, expires: datetime, evidence: Any = None) -> bool:
        """Record ``token``'s id (and ``evidence``, atomically); False if it was seen before."""
        ...


class MemoryReplayCache:
    """A replay cache for one process (tests, benches); the canary uses the store's."""

    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}
        self.evidence: list[Any] = []

    def claim(self, token: Token, expires: datetime, evidence: Any = None) -> bool:
        if token.id in self._seen:
            return False
        self._seen[token.id] = expires
        if evidence is not None:
            self.evidence.append(evidence)
        return True

    def prune(self, now: datetime) -> int:
        old = [k for k, v in self._seen.items() if v < now]
        for k in old:
            del self._seen[k]
        return len(old)


@dataclass
class Verifier:
    """Decides whether a probe counts: signed, fresh, first seen."""

    codec: TokenCodec
    replay: ReplayCache
    max_age: timedelta = timedelta(minutes=5)
    skew: timedelta = timedelta(seconds=60)  # clocks of prober and canary may differ this much

    def authenticate(self, text: str | None, now: datetime) -> Token:
        """Signature and age; raises Unsigned/Forged/ExpiredToken."""
        token = self.codec.decode(text)
        issued = token.issued_at
        if issued < now - self.max_age:
            raise ExpiredToken(
                f"token issued {issued:%Y-%m-%d %H:%M:%S} UTC, older than {self.max_age}", token
            )
        if issued > now + self.skew:
            raise ExpiredToken(
                f"token issued {issued:%Y-%m-%d %H:%M:%S} UTC is in the future "
                f"(clocks more than {self.skew} apart?)",
                token,
            )
        return token

    def expires(self, token: Token) -> datetime:
        """Until when the token's id must be remembered (afterwards its age rejects it)."""
        return token.issued_at + self.max_age + self.skew

    def claim(self, token: Token, evidence: Any = None) -> None:
        """Record the token as seen; raises ReplayedToken if it was."""
        if not self.replay.claim(token, self.expires(token), evidence):
            raise ReplayedToken(f"token {token.id} was already received", token)

    def verify(self, text: str | None, now: datetime, evidence: Any = None) -> Token:
        """Everything at once: the token if it counts, else a TokenRejected subclass."""
        token = self.authenticate(text, now)
        self.claim(token, evidence)
        return token
