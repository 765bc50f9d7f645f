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
from collections.abc import Mapping

from govnet.secrets import RedactingFilter
from govnet.textsafe import visible

QUIET_LIBRARIES = ("paramiko", "netmiko", "asyncssh", "pysnmp")
CHANNEL_LOGGERS = ("netmiko",)  # never at DEBUG: their records split secrets across reads


class VisibleFormatter(logging.Formatter):
    """Log lines quote device replies: control characters are shown, never sent."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


# syslog priorities (sd-daemon(3)): journald reads a "<N>" line prefix as the line's priority
PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


def priority(levelno: int) -> int:
    """A logging level as a syslog priority: 2 crit, 3 err, 4 warning, 6 info, 7 debug."""
    return next((p for level, p in PRIORITIES if levelno >= level), 7)


def stderr_is_journal(env: Mapping[str, str] | None = None, fd: int = 2) -> bool:
    """Whether ``fd`` is the journal's stream: systemd sets ``$JOURNAL_STREAM`` to its
    ``device:inode`` (a stderr redirected elsewhere by the service no longer matches)."""
    value = (os.environ if env is None else env).get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


class JournalPrefix(logging.Formatter):
    """Wraps a formatter: every line of a record starts with ``<N>``, its syslog priority, so
    ``journalctl -p warning`` keeps warnings and errors and drops the info lines."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in self.inner.format(record).split("\n"))


def for_stderr(formatter: logging.Formatter) -> logging.Formatter:
    """``formatter`` as it should write to this process's stderr (journal-aware)."""
    return JournalPrefix(formatter) if stderr_is_journal() else formatter


def quiet() -> None:
    """``-q``: warnings off, errors still shown (a level already below WARNING, asked for
    with -v, is left alone)."""
    root = logging.getLogger()
    if root.level == logging.WARNING:
        root.setLevel(logging.ERROR)
    for name in ("govnet.monitor",):  # the daemon's info lines (monitor/logfmt.py)
        logger = logging.getLogger(name)
        if logger.level in (logging.INFO, logging.WARNING):
            logger.setLevel(logging.ERROR)


def setup(verbosity: int = 0, quiet: bool = False) -> None:
    """One handler on stderr; ``quiet`` (``-q``) keeps errors only unless -v asks for more."""
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING
    if quiet and not verbosity:
        level = logging.ERROR
    if os.environ.get("GOVNET_DEBUG"):
        level = logging.DEBUG
    handler = logging.StreamHandler()
    handler.setFormatter(for_stderr(VisibleFormatter("govnet: %(name)s: %(message)s")))
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
