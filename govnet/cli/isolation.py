"""``govnet isolation canary|probe|evidence|report``: active isolation probes and the overview."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import click

from govnet.cli.common import App, exit_with, format_option, pass_app
from govnet.cli.complete import complete_zones
from govnet.cli.documents import channel_sender, emit_document, notify_options, send_document
from govnet.durations import DurationParam, SinceParam, format_age, utcnow
from govnet.i18n import NP_, tr
from govnet.report.tabular import Column, emit_rows

SECRET_HELP = (
    "Shared probe secret by reference: env:NAME or file:PATH "
    "[env GOVNET_PROBE_SECRET_REF; default env:GOVNET_PROBE_SECRET]."
)


def Duration() -> DurationParam:
    return DurationParam(as_timedelta=True)


secret_option = click.option(
    "--secret",
    "secret_ref",
    envvar="GOVNET_PROBE_SECRET_REF",
    default="env:GOVNET_PROBE_SECRET",
    show_default=False,
    metavar="REF",
    help=SECRET_HELP,
)


@click.group()
def isolation() -> None:
    """Isolation between zones (政务内网 / 政务外网 / 互联网): active probes and the overview."""


# --------------------------------------------------------------------------- canary


@isolation.command()
@click.option(
    "--listen",
    multiple=True,
    metavar="ADDR",
    help="Canary address to listen on (repeatable; must be declared in zones.<z>.canaries "
    "and belong to this host) [default: every declared canary of this host].",
)
@secret_option
@click.option(
    "--max-age",
    type=Duration(),
    default="5m",
    show_default=True,
    help="Reject tokens older than this (clock skew of 60 s is allowed).",
)
@click.option(
    "--duration",
    type=Duration(),
    default=None,
    help="Stop after this long (default: until Ctrl-C or SIGTERM).",
)
@pass_app
def canary(
    app: App,
    /,
    listen: tuple[str, ...],
    secret_ref: str,
    max_age: timedelta,
    duration: timedelta | None,
) -> None:
    """Receive probes on the forbidden side and store each verified one as evidence.

    Needs root or CAP_NET_RAW; run it on the host that owns the canary address (in the
    lab: 'ip netns exec <prefix>-ext govnet isolation canary')."""
    from govnet.isolation.probe.canary import (
        CanaryService,
        event_line,
        listen_plan,
        listening_on,
        run_until_signalled,
        summary,
    )
    from govnet.isolation.probe.prober import require_raw_privilege
    from govnet.isolation.probe.token import TokenCodec, Verifier
    from govnet.store.probe import StoreReplayCache

    listens = listen_plan(app.inventory(), listen)
    require_raw_privilege("govnet isolation canary")
    codec = TokenCodec.from_ref(secret_ref)
    store = app.store()
    verifier = Verifier(codec, StoreReplayCache(store), max_age=max_age)

    def on_event(outcome: str, _obs: object, _token: object, message: str) -> None:
        line = event_line(outcome, message)
        if line is None:
            return
        if app.quiet or not app.interactive:  # cron, systemd: one log line per event
            logging.getLogger("govnet.isolation.probe.canary").warning("%s: %s", outcome, message)
            return
        when = f"{utcnow():%H:%M:%S}"
        app.console.print(f"{when} {line.text}", style=line.style, markup=False, highlight=False)

    service = CanaryService(listens, verifier, store, on_event=on_event)
    where = listening_on(listens)
    if not app.quiet:
        app.err.print(
            tr(app.lang, "canary listening on {where}; Ctrl-C stops", where=where),
            markup=False,
        )
    counts = run_until_signalled(service, duration.total_seconds() if duration else None)
    done = summary(counts)
    if not app.quiet:
        app.err.print(
            tr(app.lang, "canary stopped: {done}", done=done),
            markup=False,
        )


# --------------------------------------------------------------------------- probe


def _label(verdict: str, fmt: str, lang: str) -> str:
    """Chinese verdict labels in tables; machine formats keep the ASCII identifiers."""
    from govnet.isolation.probe.results import verdict_label

    return verdict_label(verdict, lang) if fmt == "table" else verdict


PROBE_COLUMNS = [
    Column("to_zone", "To zone"),
    Column("canary", "Canary"),
    Column("protocol", "Protocol"),
    Column("verdict", "Verdict"),
    Column("source", "Source (seen)"),
    Column("received", "Received (UTC)"),
    Column("note", NP_("isolation", "Note")),
]


@isolation.command()
@click.option(
    "--from",
    "from_zone",
    required=True,
    metavar="ZONE",
    help="The isolated zone this host is in.",
    shell_complete=complete_zones,
)
@secret_option
@click.option(
    "--wait",
    type=click.FloatRange(min=1.5),
    default=3.0,
    show_default=True,
    help="Seconds to wait for the canaries after the last probe.",
)
@click.option(
    "--count",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="Probes per canary and protocol.",
)
@click.option(
    "--protocol",
    "protocols",
    multiple=True,
    type=click.Choice(["icmp", "tcp", "dns"]),
    help="Only these protocols (repeatable) [default: all three].",
)
@format_option("table", "json", "csv")
@pass_app
def probe(
    app: App,
    /,
    from_zone: str,
    secret_ref: str,
    wait: float,
    count: int,
    protocols: tuple[str, ...],
    fmt: str,
    output: Path | None,
) -> None:
    """Probe the canaries of every zone ZONE must be isolated from: isolated or LEAK.

    Only canary addresses declared in the inventory are ever sent to. Needs root or
    CAP_NET_RAW. Exit 0 isolated; 1 a probe leaked; 2 usage; 3 inconclusive (a canary was
    not listening)."""
    from govnet.isolation.probe.prober import (
        ProbeOptions,
        plan_probes,
        require_raw_privilege,
        run_probe,
    )
    from govnet.isolation.probe.results import canary_address
    from govnet.isolation.probe.token import PROTOCOLS, ProbeProtocol, TokenCodec

    inv = app.inventory()
    chosen = tuple(ProbeProtocol(p) for p in protocols) or PROTOCOLS
    plan_probes(inv, from_zone, chosen)  # usage errors before the privilege check
    require_raw_privilege("govnet isolation probe")
    codec = TokenCodec.from_ref(secret_ref)
    options = ProbeOptions(wait=wait, count=count, protocols=chosen)
    run = run_probe(inv, from_zone, codec, app.store(), options)
    rows = [
        {
            **r.to_dict(),
            "canary": canary_address(r.canary, r.port, r.protocol),
            "received": f"{r.received:%Y-%m-%d %H:%M:%S}" if r.received else "",
            "verdict": _label(r.verdict.value, fmt, app.lang),
        }
        for r in run.results
    ]
    title = tr(
        app.lang,
        "probe {id} from {from_zone} ({host})",
        id=run.id,
        from_zone=from_zone,
        host=run.host,
    )
    text = emit_rows(
        app.console, rows, PROBE_COLUMNS, fmt, app.lang, title, json_data=run.to_dict()
    )
    if text is not None:
        app.write(text, output)
    exit_with(run.exit_code)


# --------------------------------------------------------------------------- evidence

EVIDENCE_COLUMNS = [
    Column("received", "Received (UTC)"),
    Column("canary", "Canary"),
    Column("protocol", "Protocol"),
    Column("src", NP_("isolation", "Source (seen)")),
    Column("src_mac", "Source MAC"),
    Column("claimed_src", "Source (token)"),
    Column("host", NP_("isolation", "Host")),
    Column("token_id", "Token"),
]


@isolation.command()
@click.option(
    "--since",
    type=SinceParam(),
    default="24h",
    show_default=True,
    help="A duration ago (24h, 7d), a date or an ISO time.",
)
@click.option("--limit", type=click.IntRange(1, 100000), default=1000, show_default=True)
@format_option("table", "json", "csv")
@pass_app
def evidence(app: App, /, since: datetime, limit: int, fmt: str, output: Path | None) -> None:
    """Verified probes the canaries received (each one is a leak), newest first."""
    from govnet.store.probe import arrivals_since

    arrivals = arrivals_since(app.store(create=False), since, limit)
    data = [a.to_dict() for a in arrivals]
    rows = [
        {**d, "received": f"{a.received:%Y-%m-%d %H:%M:%S}"}
        for d, a in zip(data, arrivals, strict=True)
    ]
    title = tr(
        app.lang,
        "probes received in the last {format_age}",
        format_age=format_age(utcnow() - since),
    )
    text = emit_rows(app.console, rows, EVIDENCE_COLUMNS, fmt, app.lang, title, json_data=data)
    if text is not None:
        app.write(text, output)


# --------------------------------------------------------------------------- report

REPORT_COLUMNS = [
    Column("pair", "Zones"),
    Column("angle", "Angle"),
    Column("verdict", "Verdict"),
    Column("age", NP_("isolation", "Age"), "right"),
    Column("run", "Run"),
    Column("detail", "Detail"),
]


@isolation.command()
@click.option(
    "--max-age",
    type=Duration(),
    default="24h",
    show_default=True,
    help="Verdicts older than this are flagged stale.",
)
@format_option("table", "json", "csv", "html", "xlsx")
@notify_options
@pass_app
def report(
    app: App,
    /,
    max_age: timedelta,
    fmt: str,
    output: Path | None,
    notify: str | None,
    notify_rules: Path | None,
) -> None:
    """Per pair of isolated zones: the static, L2 and probe verdicts and their age.

    Exit 1 when any angle fails for any pair. --notify: as for audit (a failed delivery keeps
    the exit code; a clean 0 becomes 3)."""
    from govnet.inventory.labels import Labels
    from govnet.isolation.probe.overview import exit_code, overview
    from govnet.report.bulletins import isolation_document

    sender = channel_sender(app, notify, notify_rules) if notify else None  # before any work
    verdicts = overview(app.inventory(), app.store(create=False), utcnow(), max_age)
    labels = Labels.from_inventory(app.inventory())
    if fmt in ("html", "xlsx"):  # the 通报
        emit_document(app, isolation_document(verdicts, labels, app.lang), fmt, output)
    else:
        title = tr(app.lang, "isolation between zones")
        data = {
            "max_age_seconds": int(max_age.total_seconds()),
            "verdicts": [v.to_dict() for v in verdicts],
        }
        rows = [{**v.row(), "verdict": _label(v.row()["verdict"], fmt, app.lang)} for v in verdicts]
        text = emit_rows(app.console, rows, REPORT_COLUMNS, fmt, app.lang, title, json_data=data)
        if text is not None:
            app.write(text, output)
    code = exit_code(verdicts)
    if notify and sender is not None:
        doc = isolation_document(verdicts, labels, sender[0].lang)
        code = send_document(app, doc, notify, sender, code)
    exit_with(code)
