"""``govnet export`` / ``govnet import`` (signed batches across the gap, 网闸) and
``govnet store verify`` (the store's hash chain)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import click

from govnet.cli.common import App, exit_with, format_option, pass_app
from govnet.durations import SinceParam
from govnet.errors import ExitCode
from govnet.i18n import NP_, tr
from govnet.report.tabular import Column, emit_rows

IMPORT_COLUMNS = [
    Column("batch", "Batch"),
    Column("status_text", "Result"),
    Column("rows", "Rows", "right"),
    Column("message", NP_("transfer", "Note")),
]
STATUS_TEXT = {
    "imported": NP_("batch", "imported"),
    "already-imported": NP_("batch", "already imported"),
    "refused": NP_("batch", "REFUSED"),
    "held": NP_("batch", "waiting"),
}
VERIFY_COLUMNS = [
    Column("seq", "Entry", "right"),
    Column("kind", "Record"),
    Column("ref", "Id"),
    Column("message", "Problem"),
]


def _default_source() -> str:
    name = socket.gethostname().split(".")[0].lower()
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-")
    return cleaned or "govnet"


@click.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option(
    "--key",
    "key_ref",
    envvar="GOVNET_TRANSFER_KEY",
    help="Signing key by reference (file:PATH, env:NAME, cmd:…) [env GOVNET_TRANSFER_KEY].",
)
@click.option(
    "--source",
    envvar="GOVNET_TRANSFER_SOURCE",
    help="This side's name in the batches [default: the host name].",
)
@click.option(
    "--since",
    type=SinceParam(),
    default=None,
    help="Start of the window [default: where the previous batch ended; everything at first].",
)
@click.option(
    "--generate-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a new signing key to PATH (0600, never overwritten) and PATH.pub, then exit.",
)
@click.option(
    "--algorithm",
    type=click.Choice(["ed25519", "sm2"]),
    default="ed25519",
    show_default=True,
    help="With --generate-key: ed25519, or sm2 for Chinese commercial cryptography (SM2 "
    "signature, SM3 digests; needs govnet[gm]). A batch is signed with the algorithm of its --key.",
)
@format_option("table", "json")
@pass_app
def export_cmd(
    app: App,
    /,
    folder: Path | None,
    key_ref: str | None,
    source: str | None,
    since: Any,
    generate_key: Path | None,
    algorithm: str,
    fmt: str,
    output: Path | None,
) -> None:
    """Write the next signed batch of results into FOLDER, to carry across the gap (网闸).

    Each batch continues a hash chain; the importing side refuses altered, replayed or
    out-of-order batches. Batches stay in FOLDER: a lost one is copied again from there."""
    from govnet.transfer.batch import TransferError, load_signing_key
    from govnet.transfer.batch import generate_key as make_key
    from govnet.transfer.exchange import export_batch

    if generate_key is not None:
        pub, kid = make_key(generate_key, algorithm)
        app.err.print(
            tr(
                app.lang,
                "{algorithm} signing key {generate_key} (keep it private), public key {pub} "
                "(give it to the importing side), key id {kid}",
                algorithm=algorithm.upper() if algorithm == "sm2" else "Ed25519",
                generate_key=generate_key,
                pub=pub,
                kid=kid,
            ),
            markup=False,
            highlight=False,
        )
        return
    if folder is None:
        raise TransferError(tr(app.lang, "give the FOLDER to write the batch to"))
    if not key_ref:
        raise TransferError(
            tr(
                app.lang,
                "no signing key: pass --key file:PATH (make one with --generate-key PATH)",
            )
        )
    key = load_signing_key(key_ref)
    done = export_batch(app.store(), folder, source or _default_source(), key, since=since)
    total = sum(done.rows.values())
    if fmt == "json":
        import json

        app.write(
            json.dumps(
                {
                    "batch": str(done.path),
                    "seq": done.seq,
                    "hash": done.hash,
                    "algorithm": key.algorithm,
                    "digest": key.digest,
                    "rows": done.rows,
                    "from": done.window_from.isoformat() if done.window_from else None,
                    "to": done.window_to.isoformat(),
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n",
            output,
        )
    elif not app.quiet:
        app.console.print(
            tr(
                app.lang,
                "batch {seq} written to {path}: {total} rows ({algorithm}, {digest} {hash}…)",
                seq=done.seq,
                path=done.path,
                total=total,
                algorithm=key.algorithm,
                digest=key.digest,
                hash=done.hash[:16],
            ),
            markup=False,
            highlight=False,
        )


def _trusted(paths: tuple[Path, ...]) -> list[Path]:
    if paths:
        return list(paths)
    env = os.environ.get("GOVNET_TRANSFER_TRUST", "")
    return [Path(p) for p in env.split(os.pathsep) if p]


@click.command("import")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sender's public key (PEM, Ed25519 or SM2; a batch is checked with its key's "
    "algorithm); repeatable [env GOVNET_TRANSFER_TRUST, ':'-separated].",
)
@format_option("table", "json", "csv")
@pass_app
def import_cmd(
    app: App, /, folder: Path, trust: tuple[Path, ...], fmt: str, output: Path | None
) -> None:
    """Verify and store the batches copied into FOLDER (signature, chain, file hashes first).

    Exit 0: every batch imported (or imported before); 1: a batch is missing and later ones
    wait (an alert is raised); 2: a batch was refused (altered, replayed or out of order)."""
    from govnet.transfer.batch import load_trusted
    from govnet.transfer.exchange import import_batches

    keys = load_trusted(_trusted(trust))
    outcomes = import_batches(app.store(), folder, keys, lang=app.lang)
    rows: list[dict[str, Any]] = [
        {
            "batch": o.batch,
            "source": o.source,
            "seq": o.seq,
            "status": o.status,
            "status_text": tr(app.lang, STATUS_TEXT[o.status]),
            "rows": o.rows,
            "problem": o.problem,
            "message": o.message,
        }
        for o in outcomes
    ]
    order = {"refused": 0, "held": 1, "imported": 2, "already-imported": 3}
    shown = sorted(rows, key=lambda r: (order[str(r["status"])], str(r["source"]), int(r["seq"])))
    text = emit_rows(
        app.console,
        shown,
        IMPORT_COLUMNS,
        fmt,
        app.lang,
        title=tr(app.lang, "Batches imported"),
    )
    if text is not None:
        app.write(text, output)
    if not rows and not app.quiet:
        app.err.print(
            tr(app.lang, "{folder}: no batches here", folder=folder), markup=False, highlight=False
        )
    if any(o.status == "refused" for o in outcomes):
        exit_with(ExitCode.USAGE)
    if any(o.status == "held" for o in outcomes):
        exit_with(ExitCode.FINDINGS)


@click.group("store")
def store_group() -> None:
    """The store itself: verify its hash chain."""


@store_group.command("verify")
@format_option("table", "json", "csv")
@pass_app
def verify_cmd(app: App, /, fmt: str, output: Path | None) -> None:
    """Prove that no run, finding or provisioning record was changed or removed.

    Exit 0: the chain holds; 1: a record was changed, removed or written outside govnet.
    The head (entry number and hash) is printed: compare it with a copy kept elsewhere."""
    from govnet.store import ledger

    store = app.store(create=False)
    with store.begin() as conn:
        verdict = ledger.verify(conn)
    rows = [
        {
            "seq": p.seq,
            "kind": p.kind,
            "ref": p.ref,
            "problem": p.what,
            "message": p.message(app.lang),
        }
        for p in verdict.problems
    ]
    data = {
        "entries": verdict.entries,
        "head": {"seq": verdict.head_seq, "hash": verdict.head_hash},
        "ok": not verdict.problems,
        "problems": rows,
    }
    text = (
        emit_rows(
            app.console,
            rows,
            VERIFY_COLUMNS,
            fmt,
            app.lang,
            title=tr(app.lang, "Store hash chain"),
            json_data=data,
        )
        if rows or fmt != "table"
        else None
    )
    if text is not None:
        app.write(text, output)
    if fmt == "table" and not app.quiet:
        summary = (
            tr(
                app.lang,
                "{n_rows} problem(s) in {entries} chained records",
                n_rows=len(rows),
                entries=verdict.entries,
            )
            if rows
            else tr(app.lang, "chain intact: {entries} records", entries=verdict.entries)
        )
        head = tr(app.lang, "head")
        app.console.print(
            f"{summary}; {head} #{verdict.head_seq} {verdict.head_hash}",
            markup=False,
            highlight=False,
        )
    if rows:
        exit_with(ExitCode.FINDINGS)
