"""Text that came from a device, a file or a person, made safe to print.

A config line can carry terminal escape sequences (``ESC]0;title BEL``, ``ESC[2J``), a
description can look like rich markup (``[bold]``) or an emoji code (``:x:``), a CSV cell can
look like a spreadsheet formula (``=cmd|' /C calc'!A0``). Everything govnet prints goes
through this module:

- :func:`visible` shows control characters as escapes (``\\x1b``), never sends them;
- :class:`SafeConsole` is the only rich console govnet builds: strings are printed as text
  (no markup, no emoji codes, no highlighting) after :func:`visible`; a control character
  that still reaches the output inside a ``Text`` is drawn as its Unicode picture (``␛``);
- :func:`csv_cell` keeps a cell from being read as a formula by Excel or WPS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

# C0 controls but newline and tab, DEL, C1 controls, and the bidirectional overrides that can
# make a line read differently from what it is ("Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_WITH_LAYOUT = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PICTURES = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"}


def _escape(m: re.Match[str]) -> str:
    """C0 as ``\\x1b``; DEL, C1 and bidi marks as ``\\u0085``, which a JSON string (printed
    with ``ensure_ascii=False``, so they arrive raw) reads back as the same character."""
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x20 else f"\\u{code:04x}"


def visible(text: str, keep_layout: bool = True) -> str:
    """``text`` with every control character written out (``ESC`` → ``\\x1b``).

    ``keep_layout`` keeps newlines and tabs (multi-line messages, config excerpts); without
    it they are escaped too (one table cell, one log field)."""
    pattern = _CONTROL if keep_layout else _CONTROL_WITH_LAYOUT
    return pattern.sub(_escape, text)


def safe_text(text: Any, style: str = "") -> Text:
    """A rich ``Text`` showing ``text`` literally: no markup, no emoji, controls visible."""
    return Text(visible(str(text)), style=style)


def visible_all(data: Any) -> Any:
    """:func:`visible` applied to every string in a JSON-like tree (for HTML and XML)."""
    if isinstance(data, str):
        return visible(data)
    if isinstance(data, dict):
        return {k: visible_all(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [visible_all(v) for v in data]
    return data


def pictures(text: str) -> str:
    """Controls as one-cell pictures (``␛``): the layout was measured already."""
    return _CONTROL.sub(lambda m: _PICTURES.get(ord(m.group(0)), "\ufffd"), text)


class SafeConsole(Console):
    """A rich console for untrusted text: markup, emoji codes and highlighting are off unless
    a caller asks for them, strings are made :func:`visible`, and no control character from
    data reaches the terminal (rich's own cursor controls still do)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        kwargs.setdefault("emoji", False)
        kwargs.setdefault("highlight", False)
        super().__init__(*args, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["emoji"] = False
        return super().render_str(visible(text), **kwargs)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        cleaned = (
            seg
            if seg.control or not _CONTROL.search(seg.text)
            else Segment(pictures(seg.text), seg.style, seg.control)
            for seg in buffer
        )
        return super()._render_buffer(cleaned)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: Any) -> Any:
    """A CSV cell Excel/WPS will not evaluate: text starting like a formula gets a leading
    ``'`` (OWASP's advice); numbers stay numbers; controls are made :func:`visible`."""
    if not isinstance(value, str):
        return value
    text = visible(value)
    if text.startswith(_FORMULA_START) and text not in ("-", "+"):  # "-" alone: "none"
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text
