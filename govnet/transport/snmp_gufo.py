"""SNMP through gufo-snmp (Rust, asyncio): the fast :class:`~govnet.transport.snmp.SnmpBackend`.

The only module that imports gufo. pysnmp 7 decodes ~4k varbinds per CPU-second; gufo-snmp
decodes in Rust (measured ~40× more, on par with net-snmp: ``bench/poll_bench.py``), which is
what lets one poller keep a thousand devices on a 60 s schedule. Same values, same errors and
the same targets as :class:`~govnet.transport.snmp_pysnmp.PysnmpBackend`:

no response (also a wrong v2c community)              → :class:`DeviceTimeout`
v3 authentication failure, unknown user, wrong keys   → :class:`AuthError`
a reply gufo cannot decode, an agent that loops       → :class:`ProtocolError`
host name that does not resolve, socket errors        → :class:`ConnectError`

How it differs underneath:

- one UDP socket (``SnmpSession``) per target, kept in an LRU of ``max_sessions`` (half the
  file descriptor limit: :func:`session_budget`); requests
  to one target are serialised (a session matches replies by request id and drops others),
  requests to different targets run concurrently up to ``max_concurrency``;
- gufo sends each PDU once and waits ``timeout``; govnet adds the profile's ``retries``: a
  GET is re-sent, a walk is restarted from its first OID (the walk's PDUs are not exposed);
- SNMPv3: the engine is discovered when the session opens, and re-synchronised (``refresh``)
  when it was last done more than ``V3_RESYNC`` seconds ago or the agent reports the request
  outside its time window;
- OCTET STRING values go through :func:`~govnet.transport.snmp.decode_octets` as pysnmp's
  do (text as :class:`~govnet.transport.snmp.Text`, binary as ``bytes``); gufo gives
  IpAddress and OBJECT IDENTIFIER as dotted text, like pysnmp's conversion does; an Opaque
  float (which pysnmp leaves as bytes) becomes its ``str``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import resource
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from gufo.snmp import (
    Aes128Key,
    Aes192Key,
    Aes256Key,
    DesKey,
    KeyExpansion,
    Md5Key,
    NoSuchInstance,
    Sha1Key,
    Sha224Key,
    Sha256Key,
    Sha384Key,
    Sha512Key,
    SnmpAuthError,
    SnmpError,
    User,
)
from gufo.snmp._fast import GetIter  # gufo-snmp 0.13's request context (see _Pager)
from gufo.snmp.aio.client import SnmpSession

from govnet import i18n
from govnet.errors import AuthError, ConnectError, DeviceTimeout, ProtocolError, TransportError
from govnet.inventory.model import SnmpProfileSpec
from govnet.transport.snmp import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_REPETITIONS,
    SnmpTarget,
    SnmpValue,
    WalkingBackend,
    decode_octets,
    oid_text,
    oid_tuple,
)

V3_RESYNC = 120.0  # seconds; agents accept ±150 s (RFC 3414 time window)

_AUTH_KEYS = {
    "md5": Md5Key,
    "sha": Sha1Key,
    "sha224": Sha224Key,
    "sha256": Sha256Key,
    "sha384": Sha384Key,
    "sha512": Sha512Key,
}
_PRIV_KEYS = {
    "des": DesKey,
    "aes": Aes128Key,
    "aes128": Aes128Key,
    "aes192": Aes192Key,
    "aes256": Aes256Key,
}

T = TypeVar("T")


def convert(value: Any) -> SnmpValue:
    """A gufo value → :data:`~govnet.transport.snmp.SnmpValue`."""
    if isinstance(value, bytes):
        return decode_octets(value)
    if value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return str(value)
    raise ValueError(f"unexpected SNMP value type {type(value).__name__}")


@dataclass
class _Session:
    session: SnmpSession
    v3: bool
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    synced: float | None = None  # monotonic time of the last v3 engine synchronisation


def session_budget() -> int:
    """How many sockets the session cache may keep open: half the process's file descriptor
    limit (the rest for the store, logs, the exporter), raised first to its hard limit (up to
    65,536) as daemons do. A poller whose devices all fit keeps one socket per device; past
    that the least recently used is closed and a new one opened at its next poll (an SNMPv3
    session then discovers the agent's engine again)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard if hard != resource.RLIM_INFINITY else 65536, 65536)
    if soft != resource.RLIM_INFINITY and soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
    limit = 65536 if soft == resource.RLIM_INFINITY else soft
    return max(256, limit // 2)


class GufoBackend(WalkingBackend):
    """:class:`~govnet.transport.snmp.SnmpBackend` on gufo-snmp."""

    def __init__(
        self,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        grace: float = 1.0,
        max_sessions: int | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self.grace = grace
        self.max_sessions = max(1, max_sessions or session_budget())
        self._semaphore: asyncio.Semaphore | None = None
        self._sessions: OrderedDict[tuple[str, int, SnmpProfileSpec], _Session] = OrderedDict()
        self._opening: dict[tuple[str, int, SnmpProfileSpec], asyncio.Lock] = {}
        self._addresses: dict[str, str] = {}
        self._credentials: dict[SnmpProfileSpec, tuple[str, User | None]] = {}

    async def close(self) -> None:
        self._sessions.clear()  # gufo closes a session's socket when it is collected
        self._opening.clear()
        await asyncio.sleep(0)

    # plumbing -------------------------------------------------------------------------

    def _credentials_for(self, target: SnmpTarget) -> tuple[str, User | None]:
        profile = target.profile
        cached = self._credentials.get(profile)
        if cached is not None:
            return cached
        who = target.label
        if profile.version == "2c":
            if profile.community is None:
                raise AuthError(who, i18n._("SNMP v2c profile has no community; fix the inventory"))
            creds: tuple[str, User | None] = (
                profile.community.resolve(f"{who} SNMP community"),
                None,
            )
        else:
            if not profile.user:
                raise AuthError(who, i18n._("SNMP v3 profile has no user; fix the inventory"))
            auth = priv = None
            if profile.auth_protocol and profile.auth_key:
                secret = profile.auth_key.resolve(f"{who} SNMP auth key").encode()
                auth = _AUTH_KEYS[profile.auth_protocol](secret)
            if profile.priv_protocol and profile.priv_key:
                secret = profile.priv_key.resolve(f"{who} SNMP priv key").encode()
                priv = _PRIV_KEYS[profile.priv_protocol](secret)
            try:
                # net-snmp's AES192/256 key extension (Blumenthal), as the pysnmp backend
                user = User(
                    profile.user,
                    auth_key=auth,
                    priv_key=priv,
                    key_expansion=KeyExpansion.Blumenthal,
                )
            except ValueError as exc:
                raise AuthError(
                    who, i18n._("SNMP v3 credentials rejected by gufo-snmp: {exc}", exc=exc)
                ) from exc
            creds = ("", user)
        self._credentials[profile] = creds
        return creds

    async def _address(self, target: SnmpTarget) -> str:
        host = target.host
        cached = self._addresses.get(host)
        if cached is not None:
            return cached
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, target.port, type=socket.SOCK_DGRAM
                )
            except OSError as exc:
                raise ConnectError(
                    target.label,
                    i18n._("cannot resolve {host}; check the inventory host", host=host),
                ) from exc
            address = str(infos[0][4][0])
        self._addresses[host] = address
        return address

    async def _session(self, target: SnmpTarget) -> _Session:
        key = (target.host, target.port, target.profile)
        found = self._sessions.get(key)
        if found is not None:
            self._sessions.move_to_end(key)
            return found
        lock = self._opening.setdefault(key, asyncio.Lock())
        async with lock:
            found = self._sessions.get(key)
            if found is not None:
                return found
            community, user = self._credentials_for(target)
            address = await self._address(target)
            p = target.profile
            try:
                session = SnmpSession(
                    address,
                    target.port,
                    community=community or "public",
                    user=user,
                    timeout=p.timeout,
                    max_repetitions=DEFAULT_MAX_REPETITIONS,
                )
            except (OSError, ValueError, SnmpError) as exc:
                raise ConnectError(
                    target.label,
                    i18n._(
                        "cannot open an SNMP socket to {where}: {exc}", where=target.where, exc=exc
                    ),
                ) from exc
            entry = _Session(session, v3=user is not None)
            self._sessions[key] = entry
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
            self._opening.pop(key, None)
            return entry

    @staticmethod
    async def _sync(entry: _Session) -> None:
        """v3: discover the engine / re-synchronise boots and time."""
        await entry.session.refresh()
        entry.synced = time.monotonic()

    async def _call(
        self, target: SnmpTarget, op: Callable[[SnmpSession], Awaitable[T]], deadline: float
    ) -> T:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
        p = target.profile
        async with self._semaphore:
            entry = await self._session(target)
            async with entry.lock:
                tries = p.retries + 1
                resynced = False
                while tries > 0:
                    try:
                        if entry.v3 and (
                            entry.synced is None or time.monotonic() - entry.synced > V3_RESYNC
                        ):
                            await asyncio.wait_for(self._sync(entry), deadline)
                        async with asyncio.timeout(deadline):  # no task per call (wait_for's)
                            return await op(entry.session)
                    except TimeoutError:
                        tries -= 1
                        entry.synced = None  # the agent may have restarted: resync first
                    except SnmpAuthError as exc:
                        if entry.v3 and not resynced and entry.synced is not None:
                            resynced, entry.synced = True, None  # outside the time window?
                            continue
                        raise AuthError(
                            target.label,
                            i18n._(
                                "SNMP v3 authentication failed at {where}: {exc}; check the "
                                "user, protocols and keys of the SNMP profile",
                                where=target.where,
                                exc=exc,
                            ),
                        ) from exc
                    except (TransportError, NoSuchInstance):
                        raise
                    except SnmpError as exc:
                        raise ProtocolError(
                            target.label,
                            i18n._(
                                "bad SNMP reply from {where}: {exc}; check the agent",
                                where=target.where,
                                exc=exc,
                            ),
                        ) from exc
                    except OSError as exc:
                        raise ConnectError(
                            target.label,
                            i18n._("SNMP to {where} failed: {exc}", where=target.where, exc=exc),
                        ) from exc
                raise self._timeout(target)

    def _timeout(self, target: SnmpTarget) -> DeviceTimeout:
        p = target.profile
        hint = "community" if p.version == "2c" else "v3 user"
        return DeviceTimeout(
            target.label,
            i18n._(
                "no SNMP reply from {where} ({tries} tries of {timeout:g} s); check that SNMP "
                "is enabled there and that the {hint} and ACL allow this host",
                where=target.where,
                tries=p.retries + 1,
                timeout=p.timeout,
                hint=hint,
            ),
        )

    # operations ------------------------------------------------------------------------

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> dict[str, SnmpValue]:
        if not oids:
            return {}
        names = [oid_text(o) for o in oids]
        for name in names:
            _check_oid(name)  # ValueError on a bad OID, as the pysnmp backend

        async def op(session: SnmpSession) -> dict[str, Any]:
            if not _fast_ok(session):
                return await session.get_many(names)
            sock = session._sock
            with _Pager(session) as pager:
                got: dict[str, Any] = await pager.request(
                    lambda: sock.send_get_many(names), sock.recv_get_many
                )
                return got

        got = await self._call(target, op, target.profile.timeout + self.grace)
        try:
            return {name: convert(got.get(name)) for name in names}
        except ValueError as exc:
            raise ProtocolError(
                target.label, i18n._("{exc} from {where}", exc=exc, where=target.where)
            ) from exc

    async def bulkwalk_many(
        self,
        target: SnmpTarget,
        oids: Sequence[str],
        max_repetitions: int = DEFAULT_MAX_REPETITIONS,
    ) -> list[dict[str, SnmpValue]]:
        """The walks one after another on the target's session under one slot and lock (the
        interfaces set reads six columns a poll)."""
        if max_repetitions < 1:
            raise ValueError("max_repetitions must be at least 1")
        ops = [self._walk_op(target, oid, max_repetitions) for oid in oids]

        async def op(session: SnmpSession) -> list[dict[str, SnmpValue]]:
            if not _fast_ok(session):
                return [await one(session, None) for one in ops]
            with _Pager(session) as pager:  # the socket watched once for all the walks
                return [await one(session, pager) for one in ops]

        deadline = max(60.0, target.profile.timeout * 30) * max(1, len(oids))
        try:
            return await self._call(target, op, deadline)
        except ValueError as exc:
            raise ProtocolError(
                target.label, i18n._("{exc} from {where}", exc=exc, where=target.where)
            ) from exc

    async def _walk(
        self, target: SnmpTarget, oid: str, max_repetitions: int | None
    ) -> dict[str, SnmpValue]:
        walk = self._walk_op(target, oid, max_repetitions)

        async def op(session: SnmpSession) -> dict[str, SnmpValue]:
            if max_repetitions is None or not _fast_ok(session):
                return await walk(session, None)
            with _Pager(session) as pager:
                return await walk(session, pager)

        # a walk is many PDUs, each under gufo's own timeout: the outer bound only has to
        # stop a walk that never ends
        deadline = max(60.0, target.profile.timeout * 30)
        try:
            return await self._call(target, op, deadline)
        except ValueError as exc:
            raise ProtocolError(
                target.label, i18n._("{exc} from {where}", exc=exc, where=target.where)
            ) from exc

    @staticmethod
    def _walk_op(
        target: SnmpTarget, oid: str, max_repetitions: int | None
    ) -> Callable[[SnmpSession, _Pager | None], Awaitable[dict[str, SnmpValue]]]:
        """The walk under ``oid``: a GETBULK reply at a time through ``pager`` when there is
        one, else through gufo's public iterator (GETNEXT when ``max_repetitions`` is None)."""
        root = oid_text(oid)
        _check_oid(root)
        label, where = target.label, target.where

        def twice(name: str) -> ProtocolError:  # an agent returning an OID again would loop
            return ProtocolError(
                label,
                i18n._(
                    "SNMP agent at {where} returned {name} twice (OIDs not increasing); the "
                    "agent is broken",
                    where=where,
                    name=name,
                ),
            )

        async def op(session: SnmpSession, pager: _Pager | None) -> dict[str, SnmpValue]:
            out: dict[str, SnmpValue] = {}
            if max_repetitions is not None and pager is not None:
                sock = pager.sock
                ctx = GetIter(root, max_repetitions)

                def send() -> None:
                    sock.send_get_bulk(ctx)

                def receive() -> bool:  # a reply: its varbinds into out; True at the end
                    page = sock.recv_get_bulk(ctx)
                    if not page:
                        return True
                    end = page[-1] is None  # the end of the subtree (or of the agent's view)
                    if end:
                        page.pop()
                    n = len(out)
                    out.update(page)
                    if len(out) != n + len(page):  # rare: the agent repeated an OID
                        names = [name for name, _ in page]
                        again = [x for x in names if names.count(x) > 1]
                        raise twice(again[0] if again else names[0])  # else: earlier reply's
                    for name, value in page:  # numbers stay as gufo gives them
                        if type(value) is not int:
                            out[name] = convert(value)
                    return end

                await pager.converse(send, receive)
                return out
            pages = (
                session.getnext(root)
                if max_repetitions is None
                else session.getbulk(root, max_repetitions)
            )
            async for name, value in pages:
                if name in out:
                    raise twice(name)
                out[name] = value if isinstance(value, int) else convert(value)
            return out

        return op


# ---------------------------------------------------------------------------------------
# Requests on gufo's socket, without gufo's per-PDU machinery
#
# gufo's public API hands out one varbind per ``__anext__`` (a coroutine step, a list pop, a
# closure per varbind) and, for every PDU, registers the socket with the event loop and starts
# an ``asyncio.wait_for`` task; on a 50-port switch that was most of the poller's CPU
# (bench/poll_bench.py, the prometheus-snmp-exporter comparison). The same requests and
# decoding (gufo's Rust ``send_*``/``recv_*``, its ``GetIter`` for GETBULK), but a page of
# varbinds per PDU, the socket watched once per backend operation (the interfaces set's six
# walks are one) and one timer re-armed instead of a timer per PDU. It uses three attributes
# of gufo-snmp 0.13's SnmpSession (``_sock``, ``_fd``, ``_policer``; the version is pinned in
# setup.cfg); any other shape falls back to the public API.


@lru_cache(maxsize=8192)
def _check_oid(name: str) -> None:
    """A bad OID raises ValueError; a good one is checked once (a poll asks the same ones)."""
    oid_tuple(name)


def _fast_ok(session: SnmpSession) -> bool:
    sock = getattr(session, "_sock", None)
    return (
        getattr(session, "_policer", True) is None
        and hasattr(session, "_fd")
        and hasattr(sock, "send_get_bulk")
        and hasattr(sock, "send_get_many")
    )


class _Pager:
    """One operation's requests on a session. A conversation sends a request, and each time
    the socket is readable its reply is read and handled right in the event loop's callback,
    which sends the next request itself: the awaiting coroutine wakes once per conversation
    (a whole walk), not once per PDU. Each wait is bounded by the session's timeout
    (TimeoutError, as gufo's)."""

    def __init__(self, session: SnmpSession) -> None:
        self.session = session
        self.sock: Any = session._sock
        self.fd: int = session._fd
        self.timeout: float = session._timeout
        self.loop = asyncio.get_running_loop()
        self.waiter: asyncio.Future[bool] | None = None
        self.send: Callable[[], None] = _nothing
        self.receive: Callable[[], bool] = _done
        self.deadline = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def __enter__(self) -> _Pager:
        self.loop.add_reader(self.fd, self._readable)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.remove_reader(self.fd)  # a refused reply stops the socket watch now
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _wait(self) -> None:
        """A request is out (or a stray datagram was dropped): wait ``timeout`` from now."""
        self.deadline = self.loop.time() + self.timeout
        if self.timer is None:
            self.timer = self.loop.call_at(self.deadline, self._expire)

    def _readable(self) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            if self.receive():
                waiter.set_result(False)
                return
        except BlockingIOError:  # a stray datagram (another request id): wait again
            self._wait()
            return
        except Exception as exc:
            waiter.set_exception(exc)
            return
        try:
            self.send()
        except BlockingIOError:  # the send buffer is full: the coroutine waits for it
            waiter.set_result(True)
            return
        except Exception as exc:
            waiter.set_exception(exc)
            return
        self._wait()

    def _expire(self) -> None:
        # one timer for the whole operation: when it fires early (a later wait moved the
        # deadline), it is set again for the deadline now in force
        self.timer = None
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self.loop.time() < self.deadline:
            self.timer = self.loop.call_at(self.deadline, self._expire)
        else:
            waiter.set_exception(TimeoutError())

    async def converse(self, send: Callable[[], None], receive: Callable[[], bool]) -> None:
        """``send()``, then ``receive()`` each reply until it returns True; after a False it
        is ``send()`` again (the next request)."""
        self.send, self.receive = send, receive
        try:
            while True:
                try:
                    send()
                except BlockingIOError:  # the send buffer is full: let gufo wait for it
                    await self.session._send(send)
                self._wait()
                self.waiter = self.loop.create_future()
                try:
                    if not await self.waiter:  # True: the next request still has to go out
                        return
                finally:
                    self.waiter = None
        finally:
            self.send, self.receive = _nothing, _done

    async def request(self, send: Callable[[], None], recv: Callable[[], T]) -> T:
        """One request and its reply."""
        got: list[T] = []

        def receive() -> bool:
            got.append(recv())
            return True

        await self.converse(send, receive)
        return got[0]


def _nothing() -> None:
    pass


def _done() -> bool:
    return True
