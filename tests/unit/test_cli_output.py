"""Console behaviour shared by every command (issue 18): off a terminal nothing on stderr is
wrapped; ``-q`` silences stdout and chatter but never errors."""

from __future__ import annotations

import pytest

from govnet.cli.common import consoles, render_error
from govnet.errors import GovnetError

LONG = "govnet: warning: " + "快照 snapshot-2026-11-20 is 9 days old " * 8


def test_stderr_off_a_terminal_is_never_wrapped(capsys: pytest.CaptureFixture[str]) -> None:
    parts = consoles(quiet=False)
    assert parts["interactive"] is False  # pytest captures stderr: not a terminal
    parts["err"].print(LONG, markup=False, highlight=False)
    err = capsys.readouterr().err
    assert err == LONG.rstrip() + "\n" or err == LONG + "\n"
    assert len(err.splitlines()) == 1


def test_quiet_keeps_only_errors(capsys: pytest.CaptureFixture[str]) -> None:
    parts = consoles(quiet=True)
    parts["console"].print("a table")
    parts["err"].print("chatter")
    render_error(GovnetError("sw-1: no such device " + "x" * 120), parts["errors"])
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("govnet: sw-1: no such device") and err.count("\n") == 1


def test_quiet_set_later_silences_the_consoles_too(capsys: pytest.CaptureFixture[str]) -> None:
    """A -q that arrives after the App exists (given after the subcommand) still silences."""
    import logging

    from govnet.cli.common import App

    loggers = [logging.getLogger(), logging.getLogger("govnet.monitor")]
    levels = [lg.level for lg in loggers]
    logging.getLogger().setLevel(logging.WARNING)
    try:
        app = App(None, "en", **consoles(quiet=False))
        app.quiet = True
        app.console.print("a table")
        app.err.print("chatter")
        app.err = consoles(quiet=False)["err"]  # a console replaced later follows -q as well
        app.err.print("more chatter")
        assert logging.getLogger().level == logging.ERROR  # warnings off, errors kept
        assert capsys.readouterr() == ("", "")
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
