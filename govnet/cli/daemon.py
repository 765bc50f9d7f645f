"""``govnetd``: the monitoring daemon's entry point (the same as ``govnet monitor run``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govnet import __version__
from govnet.cli.common import (
    App,
    GovnetCommand,
    consoles,
    exit_with,
    filter_options,
    filters_from,
    run_main,
)
from govnet.cli.monitor import run_daemon, run_options
from govnet.i18n import default_lang


@click.command(cls=GovnetCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    envvar="GOVNET_INVENTORY",
    help="Inventory YAML file or directory [env GOVNET_INVENTORY; config 'inventory'; "
    "default inventory/lab.yaml].",
)
@click.option(
    "--db", envvar="GOVNET_DB", metavar="URL", help="Store URL [env GOVNET_DB; config 'db']."
)
@click.option("-v", "--verbose", count=True, help="Log more (-vv for debug).")
@filter_options
@run_options
@click.version_option(__version__, prog_name="govnetd")
def cli(inventory: Path | None, db: str | None, verbose: int, **kwargs: Any) -> None:
    """govnetd: the SNMP monitoring daemon (polls the inventory, stores samples, raises
    alerts, serves /metrics). SIGTERM stops it cleanly, SIGHUP reloads the inventory and the
    alert rules; one daemon per store. Reads the config file like govnet (GOVNET_CONFIG,
    ~/.config/govnet/govnet.yaml, /etc/govnet/govnet.yaml). See contrib/govnetd.service.
    """
    from govnet import settings

    # option > environment > config file > default (govnet/settings.py); errors: run_main
    conf = settings.load_settings().override(inventory=inventory, db=db)
    settings.activate(conf)
    app = App(
        inventory_path=conf.inventory,
        lang=conf.lang or default_lang(),
        db_url=conf.db,
        **consoles(False),
    )
    filters = filters_from(kwargs)
    try:
        code = run_daemon(app, filters, verbose, **kwargs)
    finally:
        settings.activate(None)
    exit_with(code)


def main() -> None:
    run_main(cli, "govnetd")
