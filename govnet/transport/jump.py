"""Jump hosts (运维堡垒机): SSH sessions to devices forwarded through one bastion or a chain.

A device with ``jump: [b1, b2]`` is reached as OpenSSH's ``ProxyJump b1,b2`` does: a paramiko
session to ``b1``, a ``direct-tcpip`` channel through it to ``b2`` and a session over that
channel, then one ``direct-tcpip`` channel per device through ``b2``, handed to netmiko as its
socket. Every hop's host key is checked by the same policy code as a device's (``HostKeyCheck``,
before authentication); each hop logs in with its own credentials (password, key, agent).

One session per chain is shared by every device behind it (per process); at most
``max_channels`` device sessions run through the last hop at once, the others wait. A hop
that refuses, fails to log in, or drops is reported per device, naming the hop and why.
"""

from __future__ import annotations

import atexit
import functools
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from govnet import i18n
from govnet.errors import AuthError, ConnectError, DeviceTimeout, SecretError, TransportError
from govnet.inventory.model import CredentialSpec, Device, JumpHost
from govnet.secrets import REDACTOR
from govnet.transport.hostkeys import HostKeyError, KnownHosts

log = logging.getLogger("govnet.ssh")
KEEPALIVE = 15  # seconds: a bastion that vanishes is noticed by the sessions through it

# ------------------------------------------------------------------------------ credentials

_keys: dict[tuple[str, str], Any] = {}
_keys_lock = threading.Lock()


def load_key(creds: CredentialSpec, who: str) -> Any:
    """The private key of ``creds`` (paramiko ``PKey``), read once per run; ``None`` without
    ``key_file``. A missing file or wrong passphrase is an input error (exit 2)."""
    if creds.key_file is None:
        return None
    import paramiko

    path = Path(creds.key_file).expanduser()
    passphrase = creds.passphrase.resolve(f"{who} key passphrase") if creds.passphrase else None
    cache_key = (str(path), passphrase or "")
    with _keys_lock:
        if cache_key in _keys:
            return _keys[cache_key]
        try:
            key = paramiko.PKey.from_path(
                path, password=passphrase.encode() if passphrase else None
            )
        except FileNotFoundError:
            raise SecretError(
                i18n._("{who}: key_file {path} does not exist; fix the path", who=who, path=path)
            ) from None
        except PermissionError:
            raise SecretError(
                i18n._("{who}: cannot read key_file {path}: permission denied", who=who, path=path)
            ) from None
        except paramiko.PasswordRequiredException:
            raise SecretError(
                i18n._(
                    "{who}: key_file {path} is encrypted; add passphrase: env:…/file:…/cmd:…",
                    who=who,
                    path=path,
                )
            ) from None
        except (paramiko.SSHException, ValueError, OSError) as exc:
            why = "wrong passphrase or not a private key" if passphrase else "not a private key"
            raise SecretError(
                i18n._(
                    "{who}: cannot load key_file {path} ({why}: {exc})",
                    who=who,
                    path=path,
                    why=why,
                    exc=exc,
                )
            ) from None
        _keys[cache_key] = key
        return key


def check_keys(devices: Iterable[Device]) -> None:
    """Load every private key the devices (and their bastions) log in with, before any
    connection: a missing file or wrong passphrase is one input error (exit 2), not a
    failure per device."""
    seen: dict[tuple[str, Any], str] = {}
    for d in devices:
        pairs = [(d.name, d.credentials)] + [(f"bastion {h.name}", h.credentials) for h in d.jump]
        for who, creds in pairs:
            if creds is not None and creds.key_file is not None:
                seen.setdefault((creds.key_file, creds.passphrase), who)
    problems: list[str] = []
    for (path, passphrase), who in seen.items():
        try:
            load_key(CredentialSpec(username="-", key_file=path, passphrase=passphrase), who)
        except SecretError as exc:
            problems.append(str(exc))
    if problems:
        raise SecretError("; ".join(problems))


