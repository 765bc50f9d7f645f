"""The ``govnet`` command."""

from __future__ import annotations

import importlib
import os
from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from pathlib import Path
from typing import Any

import click

from govnet import __version__
from govnet.cli import common
from govnet.cli.common import App, GovnetGroup, add_global_options, consoles, run_main
from govnet.i18n import default_lang, set_lang


@click.group(cls=GovnetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    envvar="GOVNET_INVENTORY",
    help="Inventory YAML file or directory [env GOVNET_INVENTORY; config 'inventory'; "
    "default inventory/lab.yaml].",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of messages, errors and reports [env GOVNET_LANG; config 'lang'; "
    "default from LC_ALL/LC_MESSAGES/LANG].",
)
@click.option(
    "--csv-keys",
    is_flag=True,
    envvar="GOVNET_CSV_KEYS",
    help="CSV headers are the machine keys (device,zone,…) and no BOM, also in Chinese "
    "[env GOVNET_CSV_KEYS].",
)
@click.option(
    "--db",
    envvar="GOVNET_DB",
    metavar="URL",
    help="Store URL [env GOVNET_DB; config 'db'; "
    "default sqlite:///~/.local/share/govnet/govnet.sqlite].",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Print nothing but errors (cron); --output still written."
)
@click.option(
    "--no-cache",
    is_flag=True,
    envvar="GOVNET_NO_CACHE",
    help="Load the inventory in full, not from its cache [env GOVNET_NO_CACHE].",
)
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal.")
@click.option("-v", "--verbose", count=True, help="Log more (-vv for debug).")
@click.version_option(__version__, prog_name="govnet")
@click.pass_context
def cli(
    ctx: click.Context,
    inventory: Path | None,
    lang: str | None,
    csv_keys: bool,
    db: str | None,
    no_cache: bool,
    quiet: bool,
    no_color: bool,
    verbose: int,
) -> None:
    """govnet: run city and county e-government networks (政务内网 / 政务外网).

    Exit codes: 0 all good; 1 findings at or above --fail-on (or alerts); 2 usage or input
    error; 3 some devices could not be reached or read; 4 internal error (a bug).

    Settings come from the options, then GOVNET_* variables, then the config file
    ($GOVNET_CONFIG, ~/.config/govnet/govnet.yaml or /etc/govnet/govnet.yaml).
    """
    from govnet import logs
    from govnet import settings as _settings

    logs.setup(verbose, quiet=quiet)
    if no_color:
        os.environ["NO_COLOR"] = "1"
    # option > environment > config file > default (govnet/settings.py)
    conf = _settings.load_settings().override(inventory=inventory, db=db, lang=lang)
    _settings.activate(conf)
    ctx.call_on_close(lambda: _settings.activate(None))
    ctx.call_on_close(lambda: set_lang(default_lang()))  # CliRunner: the next command starts anew
    from govnet.report.tabular import set_csv_keys

    set_csv_keys(csv_keys)
    ctx.call_on_close(lambda: set_csv_keys(False))
    ctx.obj = App(
        inventory_path=conf.inventory,
        lang=conf.lang or default_lang(),
        db_url=conf.db,
        inventory_cache=not no_cache,
        **consoles(quiet, no_color),
    )
    from govnet.transport.ssh import use_known_hosts

    use_known_hosts(ctx.obj.host_keys)  # every SSH session of this command checks keys there
    ctx.call_on_close(lambda: use_known_hosts(None))


COMMANDS = [
    ("inventory", "inventory"),
    ("lab", "lab"),
    ("backup", "backup"),
    ("audit", "audit"),
    ("isolation", "isolation"),
    ("discover", "discover"),
    ("av", "av"),
    ("provision", "provision"),
    ("ipam", "ipam"),
    ("monitor", "monitor"),
    ("alerts", "alerts"),
    ("notify", "notify"),
    ("dashboard", "dashboard"),
    ("report", "report"),
    ("hostkeys", "hostkeys"),
    ("init", "init"),
    ("export", "transfer:export_cmd"),
    ("import", "transfer:import_cmd"),
    ("store", "transfer:store_group"),
    ("worker", "distribute:worker"),
]


class _LazyCommands(dict[str, click.Command]):
    """``cli.commands``, importing a command's module only when that command is looked up.

    ``govnet audit …`` imports govnet.cli.audit and nothing of backup, monitor, dashboard…
    (SQLAlchemy, netmiko, pysnmp: ~1 s of start-up); listing them all (``govnet --help``,
    walking the tree) imports them all, as before.
    """

    def __init__(self, modules: list[tuple[str, str]]) -> None:
        super().__init__()
        self._pending = dict(modules)  # command name → module (and attribute) name

    def _load(self, name: object) -> None:
        module = self._pending.pop(name, None) if isinstance(name, str) else None
        if module is None:
            return
        module, _, attribute = module.partition(":")  # "module" or "module:attribute"
        mod = importlib.import_module(f"govnet.cli.{module}")
        command: click.Command = getattr(mod, attribute or module)
        add_global_options(command)
        super().__setitem__(command.name or module, command)

    def _load_all(self) -> None:
        for name in list(self._pending):
            self._load(name)

    def get(self, key: str, default: Any = None) -> Any:
        self._load(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> click.Command:
        self._load(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._load(key)
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        return super().__iter__()

    def __len__(self) -> int:
        self._load_all()
        return super().__len__()

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        self._load_all()
        return super().keys()

    def values(self) -> ValuesView[click.Command]:  # type: ignore[override]
        self._load_all()
        return super().values()

    def items(self) -> ItemsView[str, click.Command]:  # type: ignore[override]
        self._load_all()
        return super().items()


cli.commands = _LazyCommands(COMMANDS)


def main() -> None:
    common.ONE_SHOT = True
    run_main(cli, "govnet")
