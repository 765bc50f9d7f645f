"""SNMP to devices through pysnmp's asyncio API: the only client-side module that imports pysnmp.

``get``, ``walk`` and ``bulkwalk`` return ``{oid: value}`` with plain Python values (see
:func:`convert`). One ``SnmpEngine`` per process and event loop, created on first use; every
request runs under a concurrency limit and an outer ``asyncio.wait_for`` (pysnmp can hang on
unreachable hosts). pysnmp's errors become govnet's, one line naming the device:

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

The backend is a small Protocol (:class:`SnmpBackend`) with two implementations, the same
values and errors either way: :class:`PysnmpBackend` here and ``GufoBackend``
(:mod:`govnet.transport.snmp_gufo`, ~40× faster). The poller of govnetd uses gufo-snmp by
default when it is installed (``--backend auto``); the module-level :func:`get` / :func:`walk`
use pysnmp unless :func:`set_default_backend` says otherwise.
"""

from __future__ import annotations

import asyncio
import ipaddress
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any, Protocol

from govnet.errors import (
    AuthError,
    ConnectError,
    DeviceTimeout,
    GovnetError,
    ProtocolError,
    TransportError,
)
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
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


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
            f"bad OID {oid!r} (expected dotted numbers like 1.3.6.1.2.1.1.1.0)"
        ) from None


@cache
def _converters() -> dict[Any, Callable[[Any], SnmpValue]]:
    rfc1902, rfc1905, univ = _pysnmp().rfc1902, _pysnmp().rfc1905, _pysnmp().univ

    def none(_: Any) -> None:
        return None

    return {
        rfc1902.Integer32.tagSet: int,
        rfc1902.Counter32.tagSet: int,
        rfc1902.Gauge32.tagSet: int,
        rfc1902.TimeTicks.tagSet: int,
        rfc1902.Counter64.tagSet: int,
        rfc1902.OctetString.tagSet: lambda v: decode_octets(v.asOctets()),
        rfc1902.IpAddress.tagSet: lambda v: str(ipaddress.IPv4Address(v.asOctets())),
        rfc1902.ObjectIdentifier.tagSet: lambda v: ".".join(map(str, v.asTuple())),
        rfc1902.Opaque.tagSet: lambda v: v.asOctets(),
        univ.Null.tagSet: none,
        rfc1905.NoSuchObject.tagSet: none,
        rfc1905.NoSuchInstance.tagSet: none,
        rfc1905.EndOfMibView.tagSet: none,
    }


def convert(value: Any) -> SnmpValue:
    """A pysnmp value → :data:`SnmpValue`."""
    try:
        return _converters()[value.tagSet](value)
    except KeyError:
        raise ValueError(f"unexpected SNMP value type {type(value).__name__}") from None


# ---------------------------------------------------------------------------------------
# pysnmp, imported on first use (it takes a while, and pysmi warns on import)


@cache
def _pysnmp() -> SimpleNamespace:
    with warnings.catch_warnings():
        # pysmi 2 still calls its own deprecated camelCase names when pysnmp imports it
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pysmi\.")
        warnings.filterwarnings("ignore", message=r".* is deprecated\. Please use ")
        from pyasn1.type import univ
        from pysnmp.entity.rfc3413 import cmdgen
        from pysnmp.error import PySnmpError
        from pysnmp.hlapi.v3arch import asyncio as hlapi
        from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
        from pysnmp.proto import errind, rfc1902, rfc1905
    return SimpleNamespace(
        hlapi=hlapi,
        cmdgen=cmdgen,
        lcd=CommandGeneratorLcdConfigurator(),
        errind=errind,
        rfc1902=rfc1902,
        rfc1905=rfc1905,
        univ=univ,
        Error=PySnmpError,
    )


def _auth_protocols() -> dict[str, Any]:
    h = _pysnmp().hlapi
    return {
        "md5": h.USM_AUTH_HMAC96_MD5,
        "sha": h.USM_AUTH_HMAC96_SHA,
        "sha224": h.USM_AUTH_HMAC128_SHA224,
        "sha256": h.USM_AUTH_HMAC192_SHA256,
        "sha384": h.USM_AUTH_HMAC256_SHA384,
        "sha512": h.USM_AUTH_HMAC384_SHA512,
    }


