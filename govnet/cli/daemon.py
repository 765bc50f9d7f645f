"""``govnetd``: the monitoring daemon's entry point."""

from __future__ import annotations

import click

from govnet import __version__


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govnetd")
def cli() -> None:
    """govnetd: the SNMP monitoring daemon (polls the inventory, stores samples, raises alerts).

    The poller arrives with the monitoring work; until then this prints its help only.
    """
    click.echo(click.get_current_context().get_help())


def main() -> None:
    cli.main(prog_name="govnetd")
