"""A Telnet-only lab device: an old county switch that never got SSH.

Served from the same asyncio loop and the same vendor shell (``govnet.lab.shell``) as the
SSH devices, so a backup over Telnet reads the same configuration. The login is the
vendor's ("Username:" / "Password:"); Telnet option negotiation (IAC sequences) from the
client is read and ignored; the server negotiates nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from govnet.lab.shell import DeviceState, Shell

log = logging.getLogger("govnet.lab.telnet")
IAC = 255
_SUB_BEGIN, _SUB_END = 250, 240


class TelnetDevice(asyncio.Protocol):
    """One Telnet connection: login, then the device's shell, a character at a time."""

    def __init__(
        self,
        state: DeviceState,
        username: str,
        password: str,
        conns: set[asyncio.Transport] | None = None,
    ) -> None:
        self._conns = conns if conns is not None else set()  # the simulator closes them
        self._state = state
        self._username = username
        self._password = password
        self._transport: asyncio.Transport | None = None
        self._stage = "username"
        self._given_user = ""
        self._shell: Shell | None = None
        self._buf: list[str] = []
        self._last_cr = False
        self._iac: list[int] = []  # an option sequence being skipped
        self._failures = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._conns.add(transport)
        self._write("\nLogin authentication\n\n\nUsername:")

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._conns.discard(self._transport)

    def _write(self, text: str) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(text.replace("\n", "\r\n").encode("utf-8"))

    def _strip_options(self, data: bytes) -> str:
        out = bytearray()
        for byte in data:
            if self._iac:
                self._iac.append(byte)
                seq = self._iac
                if len(seq) == 2 and seq[1] == IAC:  # an escaped 255
                    out.append(IAC)
                    self._iac = []
                elif (
                    (len(seq) == 2 and seq[1] < _SUB_BEGIN)  # a two-byte command
                    or (len(seq) == 3 and seq[1] != _SUB_BEGIN)  # WILL/WONT/DO/DONT option
                    or (seq[1] == _SUB_BEGIN and seq[-2:] == [IAC, _SUB_END])  # SB … SE
                ):
                    self._iac = []
            elif byte == IAC:
                self._iac = [byte]
            elif byte != 0:
                out.append(byte)
        return out.decode("utf-8", "replace")

    def data_received(self, data: bytes) -> None:
        out: list[str] = []
        for ch in self._strip_options(data):
            if ch in "\r\n":
                if ch == "\n" and self._last_cr:
                    self._last_cr = False
                    continue
                self._last_cr = ch == "\r"
                line = "".join(self._buf)
                self._buf.clear()
                out.append(self._line(line))
                if self._shell is not None and self._shell.closed:
                    break
                continue
            self._last_cr = False
            if ch in "\x7f\b":
                if self._buf:
                    self._buf.pop()
                    out.append("\b \b")
            elif ch.isprintable():
                self._buf.append(ch)
                if self._stage != "password" and (self._shell is None or self._shell.echo):
                    out.append(ch)
        if out:
            self._write("".join(out))
        if self._transport is not None and (
            (self._shell is not None and self._shell.closed) or self._failures >= 3
        ):
            self._transport.close()

    def _line(self, line: str) -> str:
        if self._stage == "username":
            self._given_user = line.strip()
            self._stage = "password"
            return "\nPassword:"
        if self._stage == "password":
            ok = hmac.compare_digest(
                self._given_user.encode(), self._username.encode()
            ) & hmac.compare_digest(line.encode(), self._password.encode())
            if not ok:
                self._failures += 1
                self._stage = "username"
                return "\nError: Failed to authenticate.\n\nUsername:"
            self._stage = "shell"
            self._shell = Shell(self._state, self._given_user)
            return "\n" + self._shell.greeting()
        assert self._shell is not None
        return "\n" + self._shell.handle(line)