def _priv_protocols() -> dict[str, Any]:
    h = _pysnmp().hlapi
    return {
        "des": h.USM_PRIV_CBC56_DES,
        "aes": h.USM_PRIV_CFB128_AES,
        "aes128": h.USM_PRIV_CFB128_AES,
        # net-snmp's AES192/AES256 (Blumenthal key extension), as the lab agents speak
        "aes192": h.USM_PRIV_CFB192_AES_BLUMENTHAL,
        "aes256": h.USM_PRIV_CFB256_AES_BLUMENTHAL,
    }


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
                device.name, "has no SNMP profile; set snmp_profile in the inventory"
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
        self, target: SnmpTarget, oids: Sequence[str],
        max_repetitions: int = DEFAULT_MAX_REPETITIONS,
    ) -> list[dict[str, SnmpValue]]:  # fmt: skip
        """:meth:`bulkwalk` of each of ``oids`` in turn (one result per OID, in order): the
        same requests, with the per-operation bookkeeping (slot, session, timeout) once."""
        ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------------------------------
# pysnmp implementation


@cache
def _auth_indications() -> tuple[type[Exception], ...]:
    """pysnmp's error indications that mean "your credentials are wrong"."""
    e = _pysnmp().errind
    return (
        e.UnknownUserName,
        e.WrongDigest,
        e.UnsupportedSecurityLevel,
        e.DecryptionError,
        e.AuthenticationError,
        e.AuthenticationFailure,
        e.UnknownSecurityName,
        e.NotInTimeWindow,
        e.UnsupportedAuthProtocol,
        e.UnsupportedPrivProtocol,
        e.NoEncryption,
        e.NoAuthentication,
    )


_AUTH_STATUS = frozenset({6, 16})  # noAccess, authorizationError


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
            raise ValueError("max_repetitions must be at least 1")
        return await self._walk(target, oid, max_repetitions)

    async def bulkwalk_many(
        self, target: SnmpTarget, oids: Sequence[str],
        max_repetitions: int = DEFAULT_MAX_REPETITIONS,
    ) -> list[dict[str, SnmpValue]]:  # fmt: skip
        return [await self.bulkwalk(target, oid, max_repetitions) for oid in oids]


