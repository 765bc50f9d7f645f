"""govnet's exception tree. Library errors are translated at the boundary (``raise … from``).

Every error carries the exit code the CLI uses (README "Exit codes"):
2 usage or input error, 3 could not reach or read a device, 4 a bug (internal error),
5 the store (database) could not be opened or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from govnet.i18n import N_, _, ngettext


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    UNREACHABLE = 3
    INTERNAL = 4
    STORE = 5


class GovnetError(Exception):
    """Root of every error govnet raises on purpose."""

    exit_code: int = ExitCode.USAGE


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in an input file, located as precisely as we know."""

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        prefix = _("warning: ") if self.severity == "warning" else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}: {prefix}{path}{self.message}"


class InputError(GovnetError):
    """Bad input file (inventory, playbook, CSV): carries every diagnostic at once."""

    exit_code = ExitCode.USAGE

    def __init__(self, diagnostics: list[Diagnostic], what: str = N_("input")) -> None:
        self.diagnostics = sorted(diagnostics)
        self.what = what
        errors = [d for d in self.diagnostics if d.severity == "error"]
        super().__init__(
            ngettext("{n} error in {what}", "{n} errors in {what}", len(errors), what=_(what))
        )


class InventoryError(InputError):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics, N_("inventory"))


class PlaybookError(InputError):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics, N_("playbook"))


class StoreError(GovnetError):
    """The store (SQLite file or PostgreSQL database) could not be opened, read or written."""

    exit_code = ExitCode.STORE


class SecretError(GovnetError):
    """A secret reference could not be resolved (unset env var, unreadable file)."""

    exit_code = ExitCode.USAGE


class TransportError(GovnetError):
    """Talking to a device failed. ``host`` names the device."""

    exit_code = ExitCode.UNREACHABLE
    kind = "transport"

    def __init__(self, host: str, message: str) -> None:
        self.host = host
        self.message = message
        super().__init__(f"{host}: {message}")


class AuthError(TransportError):
    kind = "auth"


class DeviceTimeout(TransportError, TimeoutError):
    """A device did not answer in time. Also a :class:`TimeoutError` (as scrapli's is), so
    code that handles timeouts generically handles ours."""

    kind = "timeout"


class ConnectError(TransportError):
    kind = "connect"


class ProtocolError(TransportError):
    """The device answered, but not as expected (garbled reply, unknown prompt)."""

    kind = "protocol"


class CommandError(TransportError):
    """The device rejected a command (vendor error text in ``output``)."""

    kind = "command"

    def __init__(self, host: str, message: str, output: str = "") -> None:
        super().__init__(host, message)
        self.output = output


class LabError(GovnetError):
    exit_code = ExitCode.USAGE


class StaleError(GovnetError):
    """What the store holds is too old to describe the network now (the daemon is stopped)."""

    exit_code = ExitCode.UNREACHABLE