def login_params(creds: CredentialSpec, who: str) -> dict[str, Any]:
    """paramiko ``connect`` arguments for ``creds``: only what the inventory names (never
    ``~/.ssh/id_*`` by chance: ``look_for_keys`` stays off)."""
    password = creds.password.resolve(f"{who} password") if creds.password else None
    return {
        "username": creds.username,
        "password": password,
        "pkey": load_key(creds, who),
        "allow_agent": creds.agent,
        "look_for_keys": False,
    }


# ----------------------------------------------------------------------------------- chains


def _where(hop: JumpHost) -> str:
    return f"bastion {hop.name} ({hop.host}:{hop.port})"


def _hop_error(device: Device, hop: JumpHost, exc: BaseException, via: str) -> TransportError:
    """A failure at one hop, for one device: which hop, and why."""
    import paramiko

    where = _where(hop)
    if isinstance(exc, HostKeyError):
        return HostKeyError(device.name, f"{where}: {exc.message}")
    if isinstance(exc, paramiko.AuthenticationException):
        return AuthError(
            device.name,
            i18n._(
                "{where} refused the login of {username!r}; check its credentials",
                where=where,
                username=hop.credentials.username,
            ),
        )
    if isinstance(exc, paramiko.ChannelException):
        return ConnectError(
            device.name,
            i18n._(
                "{via} could not open a channel to {where}: {text}",
                via=via,
                where=where,
                text=exc.text or exc.code,
            ),
        )
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError(
            device.name, i18n._("{where} refused the connection; is sshd running?", where=where)
        )
    if isinstance(exc, socket.timeout | TimeoutError):
        return DeviceTimeout(device.name, i18n._("{where} did not answer in time", where=where))
    text = REDACTOR(str(exc)).strip() or type(exc).__name__
    if isinstance(exc, EOFError | paramiko.SSHException) and "banner" in text.lower():
        return ConnectError(
            device.name, i18n._("{where} closed the connection before SSH started", where=where)
        )
    if isinstance(exc, OSError):
        return ConnectError(
            device.name,
            i18n._(
                "cannot connect to {where}: {strerror}", where=where, strerror=exc.strerror or text
            ),
        )
    return ConnectError(device.name, f"{where}: {text.splitlines()[0]}")