class PysnmpBackend(WalkingBackend):
    """:class:`SnmpBackend` on pysnmp 7's asyncio API: one engine, bounded concurrency.

    ``grace`` is added to the profile's own timeout × tries for the outer ``wait_for``.
    """

    def __init__(self, max_concurrency: int = DEFAULT_CONCURRENCY, grace: float = 1.0) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self.grace = grace
        self._engine: Any = None
        self._semaphore: asyncio.Semaphore | None = None
        self._auth: dict[SnmpProfileSpec, Any] = {}
        self._generators: dict[str, Any] = {}
        self._transports: dict[tuple[str, int, float, int], Any] = {}

    # plumbing -------------------------------------------------------------------------

    def _engine_for_loop(self) -> Any:
        if self._engine is None:
            p = _pysnmp()
            self._engine = p.hlapi.SnmpEngine()
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
            self._generators = {
                "get": p.cmdgen.GetCommandGenerator(),
                "next": p.cmdgen.NextCommandGeneratorSingleRun(),
                "bulk": p.cmdgen.BulkCommandGeneratorSingleRun(),
            }
        return self._engine

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close_dispatcher()
            await asyncio.sleep(0)

    def _auth_data(self, target: SnmpTarget) -> Any:
        profile = target.profile
        cached = self._auth.get(profile)
        if cached is not None:
            return cached
        h = _pysnmp().hlapi
        who = target.label
        if profile.version == "2c":
            if profile.community is None:
                raise AuthError(who, "SNMP v2c profile has no community; fix the inventory")
            data = h.CommunityData(profile.community.resolve(f"{who} SNMP community"), mpModel=1)
        else:
            if not profile.user:
                raise AuthError(who, "SNMP v3 profile has no user; fix the inventory")
            auth_key = priv_key = None
            auth_proto = h.USM_AUTH_NONE
            priv_proto = h.USM_PRIV_NONE
            if profile.auth_protocol and profile.auth_key:
                auth_key = profile.auth_key.resolve(f"{who} SNMP auth key")
                auth_proto = _auth_protocols()[profile.auth_protocol]
            if profile.priv_protocol and profile.priv_key:
                priv_key = profile.priv_key.resolve(f"{who} SNMP priv key")
                priv_proto = _priv_protocols()[profile.priv_protocol]
            try:
                data = h.UsmUserData(
                    profile.user,
                    authKey=auth_key,
                    privKey=priv_key,
                    authProtocol=auth_proto,
                    privProtocol=priv_proto,
                )
            except _pysnmp().Error as exc:
                raise AuthError(who, f"SNMP v3 credentials rejected by pysnmp: {exc}") from exc
        self._auth[profile] = data
        return data

    async def _transport(self, target: SnmpTarget) -> Any:
        """pysnmp's transport target, resolved once per address (not once per PDU)."""
        p = target.profile
        key = (target.host, target.port, p.timeout, p.retries)
        cached = self._transports.get(key)
        if cached is not None:
            return cached
        try:
            transport = await _pysnmp().hlapi.UdpTransportTarget.create(
                (target.host, target.port), timeout=p.timeout, retries=p.retries
            )
        except _pysnmp().Error as exc:
            raise ConnectError(
                target.label, f"cannot resolve {target.host}; check the inventory host"
            ) from exc
        self._transports[key] = transport
        return transport

    def _deadline(self, target: SnmpTarget) -> float:
        p = target.profile
        return p.timeout * (p.retries + 1) + self.grace

    def _send(self, target: SnmpTarget, transport: Any, kind: str, args: tuple[Any, ...]) -> Any:
        """Hand one request to pysnmp's command generator; a future for its callback.

        hlapi's ``get_cmd``/``bulk_cmd`` are bypassed on purpose: they resolve every OID
        through a MIB view (which loads pysmi's compiler, with network MIB sources), and
        collectors pass numeric OIDs anyway.
        """
        p = _pysnmp()
        engine = self._engine_for_loop()
        auth = self._auth_data(target)
        addr_name, _ = p.lcd.configure(engine, auth, transport, b"")
        future: asyncio.Future[tuple[Any, Any, Any, Any]] = (
            asyncio.get_running_loop().create_future()
        )

        def done(
            _engine: Any, _handle: Any, indication: Any, status: Any, index: Any, vbs: Any, _: Any
        ) -> None:
            if not future.done():
                future.set_result((indication, status, index, vbs))

        generator = self._generators[kind]
        generator.send_varbinds(engine, addr_name, None, b"", *args, done)
        return future

    async def _request(self, target: SnmpTarget, kind: str, *args: Any) -> list[tuple[Any, Any]]:
        """One PDU exchange with error translation; returns the raw varbinds."""
        transport = await self._transport(target)
        deadline = self._deadline(target)
        try:
            result = await asyncio.wait_for(self._send(target, transport, kind, args), deadline)
        except TimeoutError as exc:
            raise self._timeout(target, f"no SNMP reply within {deadline:.1f} s") from exc
        except GovnetError:
            raise
        except _pysnmp().Error as exc:
            raise ProtocolError(
                target.label, f"pysnmp refused the request to {target.where}: {exc}"
            ) from exc
        except Exception as exc:  # pyasn1 raises many kinds on a garbled reply
            raise ProtocolError(
                target.label,
                f"bad SNMP reply from {target.where}: {type(exc).__name__}: {exc}; check the agent",
            ) from exc
        error_indication, error_status, error_index, varbinds = result
        if error_indication:
            raise self._indication(target, error_indication) from error_indication
        if error_status:
            raise self._status(target, error_status, error_index, varbinds)
        return list(varbinds)

    def _timeout(self, target: SnmpTarget, what: str) -> DeviceTimeout:
        p = target.profile
        hint = "community" if p.version == "2c" else "v3 user"
        return DeviceTimeout(
            target.label,
            f"{what} from {target.where} ({p.retries + 1} tries of {p.timeout:g} s); check "
            f"that SNMP is enabled there and that the {hint} and ACL allow this host",
        )

    def _indication(self, target: SnmpTarget, indication: Any) -> TransportError:
        if isinstance(indication, _pysnmp().errind.RequestTimedOut):
            return self._timeout(target, "no SNMP reply")
        if isinstance(indication, _auth_indications()):
            return AuthError(
                target.label,
                f"SNMP v3 authentication failed at {target.where}: {indication}; "
                "check the user, protocols and keys of the SNMP profile",
            )
        return ProtocolError(
            target.label, f"SNMP error from {target.where}: {indication}; check the agent"
        )

    @staticmethod
    def _status(target: SnmpTarget, status: Any, index: Any, varbinds: Any) -> TransportError:
        code = int(status)
        name = status.prettyPrint() if hasattr(status, "prettyPrint") else str(code)
        where = ""
        if varbinds and 0 < int(index) <= len(varbinds):
            where = f" at {oid_text(varbinds[int(index) - 1][0].asTuple())}"
        if code in _AUTH_STATUS:
            return AuthError(
                target.label,
                f"SNMP agent at {target.where} refused access ({name}){where}; check the "
                "profile's security level and the device's SNMP view",
            )
        return ProtocolError(
            target.label, f"SNMP agent at {target.where} answered {name}{where}; check the OID"
        )

    @staticmethod
    def _varbinds(oids: Sequence[tuple[int, ...]]) -> list[tuple[Any, Any]]:
        p = _pysnmp()
        return [(p.rfc1902.ObjectName(o), p.univ.Null("")) for o in oids]

    # operations ------------------------------------------------------------------------

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> dict[str, SnmpValue]:
        if not oids:
            return {}
        names = [oid_tuple(o) for o in oids]
        self._engine_for_loop()
        assert self._semaphore is not None
        async with self._semaphore:
            varbinds = await self._request(target, "get", self._varbinds(names))
        return self._values(target, varbinds)

    async def _walk(
        self, target: SnmpTarget, oid: str, max_repetitions: int | None
    ) -> dict[str, SnmpValue]:
        root = oid_tuple(oid)
        n = len(root)
        out: dict[str, SnmpValue] = {}
        last = root
        self._engine_for_loop()
        assert self._semaphore is not None
        async with self._semaphore:
            while True:
                if max_repetitions is None:
                    varbinds = await self._request(target, "next", self._varbinds([last]))
                else:
                    varbinds = await self._request(
                        target, "bulk", 0, max_repetitions, self._varbinds([last])
                    )
                if not varbinds:
                    return out
                for name, value in varbinds:
                    current = name.asTuple()
                    if current[:n] != root or value.tagSet == _end_of_mib():
                        return out
                    if current <= last:
                        raise ProtocolError(
                            target.label,
                            f"SNMP agent at {target.where} returned {oid_text(current)} after "
                            f"{oid_text(last)} (OIDs not increasing); the agent is broken",
                        )
                    out[oid_text(current)] = self._convert(target, value)
                    last = current

    def _values(self, target: SnmpTarget, varbinds: list[tuple[Any, Any]]) -> dict[str, SnmpValue]:
        return {oid_text(name.asTuple()): self._convert(target, value) for name, value in varbinds}

    @staticmethod
    def _convert(target: SnmpTarget, value: Any) -> SnmpValue:
        try:
            return convert(value)
        except ValueError as exc:
            raise ProtocolError(target.label, f"{exc} from {target.where}") from exc


