"""What every command shares: the app context, filter and output options, error rendering."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from govnet import i18n, logs
from govnet.cli import complete
from govnet.errors import ExitCode, GovnetError, InputError
from govnet.i18n import Lang, _
from govnet.inventory import Filters, Inventory, load_inventory
from govnet.logs import stderr_is_journal
from govnet.secrets import REDACTOR
from govnet.textsafe import SafeConsole, visible
from govnet.transport.hostkeys import KnownHosts

if TYPE_CHECKING:  # SQLAlchemy costs ~0.4 s to import: only for the commands that use the store
    from govnet.store.db import Store

F = TypeVar("F", bound=Callable[..., Any])
# Set by the console script (govnet.cli.main.main): this process runs one command and exits,
# so the inventory it loads may be frozen out of the cyclic GC (never in tests or daemons).
ONE_SHOT = False
DEFAULT_INVENTORY = Path("inventory/lab.yaml")


@dataclass
class App:
    """What a command needs from the top: inventory, store, and three consoles.

    ``quiet`` is the user's ``-q``: nothing on stdout, no chatter or warnings on stderr, only
    errors (``errors``, one line each); ``--output`` files are still written. ``interactive``
    is whether stderr is a terminal: progress bars only there, and off a terminal nothing on
    stderr is wrapped (a cron mail or journal line is one line, however long).
    """

    inventory_path: Path | None
    lang: Lang
    quiet: bool = False
    debug: bool = False
    console: Console = field(default_factory=SafeConsole)
    err: Console = field(default_factory=lambda: SafeConsole(stderr=True))
    db_url: str | None = None
    interactive: bool = False
    errors: Console = field(default_factory=lambda: SafeConsole(stderr=True, soft_wrap=True))
    inventory_cache: bool = True  # --no-cache / GOVNET_NO_CACHE turns it off
    freeze_inventory: bool = True  # loader's freeze: not in a daemon that reloads it
    _inventory: Inventory | None = None
    _store: Store | None = None
    _host_keys: tuple[str | None, KnownHosts] | None = None

    def host_keys(self) -> KnownHosts:
        """govnet's known_hosts (beside the store, whichever --db says) and the system files."""
        if self._host_keys is None or self._host_keys[0] != self.db_url:
            self._host_keys = (self.db_url, KnownHosts.default(self.db_url))
        return self._host_keys[1]

    def __setattr__(self, name: str, value: Any) -> None:
        # One source of truth: however ``quiet`` gets set (the group's -q, a -q given after
        # the subcommand, a console replaced later), what prints follows it.
        super().__setattr__(name, value)
        if name == "lang":  # errors, warnings and findings' messages follow the reader's language
            i18n.set_lang(value)
        if name in ("quiet", "console", "err") and getattr(self, "quiet", False):
            for console in (getattr(self, "console", None), getattr(self, "err", None)):
                if console is not None:
                    console.quiet = True
            if name == "quiet":
                logs.quiet()

    def store(self, create: bool = True) -> Store:
        """The store; read-only commands pass ``create=False`` so a mistyped --db is an
        error, never a new empty store."""
        if self._store is None:
            from govnet.store.db import Store

            self._store = Store.open(self.db_url, create=create)
        return self._store

    @contextmanager
    def progress(self, total: int, label: str) -> Iterator[Callable[[Any], None]]:
        """A progress bar on a terminal; silent in cron (--quiet or no TTY)."""
        if self.quiet or not self.interactive or total == 0:
            yield lambda _result: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        ) as bar:
            task = bar.add_task(label, total=total)
            yield lambda _result: bar.advance(task)

    def inventory(self) -> Inventory:
        if self._inventory is None:
            path = self.inventory_path
            if path is None:
                if not DEFAULT_INVENTORY.exists():
                    raise GovnetError(
                        _(
                            "no inventory given: pass -i FILE|DIR or set GOVNET_INVENTORY "
                            "(the default {default} is not here)",
                            default=DEFAULT_INVENTORY,
                        )
                    )
                path = DEFAULT_INVENTORY
            # terminals CSVs are read when a command first looks at terminals
            # one command, one inventory until exit: kept out of the cyclic GC's walks (freeze)
            self._inventory = load_inventory(
                path,
                lazy_terminals=True,
                cache=self.inventory_cache,
                freeze=ONE_SHOT and self.freeze_inventory,
            )
        return self._inventory

    def write(self, text: str, output: Path | None) -> None:
        """Machine output to a file (atomically) or stdout; secrets masked either way, and on
        stdout no control character from a device or a file reaches the terminal."""
        text = REDACTOR(text)
        if output is None:
            if not self.quiet:
                click.echo(visible(text), nl=False)
            return
        try:
            if output.exists() and not output.is_file():  # /dev/null, a FIFO, /dev/stdout
                with output.open("w", encoding="utf-8") as stream:
                    stream.write(text)
                return
            tmp = output.with_name(f".{output.name}.tmp")  # a reader never sees half a report
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(output)
        except OSError as exc:
            raise GovnetError(
                _("{output}: cannot write: {reason}", output=output, reason=exc.strerror)
            ) from exc


