"""SSH to devices through netmiko: the only module that imports it.

netmiko's and paramiko's exceptions are translated into govnet's (``AuthError``,
``DeviceTimeout``, ``ConnectError``, ``ProtocolError``, ``CommandError``) with ``raise … from``,
each a one-line message naming the device and what to do. Secrets are resolved only here,
when a session opens.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

from govnet.errors import (
    AuthError,
    CommandError,
    ConnectError,
    DeviceTimeout,
    GovnetError,
    ProtocolError,
    TransportError,
)
from govnet.i18n import _
from govnet.inventory.model import Device, JumpHost
from govnet.platforms import Platform, get_platform
from govnet.secrets import REDACTOR
from govnet.transport.hostkeys import HostKey, HostKeyError, KnownHosts, system_known_hosts, verify

log = logging.getLogger("govnet.ssh")
VERIFY_PROMPT_MARGIN = 30  # brackets, "-", the longest section ("Ten-GigabitEthernet1/0/10")


@dataclass(frozen=True)
class SshOptions:
    """Timeouts (seconds) and retries for one session; ``None`` = the device's own timeout."""

    timeout: float | None = None
    read_timeout: float = 30.0
    retries: int = 1  # extra attempts after a connect failure or timeout (never after auth)
    retry_delay: float = 0.5
    session_log: bool = False
    # where host keys are checked and learned; None: the default file (hostkeys.py)
    known_hosts: KnownHosts | None = None

    def host_keys(self) -> KnownHosts:
        if self.known_hosts is not None:
            return self.known_hosts
        if _default_known_hosts is not None:
            return _default_known_hosts()
        from govnet.transport.hostkeys import known_hosts_path

        return _shared_store(known_hosts_path(), tuple(system_known_hosts()))


_default_known_hosts: Callable[[], KnownHosts] | None = None


def use_known_hosts(source: Callable[[], KnownHosts] | None) -> None:
    """Where sessions opened without ``SshOptions.known_hosts`` find their known hosts (the
    CLI gives the file beside its store, so every path — backup, audit, provision, av —
    uses it)."""
    global _default_known_hosts
    _default_known_hosts = source


@cache
def _shared_store(path: Path, system: tuple[Path, ...]) -> KnownHosts:
    """One store (and its parsed-file cache) per file set, for sessions without options."""
    return KnownHosts(path, system)


def _netmiko() -> Any:
    import netmiko

    # paramiko's transport thread logs a traceback for every failed banner read; the error
    # reaches us and is translated, so without a configured handler it must not go to stderr.
    paramiko_log = logging.getLogger("paramiko")
    if not paramiko_log.handlers:
        paramiko_log.addHandler(logging.NullHandler())
    return netmiko


_TRANSCRIPT_KEEP = 4096
# Characters no CLI prints: C0 controls except TAB/LF/CR/BS/BEL/ESC/NUL, DEL, C1 controls, and
# what a decoder could not read. Line noise is full of them; real device output has none.
_NOISE = re.compile(r"[\x01-\x06\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f\ufffd]")
GARBLED_MIN = 3


def looks_garbled(text: str) -> bool:
    """Whether ``text`` carries line noise (at least ``GARBLED_MIN`` unprintable characters)."""
    return len(_NOISE.findall(text)) >= GARBLED_MIN


def _transcript() -> Any:
    """A netmiko session log keeping only the last few KiB read, in memory: what the device
    said before a failure tells a garbled line from a slow or dropped one. A read full of
    line noise stops the session there (netmiko would wait for a prompt that never comes)."""
    from netmiko.exceptions import ReadException
    from netmiko.session_log import SessionLog

    class Transcript(SessionLog):
        def __init__(self) -> None:
            super().__init__()
            self.text = ""

        def open(self) -> None:
            pass

        def close(self) -> None:
            pass

        def flush(self) -> None:
            pass

        def write(self, data: str) -> None:
            self.text = (self.text + data)[-_TRANSCRIPT_KEEP:]
            if looks_garbled(self.text):  # give up at once, not read timeout after timeout
                raise ReadException("garbled output (line noise)")

    return Transcript()


