"""Exclusive file locks for cron audits and daemons: a second holder fails at once."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from govnet.errors import GovnetError


@contextmanager
def exclusive(path: Path, holder: str, busy: Callable[[str], str]) -> Iterator[None]:
    """Hold ``path`` locked for the block, writing ``holder`` into it; if someone else holds
    it, raise ``GovnetError(busy(<their holder text>))`` without waiting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            raise GovnetError(busy(fh.read().strip() or "?")) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{holder}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
