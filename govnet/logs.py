"""Logging set-up for the CLI and daemons: one line per record, secrets masked.

Libraries that log their own failures (paramiko's transport thread prints whole tracebacks)
are silenced: govnet translates those failures into per-device results instead.
"""

from __future__ import annotations

import logging
import os

from govnet.secrets import RedactingFilter

QUIET_LIBRARIES = ("paramiko", "netmiko", "asyncssh", "pysnmp")


def setup(verbosity: int = 0, quiet: bool = False) -> None:
    """One handler on stderr; ``quiet`` (``-q``) keeps errors only unless -v asks for more."""
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING
    if quiet and not verbosity:
        level = logging.ERROR
    if os.environ.get("GOVNET_DEBUG"):
        level = logging.DEBUG
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("govnet: %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(
            logging.DEBUG if level == logging.DEBUG else logging.CRITICAL + 1
        )
