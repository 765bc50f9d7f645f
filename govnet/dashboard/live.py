"""The live view: the alternate screen, a new frame every ``refresh`` seconds, keys for a wall.

Only ``q`` and Ctrl-C quit: a wall display must not close when someone touches the keyboard.
Escape sequences are read whole (an arrow key is ESC [ A, not an ESC and then garbage), so

- ``n`` space PgDn ↓ → next page, ``p`` PgUp ↑ ← previous page, Home/End first/last page;
- Tab / Shift-Tab move the selection over the device tiles, Enter opens the selected device's
  detail view (health, interfaces, sparklines), where ←/→ go to the previous/next device and
  Esc (or Enter) goes back;
- ``?`` shows the keys, Esc closes them.

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
from dataclasses import dataclass, replace

from rich.console import Console
from rich.live import Live

from govnet.dashboard.render import Frame, View

MIN_REFRESH = 0.25  # at most 4 frames a second
SEQUENCE_WAIT = 0.05  # the rest of an escape sequence arrives within this (a bare Esc: not)

# escape sequences (xterm, VT220, tmux, the Linux console) → key names
SEQUENCES = {
    "\x1b[A": "up",
    "\x1b[B": "down",
    "\x1b[C": "right",
    "\x1b[D": "left",
    "\x1bOA": "up",
    "\x1bOB": "down",
    "\x1bOC": "right",
    "\x1bOD": "left",
    "\x1b[5~": "pgup",
    "\x1b[6~": "pgdn",
    "\x1b[H": "home",
    "\x1b[F": "end",
    "\x1bOH": "home",
    "\x1bOF": "end",
    "\x1b[1~": "home",
    "\x1b[4~": "end",
    "\x1b[7~": "home",
    "\x1b[8~": "end",
    "\x1b[Z": "btab",
    "\x1b": "esc",
}
SINGLE = {"\t": "tab", "\r": "enter", "\n": "enter", "\x7f": "backspace", "\x03": "ctrl-c"}

NEXT = {"n", " ", "pgdn", "down", "right", "j"}
PREVIOUS = {"p", "pgup", "up", "left", "k"}
QUIT = {"q", "Q", "ctrl-c"}


def decode(data: str) -> list[str]:
    """The keys in what the terminal sent: ``"\\x1b[6~q"`` → ``["pgdn", "q"]``; an unknown
    escape sequence is one ``"unknown"`` key (ignored), never an Esc and some letters."""
    keys: list[str] = []
    i = 0
    while i < len(data):
        ch = data[i]
        if ch != "\x1b":
            keys.append(SINGLE.get(ch, ch))
            i += 1
            continue
        end = i + 1
        if end < len(data) and data[end] in "[O":
            end += 1
            while end < len(data) and not (data[end].isalpha() or data[end] == "~"):
                end += 1
            end = min(end + 1, len(data))
        seq = data[i:end]
        keys.append(SEQUENCES.get(seq, "unknown"))
        i = end
    return keys


@dataclass(frozen=True)
class State:
    page: int = 0
    selected: int = -1  # index into the device tiles on the page (-1: none until Tab)
    help: bool = False
    detail: str = ""  # the device whose detail view is open ("" none)


def on_key(state: State, key: str, frame: Frame) -> State | None:
    """The next state after ``key`` on ``frame`` (None: quit)."""
    if key in QUIT:
        return None
    pages = max(frame.pages, 1)
    if state.help:
        return replace(state, help=False) if key in ("esc", "?", "enter") else state
    if key == "?":
        return replace(state, help=True)
    names = frame.devices
    if state.detail:
        if key in ("esc", "enter", "backspace"):
            return replace(state, detail="")
        if key in ("right", "left", "n", "p", "pgdn", "pgup", "down", "up") and names:
            # the detail frame lists the board's devices: move along them
            at = names.index(state.detail) if state.detail in names else 0
            step = 1 if key in ("right", "n", "pgdn", "down") else -1
            return replace(state, detail=names[(at + step) % len(names)])
        return state
    if key in NEXT:
        return replace(state, page=(state.page + 1) % pages, selected=-1)
    if key in PREVIOUS:
        return replace(state, page=(state.page - 1) % pages, selected=-1)
    if key == "home":
        return replace(state, page=0, selected=-1)
    if key == "end":
        return replace(state, page=pages - 1, selected=-1)
    if key in ("tab", "btab") and names:
        if state.selected < 0:
            return replace(state, selected=0 if key == "tab" else len(names) - 1)
        step = 1 if key == "tab" else -1
        return replace(state, selected=(state.selected + step) % len(names))
    if key == "enter" and names:  # the selected device, else the first (the worst) one
        return replace(state, detail=names[min(max(state.selected, 0), len(names) - 1)])
    return state


@contextlib.contextmanager
def _keys() -> Iterator[Callable[[float], list[str]]]:
    """A function waiting up to N seconds for keys ([] on timeout); cbreak mode on a TTY."""
    fd = sys.stdin.fileno() if sys.stdin and sys.stdin.isatty() else None
    if fd is None:

        def sleep(seconds: float) -> list[str]:
            time.sleep(seconds)
            return []

        yield sleep
        return
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:

        def read(seconds: float) -> list[str]:
            ready, _, _ = select.select([fd], [], [], seconds)
            if not ready:
                return []
            data = os.read(fd, 64)
            keys = decode(data.decode(errors="ignore"))
            if keys and keys[-1] in ("esc", "unknown") and b"\x1b" in data[-4:]:
                # a sequence cut between two reads, or a bare Esc: wait briefly for the rest
                more, _, _ = select.select([fd], [], [], SEQUENCE_WAIT)
                if more:
                    keys = decode((data + os.read(fd, 64)).decode(errors="ignore"))
            return keys

        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run_live(
    frame: Callable[[View], Frame],
    console: Console,
    lang: str,
    refresh: float,
    rotate: float = 15.0,
    detail: Callable[[str, View], Frame] | None = None,
) -> None:
    refresh = max(refresh, MIN_REFRESH)
    state = State()
    turned = time.monotonic()
    with (
        _keys() as wait,
        Live(console=console, screen=True, auto_refresh=False, redirect_stdout=False) as live,
    ):
        board: Frame | None = None
        while True:
            names = board.devices if board is not None else ()
            selected = names[state.selected] if 0 <= state.selected < len(names) else ""
            view = View(
                console.width,
                console.height,
                lang,
                state.page,
                live=True,
                selected=selected,
                help=state.help,
            )
            board = frame(view)
            shown = board
            if state.detail and detail is not None:
                shown = detail(state.detail, view)
            live.update(shown.renderable, refresh=True)
            deadline = time.monotonic() + refresh
            changed = False
            while not changed and (left := deadline - time.monotonic()) > 0:
                for key in wait(left):
                    after = on_key(state, key, board)
                    if after is None:
                        return
                    if after != state:
                        if after.page != state.page:
                            turned = time.monotonic()
                        state, changed = after, True
            idle = not state.detail and not state.help
            if idle and board.pages > 1 and rotate > 0 and time.monotonic() - turned >= rotate:
                state = replace(state, page=(state.page + 1) % board.pages, selected=-1)
                turned = time.monotonic()
