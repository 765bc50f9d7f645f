"""SNMP through pysnmp's asyncio API: the only module that imports pysnmp.

One ``SnmpEngine`` per backend, created on first use on the event loop that uses it; every
request runs under the backend's concurrency limit and an outer ``asyncio.wait_for`` (pysnmp
can hang on unreachable hosts). pysnmp's values become :data:`~govnet.transport.snmp.SnmpValue`
(:func:`convert`) and its errors govnet's (see :mod:`govnet.transport.snmp`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import warnings
from collections.abc import Callable, Sequence
from functools import cache
from types import SimpleNamespace
from typing import Any

from govnet import i18n
from govnet.errors import (
    AuthError,
    ConnectError,
    DeviceTimeout,
    GovnetError,
    ProtocolError,
    TransportError,
)
from govnet.inventory.model import SnmpProfileSpec
from govnet.transport.snmp import (
    DEFAULT_CONCURRENCY,
    SnmpTarget,
    SnmpValue,
    WalkingBackend,
    decode_octets,
    oid_text,
    oid_tuple,
)

# ---------------------------------------------------------------------------------------
# Values


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
                raise AuthError(who, i18n._("SNMP v2c profile has no community; fix the inventory"))
            data = h.CommunityData(profile.community.resolve(f"{who} SNMP community"), mpModel=1)
        else:
            if not profile.user:
                raise AuthError(who, i18n._("SNMP v3 profile has no user; fix the inventory"))
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
                raise AuthError(
                    who, i18n._("SNMP v3 credentials rejected by pysnmp: {exc}", exc=exc)
                ) from exc
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
                target.label,
                i18n._("cannot resolve {host}; check the inventory host", host=target.host),
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
            raise self._timeout(
                target, i18n._("no SNMP reply within {seconds:.1f} s", seconds=deadline)
            ) from exc
        except GovnetError:
            raise
        except _pysnmp().Error as exc:
            raise ProtocolError(
                target.label,
                i18n._("pysnmp refused the request to {where}: {exc}", where=target.where, exc=exc),
            ) from exc
        except Exception as exc:  # pyasn1 raises many kinds on a garbled reply
            raise ProtocolError(
                target.label,
                i18n._(
                    "bad SNMP reply from {where}: {name}: {exc}; check the agent",
                    where=target.where,
                    name=type(exc).__name__,
                    exc=exc,
                ),
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
            i18n._(
                "{what} from {where} ({tries} tries of {timeout:g} s); check that SNMP is "
                "enabled there and that the {hint} and ACL allow this host",
                what=what,
                where=target.where,
                tries=p.retries + 1,
                timeout=p.timeout,
                hint=hint,
            ),
        )

    def _indication(self, target: SnmpTarget, indication: Any) -> TransportError:
        if isinstance(indication, _pysnmp().errind.RequestTimedOut):
            return self._timeout(target, i18n._("no SNMP reply"))
        if isinstance(indication, _auth_indications()):
            return AuthError(
                target.label,
                i18n._(
                    "SNMP v3 authentication failed at {where}: {indication}; check the user, "
                    "protocols and keys of the SNMP profile",
                    where=target.where,
                    indication=indication,
                ),
            )
        return ProtocolError(
            target.label,
            i18n._(
                "SNMP error from {where}: {indication}; check the agent",
                where=target.where,
                indication=indication,
            ),
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
                i18n._(
                    "SNMP agent at {where} refused access ({name}){where2}; check the profile's "
                    "security level and the device's SNMP view",
                    where=target.where,
                    name=name,
                    where2=where,
                ),
            )
        return ProtocolError(
            target.label,
            i18n._(
                "SNMP agent at {where} answered {name}{where2}; check the OID",
                where=target.where,
                name=name,
                where2=where,
            ),
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
                            i18n._(
                                "SNMP agent at {where} returned {current} after {last} (OIDs "
                                "not increasing); the agent is broken",
                                where=target.where,
                                current=oid_text(current),
                                last=oid_text(last),
                            ),
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
            raise ProtocolError(
                target.label, i18n._("{exc} from {where}", exc=exc, where=target.where)
            ) from exc


@cache
def _end_of_mib() -> Any:
    return _pysnmp().rfc1905.EndOfMibView.tagSet
