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
from govnet.i18n import pick
from govnet.report.tabular import Column, emit_rows

IMPORT_COLUMNS = [
    Column("batch", "Batch", "批次"),
    Column("status_text", "Result", "结果"),
    Column("rows", "Rows", "行数", "right"),
    Column("message", "Note", "说明"),
]
STATUS_TEXT = {
    "imported": ("imported", "已导入"),
    "already-imported": ("already imported", "此前已导入"),
    "refused": ("REFUSED", "拒绝"),
    "held": ("waiting", "等待缺失批次"),
}
VERIFY_COLUMNS = [
    Column("seq", "Entry", "链序号", "right"),
    Column("kind", "Record", "记录类型"),
    Column("ref", "Id", "编号"),
    Column("message", "Problem", "问题"),
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
    help="Write a new Ed25519 signing key to PATH (0600) and PATH.pub, then exit.",
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
        pub, kid = make_key(generate_key)
        app.err.print(
            pick(
                app.lang,
                f"signing key {generate_key} (keep it private), public key {pub} "
                f"(give it to the importing side), key id {kid}",
                f"签名私钥 {generate_key}（妥善保管），公钥 {pub}（交给导入方），密钥编号 {kid}",
            ),
            markup=False,
            highlight=False,
        )
        return
    if folder is None:
        raise TransferError(pick(app.lang, "give the FOLDER to write the batch to",
                                 "请指定批次写入的目录 FOLDER"))  # fmt: skip
    if not key_ref:
        raise TransferError(
            pick(
                app.lang,
                "no signing key: pass --key file:PATH (make one with --generate-key PATH)",
                "未指定签名私钥：请用 --key file:路径（可用 --generate-key 路径 生成）",
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
            pick(
                app.lang,
                f"batch {done.seq} written to {done.path}: {total} rows (sha256 {done.hash[:16]}…)",
                f"第 {done.seq} 批已写入 {done.path}：共 {total} 行（sha256 {done.hash[:16]}…）",
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
    help="The sender's public key (PEM); repeatable [env GOVNET_TRANSFER_TRUST, ':'-separated].",
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
            "status_text": pick(app.lang, *STATUS_TEXT[o.status]),
            "rows": o.rows,
            "problem": o.problem,
            "message": o.message,
        }
        for o in outcomes
    ]
    order = {"refused": 0, "held": 1, "imported": 2, "already-imported": 3}
    shown = sorted(rows, key=lambda r: (order[str(r["status"])], str(r["source"]), int(r["seq"])))
    text = emit_rows(
        app.console, shown, IMPORT_COLUMNS, fmt, app.lang,
        title=pick(app.lang, "Batches imported", "批次导入结果"),
    )  # fmt: skip
    if text is not None:
        app.write(text, output)
    if not rows and not app.quiet:
        app.err.print(pick(app.lang, f"{folder}: no batches here", f"{folder}：没有批次"),
                      markup=False, highlight=False)  # fmt: skip
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
        {"seq": p.seq, "kind": p.kind, "ref": p.ref, "problem": p.what,
         "message": p.message(app.lang)}
        for p in verdict.problems
    ]  # fmt: skip
    data = {
        "entries": verdict.entries,
        "head": {"seq": verdict.head_seq, "hash": verdict.head_hash},
        "ok": not verdict.problems,
        "problems": rows,
    }
    text = emit_rows(
        app.console, rows, VERIFY_COLUMNS, fmt, app.lang,
        title=pick(app.lang, "Store hash chain", "存储哈希链校验"), json_data=data,
    ) if rows or fmt != "table" else None  # fmt: skip
    if text is not None:
        app.write(text, output)
    if fmt == "table" and not app.quiet:
        summary = (
            pick(
                app.lang,
                f"{len(rows)} problem(s) in {verdict.entries} chained records",
                f"{verdict.entries} 条链上记录中发现 {len(rows)} 个问题",
            )
            if rows
            else pick(
                app.lang,
                f"chain intact: {verdict.entries} records",
                f"哈希链完整：共 {verdict.entries} 条记录",
            )
        )
        head = pick(app.lang, "head", "链头")
        app.console.print(
            f"{summary}; {head} #{verdict.head_seq} {verdict.head_hash}",
            markup=False,
            highlight=False,
        )
    if rows:
        exit_with(ExitCode.FINDINGS)
