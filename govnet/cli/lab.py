"""``govnet lab up|down|status``."""

from __future__ import annotations

import click


@click.group()
def lab() -> None:
    """Run the embedded lab: simulated SSH devices and SNMP agents on 127.0.0.1."""