def consoles(quiet: bool, no_color: bool = False) -> dict[str, Any]:
    """The App's consoles for this process: stdout, chatter on stderr, errors on stderr."""
    interactive = sys.stderr.isatty()
    return {
        "quiet": quiet,
        "interactive": interactive,
        # off a terminal (cron, pipes) rich would squeeze tables into 80 columns
        "console": SafeConsole(
            no_color=no_color or None,
            width=None if sys.stdout.isatty() else 200,
            quiet=quiet,
        ),
        "err": SafeConsole(
            stderr=True, no_color=no_color or None, quiet=quiet, soft_wrap=not interactive
        ),
        "errors": SafeConsole(stderr=True, no_color=no_color or None, soft_wrap=True),
    }


pass_app = click.make_pass_decorator(App)


def filter_options(func: F) -> F:
    """The inventory filters every fleet command takes."""
    opts = [
        click.option(
            "--zone",
            multiple=True,
            help="Zone name (repeatable).",
            shell_complete=complete.complete_zones,
        ),
        click.option(
            "--site",
            multiple=True,
            help="Site name; includes its child sites.",
            shell_complete=complete.complete_sites,
        ),
        click.option(
            "--unit", multiple=True, help="Unit name.", shell_complete=complete.complete_units
        ),
        click.option("--role", multiple=True, help="Device role: core, access, ups, …"),
        click.option(
            "--platform", multiple=True, help="Platform: huawei, hp_comware, cisco_ios, …"
        ),
        click.option("--tag", multiple=True, help="Device tag."),
        click.option(
            "--limit",
            "-l",
            multiple=True,
            help="Name globs, comma-separated; !GLOB excludes.",
            shell_complete=complete.complete_limit,
        ),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def filters_from(kwargs: dict[str, Any]) -> Filters:
    return Filters(**{k: tuple(kwargs.pop(k)) for k in list(Filters.__dataclass_fields__)})


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    def deco(func: F) -> F:
        func = click.option(
            "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
        )(func)
        return click.option(
            "--format", "-f", "fmt", type=click.Choice(choices), default=default, show_default=True
        )(func)

    return deco


def _journal_prefix(err: Console, level: int) -> str:
    """``<3>`` (error) or ``<4>`` (warning) when ``err`` writes to the journal's stream, so a
    timer-run command's errors pass ``journalctl -p warning``."""
    return f"<{level}>" if err.file is sys.stderr and stderr_is_journal() else ""


def render_error(exc: GovnetError, err: Console) -> None:
    """One line per problem, no traceback. Secrets are masked."""
    if isinstance(exc, InputError):
        for diag in exc.diagnostics:
            warning = diag.severity == "warning"
            err.print(
                _journal_prefix(err, 4 if warning else 3) + visible(REDACTOR(str(diag))),
                style="yellow" if warning else "red",
                markup=False,
                emoji=False,
                highlight=False,
                soft_wrap=True,
            )
        err.print(
            f"{_journal_prefix(err, 3)}govnet: {exc}",
            markup=False,
            emoji=False,
            highlight=False,
            soft_wrap=True,
        )
    else:
        err.print(
            f"{_journal_prefix(err, 3)}govnet: {visible(REDACTOR(str(exc)))}",
            emoji=False,
            style="red",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def _set_global(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Apply a global option given after the subcommand (``govnet audit -i inv/ -q``)."""
    if value is None or value is False or param.name is None:
        return
    app = ctx.find_object(App)
    if app is None:
        return
    if param.name == "inventory":
        app.inventory_path, app._inventory = value, None
    elif param.name == "db":
        app.db_url, app._store = value, None
    elif param.name == "lang":
        app.lang = value
    elif param.name == "quiet":
        app.quiet = True
    elif param.name == "no_color":
        os.environ["NO_COLOR"] = "1"
        for name, console in consoles(app.quiet, no_color=True).items():
            setattr(app, name, console)


def _global_options() -> list[click.Option]:
    """The group's options, accepted again on every command (as Ansible users type them).
    They are not read from the environment here: the group already did."""
    common: dict[str, Any] = {"expose_value": False, "callback": _set_global, "is_eager": True}
    return [
        click.Option(
            ["-i", "--inventory"],
            type=click.Path(path_type=Path),
            help="Inventory YAML file or directory (also before the command).",
            **common,
        ),
        click.Option(
            ["--db"], metavar="URL", help="Store URL (also before the command).", **common
        ),
        click.Option(
            ["--lang"],
            type=click.Choice(["zh", "en"]),
            help="Language of messages and reports.",
            **common,
        ),
        click.Option(
            ["-q", "--quiet"], is_flag=True, help="No progress or chatter (cron).", **common
        ),
        click.Option(["--no-color"], is_flag=True, help="Plain output.", **common),
    ]


def add_global_options(command: click.Command) -> None:
    """Give every command below ``command`` the global options, except where a command has
    an option of that name or flag itself (govnetd has its own -i and --db)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_global_options(sub)
    taken = {o for p in command.params for o in getattr(p, "opts", [])}
    taken |= {p.name for p in command.params}
    for option in _global_options():
        if option.name in taken or any(o in taken for o in option.opts):
            continue
        command.params.append(option)


class _Boundary:
    """Turns govnet's errors into one-line messages and their exit codes (README "Exit codes"),
    for the ``govnet`` group and the ``govnetd`` command alike (bugs: :func:`run_main`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except GovnetError as exc:
            app = ctx.find_object(App)
            render_error(exc, app.errors if app else SafeConsole(stderr=True, soft_wrap=True))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo(_("govnet: interrupted"), err=True)
            ctx.exit(130)


class GovnetGroup(_Boundary, click.Group):
    """The ``govnet`` group."""


class GovnetCommand(_Boundary, click.Command):
    """A stand-alone command (``govnetd``)."""


def exit_with(code: int) -> None:
    """The one way a command ends with its exit code (0: it simply returns)."""
    if code:
        raise SystemExit(int(code))


def run_main(command: click.Command, prog_name: str) -> None:
    """The one error boundary of ``govnet`` and ``govnetd``: a govnet error is one line and
    its exit code, anything else a bug: one line, exit 4, the traceback with GOVNET_DEBUG=1."""
    try:
        command.main(prog_name=prog_name)
    except SystemExit:
        raise
    except GovnetError as exc:  # raised where no command's own handler saw it (govnetd)
        render_error(exc, SafeConsole(stderr=True, soft_wrap=True))
        sys.exit(int(exc.exit_code))
    except Exception as exc:  # a bug: never a raw traceback for the admin
        sys.exit(internal_error(exc))


def debug_enabled() -> bool:
    return bool(os.environ.get("GOVNET_DEBUG"))


def internal_error(exc: BaseException) -> int:
    """A bug: one line, the exception named, and how to get the traceback."""
    if debug_enabled():
        raise exc
    prefix = "<3>" if stderr_is_journal() else ""
    sys.stderr.write(
        prefix
        + _(
            "govnet: internal error: {kind}: {error} (a bug: rerun with GOVNET_DEBUG=1 and "
            "report the traceback)",
            kind=type(exc).__name__,
            error=visible(REDACTOR(str(exc))),
        )
        + "\n"
    )
    return int(ExitCode.INTERNAL)
