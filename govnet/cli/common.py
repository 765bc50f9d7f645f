"""What every command shares: the app context, filter and output options, error rendering."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from govnet.errors import ExitCode, GovnetError, InputError
from govnet.i18n import Lang
from govnet.inventory import Filters, Inventory, load_inventory
from govnet.secrets import REDACTOR
from govnet.store.db import Store

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_INVENTORY = Path("inventory/lab.yaml")


@dataclass
class App:
    inventory_path: Path | None
    lang: Lang
    quiet: bool = False
    debug: bool = False
    console: Console = field(default_factory=Console)
    err: Console = field(default_factory=lambda: Console(stderr=True))
    db_url: str | None = None
    inventory_cache: bool = True  # --no-cache / GOVNET_NO_CACHE turns it off (issue 21)
    _inventory: Inventory | None = None
    _store: Store | None = None

    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.db_url)
        return self._store

    @contextmanager
    def progress(self, total: int, label: str) -> Iterator[Callable[[Any], None]]:
        """A progress bar on a terminal; silent in cron (--quiet or no TTY)."""
        if self.quiet or total == 0:
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
                        "no inventory given: pass -i FILE|DIR or set GOVNET_INVENTORY "
                        f"(the default {DEFAULT_INVENTORY} is not here)"
                    )
                path = DEFAULT_INVENTORY
            # terminals CSVs are read when a command first looks at terminals (issue 21)
            self._inventory = load_inventory(path, lazy_terminals=True, cache=self.inventory_cache)
        return self._inventory

    def write(self, text: str, output: Path | None) -> None:
        """Machine output to a file (atomically) or stdout; secrets masked either way."""
        text = REDACTOR(text)
        if output is None:
            click.echo(text, nl=False)
            return
        tmp = output.with_name(f".{output.name}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(output)
        except OSError as exc:
            raise GovnetError(f"{output}: cannot write: {exc.strerror}") from exc


pass_app = click.make_pass_decorator(App)


def filter_options(func: F) -> F:
    """The inventory filters every fleet command takes."""
    opts = [
        click.option("--zone", multiple=True, help="Zone name (repeatable)."),
        click.option("--site", multiple=True, help="Site name; includes its child sites."),
        click.option("--unit", multiple=True, help="Unit (单位) name."),
        click.option("--role", multiple=True, help="Device role: core, access, ups, …"),
        click.option(
            "--platform", multiple=True, help="Platform: huawei, hp_comware, cisco_ios, …"
        ),
        click.option("--tag", multiple=True, help="Device tag."),
        click.option(
            "--limit", "-l", multiple=True, help="Name globs, comma-separated; !GLOB excludes."
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


def render_error(exc: GovnetError, err: Console) -> None:
    """One line per problem, no traceback. Secrets are masked."""
    if isinstance(exc, InputError):
        for diag in exc.diagnostics:
            style = "yellow" if diag.severity == "warning" else "red"
            err.print(
                REDACTOR(str(diag)), style=style, markup=False, highlight=False, soft_wrap=True
            )
        err.print(f"govnet: {exc}", markup=False, highlight=False, soft_wrap=True)
    else:
        err.print(
            f"govnet: {REDACTOR(str(exc))}",
            style="red",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


class GovnetGroup(click.Group):
    """Turns govnet's errors into one-line messages and DESIGN.md's exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GovnetError as exc:
            app = ctx.find_object(App)
            render_error(exc, app.err if app else Console(stderr=True))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("govnet: interrupted", err=True)
            ctx.exit(130)


def exit_with(code: int) -> None:
    if code:
        raise SystemExit(code)


def debug_enabled() -> bool:
    return bool(os.environ.get("GOVNET_DEBUG"))


def internal_error(exc: BaseException) -> int:
    """A bug: one line, the exception named, and how to get the traceback."""
    if debug_enabled():
        raise exc
    sys.stderr.write(
        f"govnet: internal error: {type(exc).__name__}: {REDACTOR(str(exc))} "
        "(a bug: rerun with GOVNET_DEBUG=1 and report the traceback)\n"
    )
    return int(ExitCode.UNREACHABLE) + 1