class Bastion:
    """One chain of hops, logged in once, carrying many device channels."""

    def __init__(self, chain: tuple[JumpHost, ...]) -> None:
        self.chain = chain
        self.last = chain[-1]
        self._clients: list[Any] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.last.max_channels)
        self.logins = 0  # how many times the chain was (re)built: 1 when shared as intended
        self.peak = 0  # the most channels open at once
        self._open = 0

    def _alive(self) -> Any:
        if self._clients:
            t = self._clients[-1].get_transport()
            if t is not None and t.is_active():
                return t
        return None

    def close(self) -> None:
        for client in reversed(self._clients):
            try:
                client.close()
            except Exception:  # closing a dead session: nothing to report
                log.debug("closing a bastion session failed", exc_info=True)
        self._clients = []

    def _abandon(self, client: Any, sock: Any) -> None:
        """After a failed hop: its client, the socket or channel it ran over, the hops before."""
        client.close()
        if sock is not None:
            sock.close()
        self.close()

    def _connect(self, device: Device, store: KnownHosts) -> Any:
        import paramiko

        from govnet.transport.ssh import HostKeyCheck

        self.close()
        sock: Any = None
        via = "govnet"
        for hop in self.chain:
            check = HostKeyCheck(hop, store)
            client = paramiko.SSHClient()
            client.set_missing_host_key_policy(check)
            try:
                if sock is None:
                    sock = socket.create_connection((hop.host, hop.port), timeout=hop.timeout)
                client.connect(
                    hop.host,
                    hop.port,
                    **login_params(hop.credentials, f"bastion {hop.name}"),
                    sock=sock,
                    timeout=hop.timeout,
                    banner_timeout=hop.timeout,
                    auth_timeout=hop.timeout,
                    transport_factory=check.transport,
                )
            except (OSError, EOFError, paramiko.SSHException, HostKeyError) as exc:
                self._abandon(client, sock)
                raise _hop_error(device, hop, exc, via) from exc
            except BaseException:
                self._abandon(client, sock)
                raise
            self._clients.append(client)
            transport = client.get_transport()
            transport.set_keepalive(KEEPALIVE)
            via = _where(hop)
            nxt = self.chain.index(hop) + 1
            if nxt < len(self.chain):
                target = self.chain[nxt]
                try:
                    sock = transport.open_channel(
                        "direct-tcpip",
                        (target.host, target.port),
                        ("127.0.0.1", 0),
                        timeout=target.timeout,
                    )
                except (OSError, EOFError, paramiko.SSHException) as exc:
                    self.close()
                    raise _hop_error(device, target, exc, via) from exc
        self.logins += 1
        log.info("%s: logged in through %s", device.name, " → ".join(h.name for h in self.chain))
        return self._clients[-1].get_transport()

    def open(
        self, device: Device, store: KnownHosts, timeout: float | None = None
    ) -> tuple[Any, Callable[[], None]]:
        """A channel to ``device`` through the chain, and the function that frees its slot.
        ``timeout``: the session's (``--timeout``), else the device's; a free channel is
        waited for four times as long."""
        import paramiko

        timeout = timeout or device.timeout
        if not self._slots.acquire(timeout=timeout * 4):
            raise DeviceTimeout(
                device.name,
                i18n._(
                    "{last}: all {max_channels} channels stayed busy; raise its max_channels or "
                    "lower the run's concurrency",
                    last=_where(self.last),
                    max_channels=self.last.max_channels,
                ),
            )
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                with self._lock:
                    self._open -= 1
                self._slots.release()

        try:
            with self._lock:
                transport = self._alive() or self._connect(device, store)
                self._open += 1
                self.peak = max(self.peak, self._open)
            try:
                channel = transport.open_channel(
                    "direct-tcpip",
                    (device.host, device.port),
                    ("127.0.0.1", 0),
                    timeout=timeout,
                )
            except paramiko.ChannelException as exc:
                raise ConnectError(
                    device.name,
                    i18n._(
                        "{last} could not reach {host}:{port}: {text}",
                        last=_where(self.last),
                        host=device.host,
                        port=device.port,
                        text=exc.text or exc.code,
                    ),
                ) from exc
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise ConnectError(
                    device.name,
                    i18n._(
                        "{last} dropped the connection ({exc})",
                        last=_where(self.last),
                        exc=exc or "EOF",
                    ),
                ) from exc
        except BaseException:
            release()
            raise
        return channel, release

    def dropped(self) -> bool:
        """True when the chain's session is gone (a device session through it then failed
        because of the bastion, not the device)."""
        with self._lock:
            return self._alive() is None


class BastionPool:
    """The chains of this process, keyed by their hops' names and addresses."""

    def __init__(self) -> None:
        self._chains: dict[tuple[tuple[str, str, int], ...], Bastion] = {}
        self._lock = threading.Lock()

    def get(self, chain: tuple[JumpHost, ...]) -> Bastion:
        key = tuple((h.name, h.host, h.port) for h in chain)
        with self._lock:
            bastion = self._chains.get(key)
            if bastion is None:
                bastion = self._chains[key] = Bastion(chain)
            return bastion

    def close(self) -> None:
        with self._lock:
            for bastion in self._chains.values():
                bastion.close()
            self._chains.clear()

    def stats(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                " → ".join(n for n, _, _ in key): {"logins": b.logins, "peak_channels": b.peak}
                for key, b in self._chains.items()
            }


@functools.cache
def pool() -> BastionPool:
    p = BastionPool()
    atexit.register(p.close)
    return p