@cache
def _end_of_mib() -> Any:
    return _pysnmp().rfc1905.EndOfMibView.tagSet


# ---------------------------------------------------------------------------------------
# Module-level API: one backend (one engine) per event loop

# typed as the Protocol, so mypy checks that PysnmpBackend satisfies SnmpBackend
BACKEND_FACTORY: Callable[[], SnmpBackend] = PysnmpBackend
_BACKENDS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SnmpBackend] = (
    weakref.WeakKeyDictionary()
)


def default_backend() -> SnmpBackend:
    """The running loop's backend, created on first use."""
    loop = asyncio.get_running_loop()
    backend = _BACKENDS.get(loop)
    if backend is None:
        backend = _BACKENDS[loop] = BACKEND_FACTORY()
    return backend


def set_default_backend(backend: SnmpBackend) -> SnmpBackend | None:
    """Use ``backend`` for this loop (a configured concurrency limit, another client).

    Returns the backend it replaces, which the caller should ``close()`` if it was used.
    """
    loop = asyncio.get_running_loop()
    previous = _BACKENDS.get(loop)
    _BACKENDS[loop] = backend
    return previous


async def close() -> None:
    """Close the running loop's backend (its sockets); call before the loop ends."""
    backend = _BACKENDS.pop(asyncio.get_running_loop(), None)
    if backend is not None:
        await backend.close()


async def get(target: SnmpTarget, oids: Sequence[str]) -> dict[str, SnmpValue]:
    return await default_backend().get(target, oids)


async def walk(target: SnmpTarget, oid: str) -> dict[str, SnmpValue]:
    return await default_backend().walk(target, oid)


async def bulkwalk(
    target: SnmpTarget, oid: str, max_repetitions: int = DEFAULT_MAX_REPETITIONS
) -> dict[str, SnmpValue]:
    return await default_backend().bulkwalk(target, oid, max_repetitions)