def _drop_aware(conn: Any) -> None:
    """netmiko polls ``recv_ready()``, which stays False on a channel the device closed, so
    a dropped session would look like a silent one until the read timeout. Raise at once."""
    from netmiko.channel import SSHChannel
    from netmiko.exceptions import ReadException

    class DropAwareChannel(SSHChannel):
        def read_buffer(self) -> str:
            out: str = super().read_buffer()
            chan = self.remote_conn
            if out or chan is None:
                return out
            if (chan.closed or chan.eof_received) and not chan.recv_ready():
                raise ReadException("Channel stream closed by remote device.")
            return out

    channel = getattr(conn, "channel", None)
    if isinstance(channel, SSHChannel) and not isinstance(channel, DropAwareChannel):
        conn.channel = DropAwareChannel(channel.remote_conn, channel.encoding)


def _closed(conn: Any) -> bool:
    chan = getattr(conn, "remote_conn", None)
    if chan is None:
        return False
    transport = getattr(chan, "transport", None)
    return bool(getattr(chan, "closed", False)) or (
        transport is not None and not transport.is_active()
    )


def peek_banner(host: str, port: int, timeout: float = 2.0) -> bytes | None:
    """What a port says first: ``None`` if it cannot be reached, ``b""`` if it stays silent."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            try:
                return sock.recv(64)
            except TimeoutError:
                return b""
    except OSError:
        return None


class NoBanner(DeviceTimeout):
    """TCP accepted, no SSH banner: a hung device (not worth a retry within the run)."""


def _banner_failure(device: Device, where: str, timeout: float) -> TransportError:
    """paramiko only says 'Error reading SSH protocol banner' or 'No existing session': look
    at what the port sends (not behind a bastion: the port is only reachable from there)."""
    if device.jump:
        return NoBanner(
            device.name,
            _(
                "{where} (via bastion {name}) sent no SSH banner within {timeout:g} s; is it "
                "hung, or not SSH on that port?",
                where=where,
                name=device.jump[-1].name,
                timeout=timeout,
            ),
        )
    first = peek_banner(device.host, device.port, timeout=min(2.0, timeout))
    if first is None:
        return ConnectError(
            device.name, _("cannot connect to {where}; check reachability and port", where=where)
        )
    if first == b"":
        return NoBanner(
            device.name,
            _(
                "{where} accepts TCP but sent no SSH banner within {timeout:g} s; is it hung?",
                where=where,
                timeout=timeout,
            ),
        )
    if not first.startswith(b"SSH-"):
        shown = first.split(b"\n", 1)[0].decode("ascii", "replace").strip()[:40]
        return ProtocolError(
            device.name,
            _(
                "{where} answers, but not with SSH (got {shown!r}); wrong port or service?",
                where=where,
                shown=shown,
            ),
        )
    return DeviceTimeout(
        device.name, _("{where} sent its SSH banner but the login timed out", where=where)
    )


# ---------------------------------------------------------------------------------- host keys

_KEY_ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}


def _prefer(transport: Any, keytypes: list[str]) -> None:
    """Ask for the key types on record first (as OpenSSH does), so a device that also has
    a newer key type still presents the one govnet knows."""
    if not keytypes:
        return
    options = transport.get_security_options()
    wanted = [a for k in keytypes for a in _KEY_ALGORITHMS.get(k, (k,))]
    offered = list(options.key_types)
    first = [a for a in wanted if a in offered]
    options.key_types = first + [a for a in offered if a not in first]


def _paramiko() -> Any:
    import paramiko

    return paramiko


class HostKeyCheck:
    """paramiko's missing-host-key policy for one session, and its transport factory.

    The session's client is given no host keys of its own, so paramiko hands every server
    key to :meth:`missing_host_key` right after key exchange and before authentication;
    raising there closes the connection with nothing sent.
    """

    def __init__(self, device: Device | JumpHost, store: KnownHosts) -> None:
        self.device = device
        self.store = store
        self.key: HostKey | None = None
        self.checked = 0.0  # seconds spent deciding (the bench reports it)

    def transport(self, sock: Any, **kwargs: Any) -> Any:
        t = _paramiko().Transport(sock, **kwargs)
        _prefer(t, self.store.preferred_types(self.device.host, self.device.port))
        return t

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        started = time.perf_counter()
        self.key = HostKey(key.asbytes())
        try:
            d = self.device
            verify(self.store, d.name, d.host, d.port, d.host_key_policy, self.key)
        except HostKeyError:
            client.close()
            raise
        finally:
            self.checked = time.perf_counter() - started


class _Verifying:
    """Mixed into a netmiko driver class: its paramiko client checks host keys govnet's way
    (no system or alternate key files of netmiko's, no AutoAddPolicy)."""

    def __init__(self, *args: Any, host_key_check: HostKeyCheck, **kwargs: Any) -> None:
        self._host_key_check = host_key_check
        super().__init__(*args, **kwargs)

    def _build_ssh_client(self) -> Any:
        client = self._get_ssh_client_instance()  # type: ignore[attr-defined]
        client.set_missing_host_key_policy(self._host_key_check)
        return client

    def _connect_params_dict(self) -> dict[str, Any]:
        params: dict[str, Any] = super()._connect_params_dict()  # type: ignore[misc]
        params["transport_factory"] = self._host_key_check.transport
        params["look_for_keys"] = False  # only the key the inventory names (pkey), never ~/.ssh
        params["key_filename"] = None
        if not params.get("password"):
            params["password"] = None  # key or agent only: no empty-password attempt
        return params


@cache
def _driver(device_type: str) -> Any:
    """netmiko's driver class for ``device_type`` with host key checking mixed in."""
    from netmiko.ssh_dispatcher import CLASS_MAPPER

    base = CLASS_MAPPER[device_type]
    return type(f"Verifying{base.__name__}", (_Verifying, base), {})


def fetch_host_key(device: Device, store: KnownHosts | None = None, timeout: float = 0) -> HostKey:
    """The key ``device`` presents, from a key exchange alone: no authentication, nothing
    sent but the SSH handshake. Key types on record in ``store`` are asked for first.

    Behind bastions (``device.jump``) the exchange runs over a ``direct-tcpip`` channel
    through the chain, as a session would: each hop's own key is checked (and learned, by its
    policy) before its login, so a bastion with a changed key stops here, named."""
    paramiko = _paramiko()
    timeout = timeout or device.timeout
    release: Callable[[], None] | None = None
    if device.jump:
        from govnet.transport.jump import pool

        known = store if store is not None else SshOptions().host_keys()
        sock, release = pool().get(device.jump).open(device, known, timeout)
    else:
        try:
            sock = socket.create_connection((device.host, device.port), timeout=timeout)
        except Exception as exc:
            raise translate(device, exc) from exc
    try:
        t = paramiko.Transport(sock)
    except BaseException:
        sock.close()
        if release is not None:
            release()
        raise
    try:
        if store is not None:
            _prefer(t, store.preferred_types(device.host, device.port))
        t.banner_timeout = timeout
        t.start_client(timeout=timeout)
        return HostKey(t.get_remote_server_key().asbytes())
    except Exception as exc:
        raise translate(device, exc) from exc
    finally:
        t.close()
        sock.close()
        if release is not None:
            release()


def garbled(device: Device, where: str) -> ProtocolError:
    return ProtocolError(
        device.name,
        _(
            "garbled reply / prompt not found at {where}: line noise in the output; check the "
            "line, the terminal settings or the platform",
            where=where,
        ),
    )


def dropped(device: Device, where: str) -> ConnectError:
    return ConnectError(
        device.name,
        _("connection dropped mid-command by {where}; the device closed the session", where=where),
    )


def translate(
    device: Device,
    exc: BaseException,
    transcript: str = "",
    conn: Any = None,
    timeout: float | None = None,
    read_timeout: float | None = None,
) -> TransportError:
    """Map a netmiko/paramiko/socket error to govnet's error tree.

    ``transcript`` (what the device sent last) and ``conn`` (the session, if it opened) tell
    a garbled line and a dropped session from a plain timeout.
    """
    import paramiko
    from netmiko.exceptions import (
        NetmikoAuthenticationException,
        NetmikoTimeoutException,
        ReadException,
        ReadTimeout,
    )

    if isinstance(exc, TransportError):
        return exc
    name = device.name
    where = f"{device.host}:{device.port}"
    timeout = timeout or device.timeout
    text = REDACTOR(str(exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, NetmikoAuthenticationException | paramiko.AuthenticationException):
        return AuthError(
            name,
            _("authentication failed at {where}; check the credentials reference", where=where),
        )
    if isinstance(exc, ReadTimeout):
        if looks_garbled(transcript):
            return garbled(device, where)
        if conn is not None and _closed(conn):
            return dropped(device, where)
        waited = _(" after {seconds} s", seconds=f"{read_timeout:g}") if read_timeout else ""
        return DeviceTimeout(
            name,
            _(
                "timed out{waited} waiting for the prompt from {where}; the device is slow or "
                "stopped answering",
                waited=waited,
                where=where,
            ),
        )
    if isinstance(exc, ReadException) and "closed" in str(exc).lower():
        return dropped(device, where)
    if isinstance(exc, ValueError) and "prompt not found" in str(exc).lower():
        return garbled(device, where)
    message = str(exc).lower()
    banner = "banner" in message or "no existing session" in message
    if isinstance(exc, NetmikoTimeoutException | paramiko.SSHException) and banner:
        return _banner_failure(device, where, timeout)
    if isinstance(exc, NetmikoTimeoutException):
        return DeviceTimeout(
            name,
            _(
                "connection to {where} timed out after {seconds} s; check reachability",
                where=where,
                seconds=f"{timeout:g}",
            ),
        )
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError(
            name, _("connection refused at {where}; is SSH enabled on that port?", where=where)
        )
    if isinstance(exc, socket.timeout | TimeoutError):
        return DeviceTimeout(
            name,
            _(
                "timed out after {seconds} s talking to {where}",
                seconds=f"{timeout:g}",
                where=where,
            ),
        )
    broken = isinstance(exc, OSError | EOFError | paramiko.SSHException)
    if broken and conn is not None and _closed(conn):
        return dropped(device, where)
    if isinstance(exc, paramiko.SSHException):
        return ProtocolError(name, _("SSH error with {where}: {text}", where=where, text=text))
    if isinstance(exc, ReadException | ValueError):
        if looks_garbled(transcript):
            return garbled(device, where)
        return ProtocolError(
            name, _("unexpected reply from {where}: {text}", where=where, text=text)
        )
    if isinstance(exc, OSError):
        return ConnectError(
            name, _("cannot connect to {where}: {reason}", where=where, reason=exc.strerror or text)
        )
    return ProtocolError(
        name,
        _("{name} talking to {where}: {text}", name=type(exc).__name__, where=where, text=text),
    )


class SshSession:
    """One netmiko session to one device; use as a context manager."""

    def __init__(self, device: Device, options: SshOptions | None = None) -> None:
        self.device = device
        self.options = options or SshOptions()
        self.platform: Platform = get_platform(device.platform)
        if not self.platform.netmiko:
            raise GovnetError(
                _(
                    "{name}: platform {platform} has no SSH driver",
                    name=device.name,
                    platform=device.platform,
                )
            )
        if device.credentials is None:
            raise GovnetError(_("{name}: no credentials in the inventory", name=device.name))
        self._errors = re.compile(self.platform.errors, re.M) if self.platform.errors else None
        self._conn: Any = None
        self.host_key_check: HostKeyCheck | None = None
        self._bastion: Any = None  # jump.Bastion when reached through one
        self._release: Callable[[], None] | None = None
        self._transcript: Any = None

    def _translate(self, exc: BaseException) -> TransportError:
        dropped = self._dropped()  # the bastion in between went away: name it
        if dropped is not None:
            return dropped
        text = self._transcript.text if self._transcript is not None else ""
        return translate(
            self.device,
            exc,
            text,
            self._conn,
            self.options.timeout or self.device.timeout,
            self.options.read_timeout,
        )

    def open(self) -> SshSession:
        from govnet.transport.jump import login_params

        creds = self.device.credentials
        assert creds is not None
        login = login_params(creds, self.device.name)
        secret = creds.secret.resolve(f"{self.device.name} secret") if creds.secret else ""
        timeout = self.options.timeout or self.device.timeout
        params: dict[str, Any] = {
            "device_type": self.platform.netmiko,
            "host": self.device.host,
            "port": self.device.port,
            "username": creds.username,
            "password": login["password"] or "",
            "secret": secret,
            "conn_timeout": timeout,
            "auth_timeout": timeout,
            "banner_timeout": timeout,
            "blocking_timeout": timeout,
            "read_timeout_override": self.options.read_timeout,
            "fast_cli": True,
            "timeout": timeout,
            "allow_agent": creds.agent,
            "use_keys": login["pkey"] is not None,
            "key_file": creds.key_file,  # netmiko checks it exists; paramiko gets pkey, loaded
            "pkey": login["pkey"],
        }
        if self.device.transport == "telnet":
            return self._open_telnet(params)
        driver = _driver(self.platform.netmiko)
        attempts = 1 + max(0, self.options.retries)
        for attempt in range(1, attempts + 1):
            self.host_key_check = HostKeyCheck(self.device, self.options.host_keys())
            transcript = _transcript()
            forwarded = False
            try:
                if self.device.jump:
                    params["sock"] = self._forward()
                    forwarded = True
                self._conn = driver(
                    **params, host_key_check=self.host_key_check, session_log=transcript
                )
                self._transcript = transcript
                _drop_aware(self._conn)
                return self
            except Exception as exc:
                self._release_channel()
                err = translate(
                    self.device, exc, transcript.text, None, timeout, self.options.read_timeout
                )
                if forwarded:  # through a bastion that then went away: name it, not the device
                    log.debug("%s: %s", self.device.name, err.message)
                    err = self._dropped() or err
                # A changed host key, a wrong password, a garbled line or a hung device will
                # not mend in a retry_delay: retry only what may be passing (refused, reset).
                final = isinstance(err, AuthError | ProtocolError | NoBanner | HostKeyError)
                if final or attempt == attempts:
                    raise err from exc
                log.info(
                    "%s: %s; retrying (%d/%d)", self.device.name, err.message, attempt, attempts
                )
                time.sleep(self.options.retry_delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _forward(self) -> Any:
        """A ``direct-tcpip`` channel to the device through its bastion chain (jump.py)."""
        from govnet.transport.jump import pool

        self._bastion = pool().get(self.device.jump)
        channel, release = self._bastion.open(
            self.device, self.options.host_keys(), self.options.timeout
        )

        def done() -> None:  # the channel closed (a failed login leaves it open) and its slot freed
            try:
                channel.close()
            finally:
                release()

        self._release = done
        return channel

    def _release_channel(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def _dropped(self) -> TransportError | None:
        """When a session through a bastion fails because the bastion went away: say so."""
        if self._bastion is not None and self._bastion.dropped():
            hop = self._bastion.last
            return ConnectError(
                self.device.name,
                _(
                    "bastion {name} ({host}:{port}) dropped the connection; check the bastion",
                    name=hop.name,
                    host=hop.host,
                    port=hop.port,
                ),
            )
        return None

    def _open_telnet(self, params: dict[str, Any]) -> SshSession:
        """Legacy Telnet (``transport: telnet`` with ``allow_insecure: true``): clear text, no
        host key; every use is logged as a warning."""
        from netmiko.ssh_dispatcher import CLASS_MAPPER

        device_type = f"{self.platform.netmiko}_telnet"
        if device_type not in CLASS_MAPPER:
            raise GovnetError(
                _(
                    "{name}: platform {name2} has no Telnet driver",
                    name=self.device.name,
                    name2=self.platform.name,
                )
            )
        log.warning(
            "%s",
            _(
                "{device}: using Telnet (clear text, allow_insecure) at {host}:{port}; replace "
                "or enable SSH",
                device=self.device.name,
                host=self.device.host,
                port=self.device.port,
            ),
        )
        for key in ("use_keys", "key_file", "pkey", "allow_agent", "banner_timeout"):
            params.pop(key, None)
        params["device_type"] = device_type
        try:
            self._conn = CLASS_MAPPER[device_type](**params)
        except Exception as exc:
            err = translate(self.device, exc)
            if "login" in str(exc).lower() or "password" in str(exc).lower():
                err = AuthError(self.device.name, _("Telnet login failed; check the credentials"))
            raise err from exc
        return self

    def _check(self, command: str, output: str) -> str:
        if looks_garbled(output):  # the prompt came back, but the text between is noise
            raise garbled(self.device, f"{self.device.host}:{self.device.port}")
        if self._errors and self._errors.search(output):
            first = next(
                (ln.strip() for ln in output.splitlines() if self._errors.search(ln)), output
            )
            raise CommandError(
                self.device.name,
                _("rejected {command!r}: {first}", command=command, first=first),
                output,
            )
        return output

    def _prompt(self) -> str | None:
        """The exec prompt as a whole line (``<sw1>``, ``sw1#``, ``[ops@srv ~]$``). netmiko's
        default search is the bare name, which a slow device's ``sysname sw1`` line matches
        before its prompt arrives, returning a truncated reply as if complete."""
        base = getattr(self._conn, "base_prompt", "")
        if not base:
            return None
        return rf"(?m)^[<\[~*]*{re.escape(base)}[^\r\n]*?[>#\]$%]\s*$"

    def send(self, command: str, read_timeout: float | None = None) -> str:
        """Run one exec-mode command; vendor error text raises ``CommandError``."""
        conn = self._conn
        # Wait for the command's echo before reading its reply, so output a slow device still
        # owes for an earlier command (netmiko's Comware login does not wait for its paging
        # command) is never taken for this one. Comware's driver skips the echo because long
        # lines wrap on its terminal: a command that fits on one line cannot.
        fits = len(command) + len(getattr(conn, "base_prompt", "")) + VERIFY_PROMPT_MARGIN < 80
        driver_verify = conn.global_cmd_verify  # overrides send_command's own cmd_verify
        if driver_verify is False and fits:
            conn.global_cmd_verify = None
        try:
            output: str = conn.send_command(
                command,
                expect_string=self._prompt(),
                read_timeout=read_timeout or self.options.read_timeout,
                strip_prompt=True,
                strip_command=True,
            )
        except Exception as exc:
            raise self._translate(exc) from exc
        finally:
            conn.global_cmd_verify = driver_verify
        self._trace(command, output)
        return self._check(command, output)

    def _trace(self, sent: str, output: str) -> None:
        """``-vv``: what was sent (masked) and the reply's size and last line.

        netmiko's own channel log is off (it logs reads as they arrive, which can cut a secret
        in two). The reply's body is not logged: a running config holds the device's own
        passwords and communities, which govnet never resolved and so cannot recognise here.
        """
        if log.isEnabledFor(logging.DEBUG):
            lines = output.splitlines()
            last = lines[-1].strip() if lines else ""
            log.debug(
                "%s: sent %s; reply %d line(s), last %s",
                self.device.name,
                REDACTOR(sent),
                len(lines),
                REDACTOR(repr(last[:80])),
            )

    def fetch(self, what: str) -> str:
        """Run the platform-table command for ``what`` (running_config, arp, mac, …)."""
        command = self.platform.command(what)
        if command is None:
            raise GovnetError(
                _(
                    "{name}: platform {name2} has no {what!r} command",
                    name=self.device.name,
                    name2=self.platform.name,
                    what=what,
                )
            )
        return self.send(command)

    def configure(self, lines: list[str]) -> str:
        """Enter config mode, send ``lines``, leave; a rejected line raises ``CommandError``.

        Mode changes go through ``send_command`` waiting for the prompt, not netmiko's
        ``config_mode()``/``exit_config_mode()``: on Huawei those re-check the mode with fixed
        2-second waits (four per push). Where the driver cannot verify command echoes
        (Comware), netmiko's per-line error check would add 2 s per line, so errors are
        checked on the whole output instead.
        """
        conn = self._conn
        prompt = re.escape(conn.base_prompt)
        timeout = self.options.read_timeout
        driver_verify = conn.global_cmd_verify
        # Comware's driver turns echo verification off because its terminal cannot be widened
        # and long commands wrap. When every line fits in 80 columns with the longest section
        # prompt, the echo cannot wrap, so verify (and detect errors per line) after all.
        if driver_verify is False and all(
            len(line) + len(conn.base_prompt) + VERIFY_PROMPT_MARGIN < 80 for line in lines
        ):
            conn.global_cmd_verify = None
        verified = conn.global_cmd_verify is not False
        try:
            output = ""
            if self.platform.config_enter:
                output += conn.send_command(
                    self.platform.config_enter, expect_string=prompt, read_timeout=timeout
                )
            output += conn.send_config_set(
                lines,
                enter_config_mode=False,
                exit_config_mode=False,
                read_timeout=timeout,
                error_pattern=(self.platform.errors or "") if verified else "",
            )
            if self.platform.config_exit:
                output += conn.send_command(
                    self.platform.config_exit, expect_string=prompt, read_timeout=timeout
                )
        except Exception as exc:
            from netmiko.exceptions import ConfigInvalidException

            if isinstance(exc, ConfigInvalidException):
                raise CommandError(
                    self.device.name, _("config rejected: {exc}", exc=REDACTOR(str(exc)))
                ) from exc
            raise self._translate(exc) from exc
        finally:
            conn.global_cmd_verify = driver_verify
        # two words a line, never values: a rollback pushes the device's own password hashes
        heads = " / ".join(" ".join(line.split()[:2]) for line in lines)
        self._trace(f"{len(lines)} configuration line(s): {heads}", output)
        return self._check("configuration", output)

    def save(self) -> str:
        try:
            return str(self._conn.save_config())
        except NotImplementedError as exc:
            raise GovnetError(
                _(
                    "{name}: saving is not supported on {name2}",
                    name=self.device.name,
                    name2=self.platform.name,
                )
            ) from exc
        except Exception as exc:
            raise self._translate(exc) from exc

    def close(self) -> None:
        """Log out and drop the session without netmiko's mode checks (2 s on Huawei)."""
        if self._conn is not None:
            try:
                self._conn.write_channel(self.platform.logout + self._conn.RETURN)
            except Exception:
                log.debug("%s: logout failed", self.device.name, exc_info=True)
            try:
                self._conn.paramiko_cleanup()
            except Exception:
                log.debug("%s: error while disconnecting", self.device.name, exc_info=True)
            self._conn = None
        self._release_channel()

    def __enter__(self) -> SshSession:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
