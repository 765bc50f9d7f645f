"""``govnet init DIR``: a starter inventory, the shipped playbooks and a config file."""

from __future__ import annotations

from pathlib import Path

import click

from govnet.cli.common import App, pass_app
from govnet.i18n import tr
from govnet.settings import CONFIG_NAME
from govnet.starter import write_starter


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@pass_app
def init(app: App, /, directory: Path, force: bool) -> None:
    """Write a starter inventory, the baseline playbooks and a config file into DIRECTORY.

    Then 'GOVNET_CONFIG=DIRECTORY/govnet.yaml govnet inventory validate' (or copy the folder
    to /etc/govnet). Exit 2 if a file exists (nothing is written; --force overwrites)."""
    written = write_starter(directory, force)
    config = (directory / CONFIG_NAME).resolve()
    app.console.print(
        tr(
            app.lang,
            "wrote {n_written} files into {directory}: {CONFIG_NAME}, inventory.yaml, "
            "playbooks/\nnext: edit inventory.yaml, then\n  GOVNET_CONFIG={config} govnet "
            "inventory validate\nor copy the folder to /etc/govnet (read without GOVNET_CONFIG, "
            "from any directory).",
            n_written=len(written),
            directory=directory,
            CONFIG_NAME=CONFIG_NAME,
            config=config,
        ),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
