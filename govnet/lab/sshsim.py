"""Simulated SSH network devices: hundreds of listeners in one asyncio loop (asyncssh).

Each :class:`SimDevice` gets a listener on its own port serving the device CLI from
``govnet.lab.shell`` (prompts, paging commands, config mode, vendor errors, tables) with
state kept in ``state_dir``. Devices whose lab behaviour is ``silent`` accept TCP and never
send an SSH banner. Built for netmiko: input is echoed at once and every reply ends with the
prompt in the same write, so pattern-based reads return as soon as the data arrives.

    sim = SshSimulator(devices)   # each device's host key in its state_dir (stable)
    await sim.start()   # every listener is up
    ...
    await sim.stop()    # listeners and sessions closed

Manual testing::

    python -m govnet.lab.sshsim --platform huawei --port 10022 --state-dir /tmp/sim
    ssh -p 10022 admin@127.0.0.1        # password: admin
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govnet import i18n

with warnings.catch_warnings():
    # cryptography >= 47 deprecates DSA and asyncssh names its classes at import; the lab's
    # devices never offer DSA keys, so the warning says nothing to a lab user.
    warnings.filterwarnings("ignore", message="DSA is deprecated", module="asyncssh")
    import asyncssh

from govnet.errors import LabError
from govnet.lab.data import LabDeviceData, load_device_data
from govnet.lab.faults import FaultyChannel, LabFaults
from govnet.lab.shell import DeviceState, Shell
from govnet.lab.vendors import VENDORS

log = logging.getLogger("govnet.lab.ssh")
HOST_KEY_FILE = "ssh_host_ed25519_key"  # in each device's state_dir


@dataclass
class SimDevice:
    name: str
    platform: str  # "huawei" | "hp_comware" | "cisco_ios" | "ruijie_os" | "linux"
    port: int
    username: str
    password: str
    state_dir: Path  # this device's persistent state: running and saved (startup) config
    data: LabDeviceData  # seed config, tables, behaviour
    host: str = "127.0.0.1"
    hostname: str | None = None  # prompt name; default: the config's sysname/hostname, else name
    telnet: bool = False  # a Telnet-only device (transport: telnet in the inventory)


def load_host_key(path: Path) -> asyncssh.SSHKey:
    """A host key: read ``path``, or generate an ed25519 key there once."""
    if path.is_file():
        return asyncssh.read_private_key(str(path))
    return new_host_key(path)


def new_host_key(path: Path) -> asyncssh.SSHKey:
    """Generate an ed25519 host key at ``path`` (0600, atomic replace): a rotation."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.export_private_key())
    os.replace(tmp, path)
    return key


class _Session(asyncssh.SSHServerSession[str]):
    """One SSH channel: characters in, the device's replies out."""

    def __init__(self, state: DeviceState, faults: LabFaults | None = None) -> None:
        self._state = state
        self._faults = faults  # lab data ``faults:`` touching the output (slow, garbled, drop)
        self._chan: Any = None
        self._shell: Shell | None = None
        self._command: str | None = None
        self._buf: list[str] = []
        self._last_cr = False

    def connection_made(self, chan: Any) -> None:
        self._chan = FaultyChannel(chan, self._faults, self._state.name) if self._faults else chan
        self._shell = Shell(self._state, chan.get_extra_info("username") or "")

    def pty_requested(self, term_type: str, term_size: Any, term_modes: Any) -> bool:
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self._command = command
        return True

    def session_started(self) -> None:
        assert self._shell is not None
        if self._command is not None:
            out = self._shell.run(self._command)
            self._write(f"{out}\n" if out else "")
            self._chan.exit(0)
            return
        self._write(self._shell.greeting())

    def _write(self, text: str) -> None:
        self._chan.write(text.replace("\n", "\r\n"))

    def data_received(self, data: str, datatype: Any) -> None:
        shell = self._shell
        assert shell is not None
        out: list[str] = []
        for ch in data:
            if ch in "\r\n":
                if ch == "\n" and self._last_cr:
                    self._last_cr = False
                    continue
                self._last_cr = ch == "\r"
                line = "".join(self._buf)
                self._buf.clear()
                out.append("\n")
                out.append(shell.handle(line))
                if shell.closed:
                    break
                continue
            self._last_cr = False
            if ch in "\x7f\b":
                if self._buf:
                    self._buf.pop()
                    out.append("\b \b")
            elif ch == "\x03":  # Ctrl-C: drop the line
                self._buf.clear()
                out.append("\n" + shell.prompt)
            elif ch.isprintable():
                self._buf.append(ch)
                if shell.echo:
                    out.append(ch)  # echo, as a terminal does
        if out:
            self._write("".join(out))
        if shell.closed:
            self._chan.exit(0)

    def eof_received(self) -> bool:
        return False  # close the channel

    def connection_lost(self, exc: Exception | None) -> None:
        if isinstance(self._chan, FaultyChannel):
            self._chan.close()

    def break_received(self, msec: int) -> bool:
        return True


