"""Writing the 通报 documents (HTML text, XLSX and PDF bytes) for any reporting command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from govnet.cli.common import App
from govnet.errors import ExitCode, GovnetError
from govnet.i18n import _, tr


def write_binary(app: App, data: bytes, output: Path | None) -> None:
    """An XLSX or PDF to ``output`` (atomically), or to stdout when that is not a terminal."""
    if output is None:
        if sys.stdout.isatty():
            raise click.UsageError(_("xlsx and pdf are binary: pass -o FILE (or redirect stdout)"))
        if not app.quiet:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        return
    try:
        if output.exists() and not output.is_file():  # /dev/null, a FIFO
            output.write_bytes(data)
            return
        tmp = output.with_name(f".{output.name}.tmp")  # a reader never sees half a file
        tmp.write_bytes(data)
        tmp.replace(output)
    except OSError as exc:
        raise GovnetError(
            _("{output}: cannot write: {strerror}", output=output, strerror=exc.strerror)
        ) from exc


def emit_document(app: App, doc: Any, fmt: str, output: Path | None) -> None:
    """A :class:`govnet.report.document.Document` as ``html`` or ``xlsx``."""
    from govnet.report import document

    if fmt == "html":
        app.write(document.to_html(doc), output)
    else:
        write_binary(app, document.to_xlsx(doc), output)


def notify_options(func: Any) -> Any:
    func = click.option(
        "--notify-rules",
        type=click.Path(path_type=Path),
        default=None,
        help="Alert rules file naming the channels [default alerts.yaml of the playbooks folder].",
    )(func)
    return click.option(
        "--notify",
        metavar="CHANNEL",
        default=None,
        help="After the run, send the summary (compliance, worst units, failures) to this "
        "channel of the alert rules; e-mail gets the HTML and XLSX reports attached.",
    )(func)


def channel_sender(app: App, channel: str, rules: Path | None) -> Any:
    """The sender of a named channel; an unknown name or a missing secret is a usage error
    found before the audit starts."""
    from govnet.monitor.delivery import build_sender
    from govnet.monitor.rules import CHANNEL_KINDS, default_rules, load_rules

    specs = [s for s in load_rules(rules or default_rules()).notifiers if s.kind in CHANNEL_KINDS]
    spec = next((s for s in specs if s.channel == channel), None)
    if spec is None:
        known = ", ".join(s.channel for s in specs) or tr(app.lang, "none")
        raise GovnetError(
            tr(
                app.lang,
                "--notify {channel}: no such channel in the alert rules (channels: {known})",
                channel=channel,
                known=known,
            )
        )
    return spec, build_sender(spec)


def deliver(app: App, channel: str, send: Callable[[], None], code: int) -> int:
    """Run ``send``; a failed delivery is one line on stderr and keeps the command's exit
    ``code``, except that a clean run (0) becomes 3: the report did not reach its readers."""
    from govnet.monitor.channels import DeliveryError

    try:
        send()
    except DeliveryError as exc:
        app.errors.print(
            tr(
                app.lang,
                "govnet: --notify {channel}: not delivered: {exc}",
                channel=channel,
                exc=exc,
            ),
            markup=False,
            highlight=False,
            style="red",
            soft_wrap=True,
        )
        return code or int(ExitCode.UNREACHABLE)
    if not app.quiet:
        app.err.print(
            tr(app.lang, "{channel}: bulletin delivered", channel=channel),
            markup=False,
            highlight=False,
        )
    return code


def send_document(app: App, doc: Any, channel: str, sender: Any, code: int) -> int:
    """Send a :class:`~govnet.report.document.Document`'s summary (HTML and XLSX attached
    for e-mail) through ``sender`` from :func:`channel_sender`; the exit code after it."""
    from govnet.report.documents import send_document as send

    spec, channel_sender_ = sender
    return deliver(app, channel, lambda: send(doc, spec, channel_sender_), code)
