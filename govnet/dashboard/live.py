"""The live view: the alternate screen, a new frame every ``refresh`` seconds, paging keys.

Keys (when stdin is a terminal): ``n`` or space next page, ``p`` previous page, ``q`` quit.
Pages also turn by themselves every ``rotate`` seconds when the devices do not fit (a wall
display nobody touches). Frames are drawn whole (rich Live, ``screen=True``): no flicker, no
scrollback pollution, and the terminal is restored on exit, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import time
import tty
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.live import Live

from govnet.dashboard.render import Frame, View

MIN_REFRESH = 0.25  # at most 4 frames a second


@contextlib.contextmanager
def _keys() -> Iterator[Callable[[float], str]]:
    """A function waiting up to N seconds for one key ("" on timeout); cbreak mode on a TTY."""
    fd = sys.stdin.fileno() if sys.stdin and sys.stdin.isatty() else None
    if fd is None:

        def sleep(seconds: float) -> str:
            time.sleep(seconds)
            return ""

        yield sleep
        return
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:

        def read(seconds: float) -> str:
            ready, _, _ = select.select([fd], [], [], seconds)
            return os.read(fd, 1).decode(errors="ignore") if ready else ""

        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run_live(
    frame: Callable[[View], Frame],
    console: Console,
    lang: str,
    refresh: float,
    rotate: float = 15.0,
) -> None:
    refresh = max(refresh, MIN_REFRESH)
    page = 0
    turned = time.monotonic()
    with (
        _keys() as wait,
        Live(console=console, screen=True, auto_refresh=False, redirect_stdout=False) as live,
    ):
        while True:
            view = View(console.width, console.height, lang, page, live=True)
            shown = frame(view)
            live.update(shown.renderable, refresh=True)
            deadline = time.monotonic() + refresh
            while (left := deadline - time.monotonic()) > 0:
                key = wait(left)
                if key in ("q", "Q", "\x1b", "\x03"):
                    return
                if key in ("n", " ", "j"):
                    page, turned = page + 1, time.monotonic()
                    break
                if key in ("p", "k"):
                    page, turned = max(0, page - 1), time.monotonic()
                    break
            if shown.pages > 1 and rotate > 0 and time.monotonic() - turned >= rotate:
                page, turned = page + 1, time.monotonic()