class _Server(asyncssh.SSHServer):
    """Authentication and sessions for one simulated device."""

    def __init__(self, sim: SshSimulator, device: SimDevice, state: DeviceState) -> None:
        self._sim = sim
        self._device = device
        self._state = state
        self._conn: Any = None

    def connection_made(self, conn: Any) -> None:
        self._conn = conn
        if self._sim.stopping:  # accepted while stopping: do not outlive stop()
            conn.close()
            return
        self._sim._conns.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._sim._conns.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return False

    def validate_password(self, username: str, password: str) -> bool:
        if self._device.data.behaviour.faults.wrong_password:
            log.info("%s: fault 'wrong_password': refused %r", self._device.name, username)
            return False
        ok = hmac.compare_digest(username, self._device.username) and hmac.compare_digest(
            password.encode(), self._device.password.encode()
        )
        if not ok:
            log.info("%s: authentication failed for %r", self._device.name, username)
        return ok

    def session_requested(self) -> _Session:
        faults = self._device.data.behaviour.faults
        return _Session(self._state, faults if faults.ssh else None)


class _Silent(asyncio.Protocol):
    """Accepts TCP, reads and drops whatever arrives, never answers (a hung device)."""

    def __init__(self, sim: SshSimulator) -> None:
        self._sim = sim
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if self._sim.stopping:  # accepted while stopping: do not outlive stop()
            transport.abort()
            return
        self._transport = transport
        self._sim._silent_conns.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._sim._silent_conns.discard(self._transport)

    def data_received(self, data: bytes) -> None:
        pass


