"""Writing the 通报 documents (HTML text, XLSX and PDF bytes) for any reporting command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from govnet.cli.common import App
from govnet.errors import GovnetError


def write_binary(app: App, data: bytes, output: Path | None) -> None:
    """An XLSX or PDF to ``output`` (atomically), or to stdout when that is not a terminal."""
    if output is None:
        if sys.stdout.isatty():
            raise click.UsageError("xlsx and pdf are binary: pass -o FILE (or redirect stdout)")
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
        raise GovnetError(f"{output}: cannot write: {exc.strerror}") from exc


def emit_document(app: App, doc: Any, fmt: str, output: Path | None) -> None:
    """A :class:`govnet.report.document.Document` as ``html`` or ``xlsx``."""
    from govnet.report import document

    if fmt == "html":
        app.write(document.to_html(doc), output)
    else:
        write_binary(app, document.to_xlsx(doc), output)
