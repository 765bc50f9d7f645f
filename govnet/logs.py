"""Logging set-up for the CLI and daemons: one line per record, secrets masked.

Libraries that log their own failures (paramiko's transport thread prints whole tracebacks)
are silenced: govnet translates those failures into per-device results instead.

netmiko's DEBUG records carry raw channel data: every read as it arrives ("read_channel: …",
which can end in the middle of a password), every write, and its expect patterns (commands
``re.escape``'d). A piece of a secret cannot be recognised, so at ``-vv`` netmiko logs at INFO
at most, and :mod:`govnet.transport.ssh` logs each command and its whole reply itself, masked.
"""

from __future__ import annotations

import logging
import os

from govnet.secrets import RedactingFilter
from govnet.textsafe import visible

QUIET_LIBRARIES = ("paramiko", "netmiko", "asyncssh", "pysnmp")
CHANNEL_LOGGERS = ("netmiko",)  # never at DEBUG: their records split secrets across reads


class VisibleFormatter(logging.Formatter):
    """Log lines quote device replies: control characters are shown, never sent."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def setup(verbosity: int = 0) -> None:
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING
    if os.environ.get("GOVNET_DEBUG"):
        level = logging.DEBUG
    handler = logging.StreamHandler()
    handler.setFormatter(VisibleFormatter("govnet: %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(
            logging.DEBUG if level == logging.DEBUG else logging.CRITICAL + 1
        )
    for name in CHANNEL_LOGGERS:
        if level == logging.DEBUG:
            logging.getLogger(name).setLevel(logging.INFO)
