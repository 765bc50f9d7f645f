"""SNMP for govnet: the values, the target, the backend protocol and the one backend factory.

``get``, ``walk`` and ``bulkwalk`` of an :class:`SnmpBackend` return ``{oid: value}`` with
plain Python values (:data:`SnmpValue`). A backend's errors are govnet's, one line naming the
device:

no response (also a wrong v2c community: agents stay silent)   → :class:`DeviceTimeout`
unknown v3 user, wrong auth/priv key, unsupported level,
authorizationError/noAccess from the agent                      → :class:`AuthError`
errorStatus, a malformed or non-increasing reply               → :class:`ProtocolError`
host name that does not resolve                                → :class:`ConnectError`

Credentials are resolved from the profile's :class:`~govnet.secrets.SecretRef` when a request
is made (once per profile per backend, so ``prompt`` asks once).

OCTET STRING values are ``str`` when they read as text (UTF-8, or GB18030 as sent by Chinese
Windows agents) and ``bytes`` otherwise (MAC addresses, binary indexes). Text keeps the bytes it
came from in ``.raw`` (:class:`Text`), so :func:`to_bytes` and :func:`mac_address` are exact
whichever way a value was decoded.

Two implementations give the same values and errors: ``PysnmpBackend``
(:mod:`govnet.transport.snmp_pysnmp`) and ``GufoBackend`` (:mod:`govnet.transport.snmp_gufo`,
~40× faster). :func:`snmp_backend` is the one place that picks and builds one; code that polls
takes a :data:`BackendFactory` (default :func:`snmp_backend`, pysnmp) and closes what it made.
There is no process-wide default backend: a backend belongs to the event loop it runs on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from govnet.errors import GovnetError, TransportError
from govnet.i18n import _
from govnet.inventory.model import Device, SnmpProfileSpec, normalize_mac

SnmpValue = int | str | bytes | None
"""int (INTEGER, Counter32/64, Gauge32, TimeTicks), str (text, IpAddress, OID), bytes
(binary OCTET STRING, Opaque), None (noSuchObject / noSuchInstance / NULL)."""

DEFAULT_CONCURRENCY = 64
DEFAULT_MAX_REPETITIONS = 25


# ---------------------------------------------------------------------------------------
# Values


class Text(str):
    """An OCTET STRING that reads as text; ``raw`` keeps the bytes that came on the wire."""

    raw: bytes

    def __new__(cls, text: str, raw: bytes) -> Text:
        self = super().__new__(cls, text)
        self.raw = raw
        return self

    def __getnewargs__(self) -> tuple[str, bytes]:  # type: ignore[override]
        return str(self), self.raw


def _is_text(text: str) -> bool:
    # str.isprintable() first: a name or description is printable all through (C speed)
    return text.isprintable() or all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def decode_octets(raw: bytes) -> str | bytes:
    """Text if the bytes read as printable UTF-8 (or GB18030), else the bytes themselves.

    Trailing NULs (C strings from some agents) are dropped from text.
    """
    body = raw.rstrip(b"\x00")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = body.decode("gb18030")
        except UnicodeDecodeError:
            return raw
    if body and not _is_text(text):
        return raw
    if not body and raw:
        return raw  # all NULs: binary
    return Text(text, raw)


def to_bytes(value: SnmpValue) -> bytes:
    """The octets behind a value (exact for :class:`Text`; UTF-8 for other str)."""
    if isinstance(value, Text):
        return value.raw
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"not an OCTET STRING value: {value!r}")


def mac_address(value: SnmpValue) -> str | None:
    """A PhysAddress value (6 octets, or text like ``aabb-ccdd-eeff``) → ``aa:bb:cc:dd:ee:ff``."""
    if value is None or isinstance(value, int):
        return None
    raw = to_bytes(value)
    if len(raw) == 6:
        return ":".join(f"{b:02x}" for b in raw)
    try:
        return normalize_mac(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


def oid_text(oid: Sequence[int] | str) -> str:
    """``(1, 3, 6)`` or ``".1.3.6"`` → ``"1.3.6"``."""
    if isinstance(oid, str):
        return oid.strip().lstrip(".")
    return ".".join(str(arc) for arc in oid)


def oid_tuple(oid: str) -> tuple[int, ...]:
    try:
        return tuple(int(arc) for arc in oid_text(oid).split("."))
    except ValueError:
        raise ValueError(
            _("bad OID {oid!r} (expected dotted numbers like 1.3.6.1.2.1.1.1.0)", oid=oid)
        ) from None


# ---------------------------------------------------------------------------------------
# Targets and the backend protocol


@dataclass(frozen=True)
class SnmpTarget:
    """Where and how to ask: credentials stay references until a request is made."""

    host: str
    port: int
    profile: SnmpProfileSpec
    name: str = ""  # the device, for messages; defaults to host

    @classmethod
    def for_device(cls, device: Device) -> SnmpTarget:
        if device.snmp is None:
            raise TransportError(
                device.name, _("has no SNMP profile; set snmp_profile in the inventory")
            )
        return cls(device.host, device.snmp_port, device.snmp, device.name)

    @property
    def label(self) -> str:
        return self.name or self.host

    @property
    def where(self) -> str:
        return f"udp {self.host}:{self.port}"


class SnmpBackend(Protocol):
    """What collectors need from an SNMP client."""

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> dict[str, SnmpValue]:
        """Values of exactly these OIDs (None where the agent has no such object/instance)."""
        ...

    async def walk(self, target: SnmpTarget, oid: str) -> dict[str, SnmpValue]:
        """Every OID under ``oid`` with GETNEXT, in agent order."""
        ...

    async def bulkwalk(
        self, target: SnmpTarget, oid: str, max_repetitions: int = DEFAULT_MAX_REPETITIONS
    ) -> dict[str, SnmpValue]:
        """Every OID under ``oid`` with GETBULK (SNMPv2c/v3)."""
        ...

    async def bulkwalk_many(
        self,
        target: SnmpTarget,
        oids: Sequence[str],
        max_repetitions: int = DEFAULT_MAX_REPETITIONS,
    ) -> list[dict[str, SnmpValue]]:
        """:meth:`bulkwalk` of each of ``oids`` in turn (one result per OID, in order): the
        same requests, with the per-operation bookkeeping (slot, session, timeout) once."""
        ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------------------------------
# Shared by the implementations


class WalkingBackend:
    """``walk`` and ``bulkwalk`` for backends that implement one ``_walk``
    (``max_repetitions`` None = GETNEXT, else GETBULK)."""

    async def _walk(
        self, target: SnmpTarget, oid: str, max_repetitions: int | None
    ) -> dict[str, SnmpValue]:
        raise NotImplementedError

    async def walk(self, target: SnmpTarget, oid: str) -> dict[str, SnmpValue]:
        return await self._walk(target, oid, None)

    async def bulkwalk(
        self, target: SnmpTarget, oid: str, max_repetitions: int = DEFAULT_MAX_REPETITIONS
    ) -> dict[str, SnmpValue]:
        if max_repetitions < 1:
            raise ValueError(_("max_repetitions must be at least 1"))
        return await self._walk(target, oid, max_repetitions)

    async def bulkwalk_many(
        self,
        target: SnmpTarget,
        oids: Sequence[str],
        max_repetitions: int = DEFAULT_MAX_REPETITIONS,
    ) -> list[dict[str, SnmpValue]]:
        return [await self.bulkwalk(target, oid, max_repetitions) for oid in oids]


# ---------------------------------------------------------------------------------------
# The factory

BACKENDS = ("auto", "gufo", "pysnmp")
BackendFactory = Callable[[], "SnmpBackend"]


def snmp_backend(name: str = "pysnmp", concurrency: int = DEFAULT_CONCURRENCY) -> SnmpBackend:
    """A new backend: ``gufo`` (fast; ``auto`` picks it when installed) or ``pysnmp``.

    At most ``concurrency`` requests in flight. Create it on the event loop that uses it and
    ``await backend.close()`` before that loop ends."""
    if name in ("gufo", "auto"):
        try:
            from govnet.transport.snmp_gufo import GufoBackend
        except ImportError as exc:
            if name == "gufo":
                raise GovnetError(
                    _("--backend gufo: gufo-snmp is not installed (pip install gufo-snmp)")
                ) from exc
        else:
            return GufoBackend(max_concurrency=concurrency)
    if name in ("pysnmp", "auto"):
        from govnet.transport.snmp_pysnmp import PysnmpBackend

        return PysnmpBackend(max_concurrency=concurrency)
    raise GovnetError(_("unknown SNMP backend {name!r} (known: gufo, pysnmp)", name=name))
