"""``govnet notify test|outbox``: the channels that take alerts to people (钉钉, 企业微信, mail)."""

from __future__ import annotations

import socket
import time
from datetime import datetime
from pathlib import Path

import click

from govnet.cli.common import App, exit_with, format_option, pass_app
from govnet.errors import ExitCode, GovnetError
from govnet.i18n import NP_, tr
from govnet.report.tabular import Column, emit_rows

OUTBOX_COLUMNS = [
    Column("id", "ID", "right"),
    Column("channel", "Channel"),
    Column("kind", "Kind"),
    Column("alert_key", "Alert"),
    Column("created_local", "Queued"),
    Column("status", NP_("notify", "Status")),
    Column("attempts", "Tries", "right"),
    Column("last_error", "Last error"),
]


class DeliveryFailed(GovnetError):
    exit_code = ExitCode.UNREACHABLE


def _rules_path(rules: Path | None) -> Path:
    from govnet.monitor.rules import default_rules

    return rules or default_rules()


@click.group()
def notify() -> None:
    """Alert channels to people: DingTalk, WeCom and e-mail (notifiers in the alert rules)."""


@notify.command("test")
@click.argument("channel")
@click.option(
    "--rules",
    type=click.Path(path_type=Path),
    default=None,
    help="Alert rules file [default playbooks/alerts.yaml].",
)
@pass_app
def test_channel(app: App, /, channel: str, rules: Path | None) -> None:
    """Send a test message to CHANNEL now (its name, or its kind when it has none).
    Exit 0 when the channel accepted it, 3 when it did not (the reason is printed)."""
    from govnet.monitor.channels import DeliveryError, Item, Message
    from govnet.monitor.delivery import build_sender
    from govnet.monitor.rules import CHANNEL_KINDS, load_rules

    specs = [s for s in load_rules(_rules_path(rules)).notifiers if s.kind in CHANNEL_KINDS]
    spec = next((s for s in specs if s.channel == channel), None)
    if spec is None:
        known = ", ".join(s.channel for s in specs) or tr(app.lang, "none")
        raise GovnetError(
            tr(
                app.lang,
                "no channel {channel!r} in the alert rules (channels: {known})",
                channel=channel,
                known=known,
            )
        )
    now = time.time()
    item = Item(
        status="test",
        severity="low",
        rule="govnet-notify-test",
        device=socket.gethostname(),
        instance="",
        title_en=tr("en", "govnet test message"),
        title_zh=tr("zh", "govnet test message"),
        message=tr(spec.lang, "If you read this, alerts reach this channel."),
        opened=now,
    )
    try:
        build_sender(spec).send(Message((item,), lang=spec.lang, timezone=spec.timezone))
    except DeliveryError as exc:
        raise DeliveryFailed(
            tr(app.lang, "{channel}: not delivered: {exc}", channel=channel, exc=exc)
        ) from exc
    if not app.quiet:
        app.err.print(
            tr(app.lang, "{channel}: test message delivered", channel=channel),
            markup=False,
            highlight=False,
        )


@notify.command("outbox")
@click.option("--pending", is_flag=True, help="Only messages not yet delivered.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@format_option("table", "json", "csv")
@pass_app
def outbox(app: App, /, pending: bool, limit: int, fmt: str, output: Path | None) -> None:
    """Alert messages queued for people's channels, newest first: delivered, or still waiting
    (with the tries so far and the last error). Exit 1 if any is still waiting."""
    from govnet.store.outbox import Outbox

    rows = Outbox(app.store()).rows("pending" if pending else None, limit)
    data = []
    for r in rows:
        local = datetime.fromtimestamp(r.created).astimezone()
        data.append(
            {
                "id": r.id,
                "channel": r.channel,
                "kind": r.kind,
                "alert_key": r.alert_key,
                "created": local.isoformat(timespec="seconds"),
                "created_local": f"{local:%Y-%m-%d %H:%M:%S %Z}",
                "status": r.status + (" (late)" if r.late else ""),
                "attempts": r.attempts,
                "last_error": r.last_error,
            }
        )
    title = tr(app.lang, "notification outbox")
    text = emit_rows(app.console, data, OUTBOX_COLUMNS, fmt, app.lang, title, json_data=data)
    if text is not None:
        app.write(text, output)
    if any(r.status == "pending" for r in rows):
        exit_with(ExitCode.FINDINGS)