class SshSimulator:
    """Every simulated SSH device of a lab, served from the running asyncio loop."""

    def __init__(self, devices: Sequence[SimDevice], host_key: Path | None = None) -> None:
        """Check the plan (unique ports, known platforms; ``LabError`` otherwise).

        Each device presents its own host key, kept in its ``state_dir`` (generated once, so
        stable across restarts); ``host_key`` makes every device share that one instead.
        """
        seen: dict[tuple[str, int], str] = {}
        for d in devices:
            other = seen.setdefault((d.host, d.port), d.name)
            if other != d.name:
                raise LabError(
                    i18n._(
                        "{name} and {other} both use {host}:{port}",
                        name=d.name,
                        other=other,
                        host=d.host,
                        port=d.port,
                    )
                )
            if d.platform not in VENDORS and not d.data.behaviour.no_banner:
                known = ", ".join(sorted(VENDORS))
                raise LabError(
                    i18n._(
                        "{name}: cannot simulate platform {platform!r} ({known})",
                        name=d.name,
                        platform=d.platform,
                        known=known,
                    )
                )
        self.devices = list(devices)
        self.host_key = host_key
        self.states: dict[str, DeviceState] = {}
        self._acceptors: list[Any] = []
        self._by_device: dict[str, tuple[Any, bytes]] = {}  # acceptor, public key served
        self._silent: list[asyncio.AbstractServer] = []
        self._conns: set[Any] = set()
        self._silent_conns: set[asyncio.Transport] = set()
        self.stopping = False

    async def start(self) -> None:
        """Load every device's state and open every listener; returns when all are up.

        A port that cannot be bound raises ``OSError`` naming the device; nothing stays open.
        """
        loop = asyncio.get_running_loop()
        self.stopping = False
        for d in self.devices:
            if not d.data.behaviour.no_banner:
                self.states[d.name] = DeviceState.load(
                    d.name, d.platform, d.data, d.state_dir, d.hostname, d.password
                )

        async def open_one(d: SimDevice) -> None:
            try:
                if d.data.behaviour.no_banner:
                    server = await loop.create_server(
                        lambda: _Silent(self), d.host, d.port, reuse_address=True
                    )
                    self._silent.append(server)
                    return
                state = self.states[d.name]
                if d.telnet:
                    from govnet.lab.telnetsim import TelnetDevice

                    conns = self._silent_conns
                    telnet = await loop.create_server(
                        lambda: TelnetDevice(state, d.username, d.password, conns),
                        d.host,
                        d.port,
                        reuse_address=True,
                    )
                    self._silent.append(telnet)
                    return
                key = load_host_key(self.key_path(d))
                acceptor = await asyncssh.listen(
                    d.host,
                    d.port,
                    server_factory=lambda: _Server(self, d, state),
                    server_host_keys=[key],
                    line_editor=False,
                    agent_forwarding=False,
                    x11_forwarding=False,
                    allow_scp=False,
                    login_timeout=60,
                    reuse_address=True,
                )
                self._acceptors.append(acceptor)
                self._by_device[d.name] = (acceptor, key.public_data)
            except OSError as exc:
                raise OSError(
                    exc.errno, f"{d.name}: cannot listen on {d.host}:{d.port}: {exc.strerror}"
                ) from exc

        results = await asyncio.gather(*(open_one(d) for d in self.devices), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await self.stop()
            raise errors[0]
        log.info(
            "SSH simulator: %d devices listening (%d silent)",
            len(self.devices),
            len(self._silent),
        )

    def key_path(self, d: SimDevice) -> Path:
        return self.host_key or d.state_dir / HOST_KEY_FILE

    def reload_host_keys(self) -> list[str]:
        """Serve each device's key file as it is now (after ``govnet lab hostkey rotate``) to
        new connections; returns the devices whose key changed."""
        changed: list[str] = []
        for d in self.devices:
            if d.name not in self._by_device:
                continue
            acceptor, served = self._by_device[d.name]
            key = load_host_key(self.key_path(d))
            if key.public_data != served:
                acceptor.update(server_host_keys=[key])
                self._by_device[d.name] = (acceptor, key.public_data)
                changed.append(d.name)
        return changed

    async def stop(self) -> None:
        """Close every listener and every open session."""
        self.stopping = True
        # Let connections the kernel has just handed over reach connection_made (which closes
        # them now that we are stopping): asyncio 3.11 leaks a socket accepted but not yet
        # wrapped in a transport when its server is closed.
        for _ in range(5):
            await asyncio.sleep(0)
        for acceptor in self._acceptors:
            acceptor.close()
        for server in self._silent:
            server.close()
        for conn in list(self._conns):
            conn.close()
        for transport in list(self._silent_conns):
            transport.abort()
        waits = [a.wait_closed() for a in self._acceptors]
        waits += [s.wait_closed() for s in self._silent]
        waits += [c.wait_closed() for c in list(self._conns)]
        if waits:
            await asyncio.gather(*waits, return_exceptions=True)
        self._acceptors.clear()
        self._by_device.clear()
        self._silent.clear()
        self._conns.clear()
        self._silent_conns.clear()

    async def __aenter__(self) -> SshSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def main(argv: list[str] | None = None) -> int:
    """Serve a few devices of one platform on consecutive ports (manual testing)."""
    parser = argparse.ArgumentParser(prog="python -m govnet.lab.sshsim")
    parser.add_argument("--platform", default="huawei")
    parser.add_argument("--port", type=int, default=10022)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--state-dir", type=Path, default=Path(".lab/sshsim"))
    parser.add_argument("--data-dir", type=Path, default=None, help="lab data (<dir>/<name>/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    devices = [
        SimDevice(
            name=f"{args.platform}-{i}",
            platform=args.platform,
            port=args.port + i,
            username=args.username,
            password=args.password,
            state_dir=args.state_dir / f"{args.platform}-{i}",
            data=load_device_data(args.data_dir, f"{args.platform}-{i}"),
        )
        for i in range(args.count)
    ]

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with SshSimulator(devices, args.state_dir / "ssh_host_ed25519_key"):
            last = args.port + args.count - 1
            log.info("serving %s on 127.0.0.1:%d-%d", args.platform, args.port, last)
            await stop.wait()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
