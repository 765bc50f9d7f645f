"""What the monitor has stored, as typed rows for the CLI: alerts and their history, device
states with their age, the latest metric values.

Each row keeps the store's record as it is (its ``to_json()`` is the stable JSON shape the
commands print) and says how it is shown: ``cells(lang, …)`` gives the table's cells, with
the one label table per value (severities: :data:`govnet.core.vocabulary.SEVERITY_LABELS`;
device states: :data:`govnet.monitor.model.DEVICE_STATE_LABELS`; alert states:
:data:`ALERT_STATES`), said in the reader's language by the message catalogue.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict, cast

from govnet.core.vocabulary import Severity
from govnet.durations import format_duration
from govnet.errors import GovnetError
from govnet.i18n import NP_, _, tr
from govnet.monitor.config import MonitorConfig
from govnet.monitor.metrics import METRICS
from govnet.monitor.model import DeviceState
from govnet.store.db import Store
from govnet.store.monitor import MonitorStore

# --------------------------------------------------------------------------- the records


class AlertRecord(TypedDict):
    """One row of the store's ``alerts`` table."""

    id: int
    key: str
    rule: str
    device: str
    instance: str
    severity: str
    status: str  # firing | resolved
    opened: float
    updated: float
    resolved: float | None
    value: float | None
    message: str
    title_en: str
    title_zh: str
    control: str
    suppressed: bool
    suppressed_by: str
    flapping: bool
    latched: bool
    notified: bool
    acked: bool
    acked_by: str
    acked_at: float | None
    ack_comment: str


class AlertEventRecord(TypedDict):
    id: int
    alert_id: int
    ts: float
    event: str
    detail: str


class DeviceRecord(TypedDict):
    """One row of the store's ``devices`` table: a device's state as the daemon last saw it."""

    device: str
    zone: str
    site: str
    role: str
    rack: str
    state: str
    since: float
    last_poll: float
    last_ok: float
    failures: int
    error: str
    error_kind: str
    rtt_ms: float | None
    uptime_s: float | None
    next_poll: float
    sys_name: str
    sys_descr: str
    updated: float


class LatestRecord(TypedDict):
    device: str
    metric: str
    instance: str
    ts: float
    value: float | None
    text: str


def local_time(ts: float | None) -> str:
    if not ts:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _label_zh(enum: type[Severity] | type[DeviceState], value: str) -> str:
    """The Chinese label of an enum value; a value the enum does not know, as it is."""
    try:
        return enum(value).label("zh")
    except ValueError:
        return value


# --------------------------------------------------------------------------- alerts

TIME_FIELDS = ("opened", "updated", "resolved", "acked_at")
# One label per alert state (a firing alert may be acked, suppressed or flapping).
ALERT_STATES = {
    "firing": NP_("alert state", "firing"),
    "acked": NP_("alert state", "acked"),
    "suppressed": NP_("alert state", "suppressed"),
    "flapping": NP_("alert state", "flapping"),
    "resolved": NP_("alert state", "resolved"),
}


@dataclass(frozen=True)
class Alert:
    record: AlertRecord

    @property
    def id(self) -> int:
        return self.record["id"]

    @property
    def severity(self) -> str:
        return self.record["severity"]

    @property
    def firing(self) -> bool:
        return self.record["status"] == "firing"

    @property
    def state(self) -> str:
        """resolved, or for a firing alert: suppressed, flapping, acked or firing."""
        r = self.record
        if not self.firing:
            return "resolved"
        for flag, name in (
            (r["suppressed"], "suppressed"),
            (r["flapping"], "flapping"),
            (r["acked"], "acked"),
        ):
            if flag:
                return name
        return "firing"

    def title(self, lang: str) -> str:
        return self.record["title_zh"] if lang == "zh" else self.record["title_en"]

    @property
    def where(self) -> str:
        r = self.record
        return f"{r['device']}:{r['instance']}" if r["instance"] else r["device"]

    @property
    def message(self) -> str:
        return self.record["message"]

    def at_least(self, threshold: Severity) -> bool:
        """Firing, not suppressed, and at least ``threshold`` severe."""
        r = self.record
        return self.firing and not r["suppressed"] and Severity(r["severity"]) >= threshold

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.record)
        for k in TIME_FIELDS:
            if k in out:
                out[k] = iso(out[k])
        out["state"] = self.state
        return out

    def cells(self, lang: str) -> dict[str, Any]:
        """``govnet alerts list``'s table row."""
        r = self.record
        en = lang == "en"
        return {
            **r,
            "severity": r["severity"] if en else _label_zh(Severity, r["severity"]),
            "state": tr(lang, ALERT_STATES[self.state]),
            "opened_local": local_time(r["opened"]),
            "title": self.title(lang),
        }


@dataclass(frozen=True)
class AlertEvent:
    record: AlertEventRecord

    def to_json(self) -> dict[str, Any]:
        return {**self.record, "ts": iso(self.record["ts"])}

    def cells(self) -> dict[str, Any]:
        e = self.record
        return {"when": local_time(e["ts"]), "event": e["event"], "detail": e["detail"]}


def list_alerts(
    store: Store, show_all: bool = False, since: datetime | None = None, device: str | None = None
) -> list[Alert]:
    """Firing alerts (``show_all``: resolved too) changed since ``since``, newest first."""
    rows = MonitorStore(store).list_alerts(
        status=None if show_all else "firing",
        since=None if since is None else since.timestamp(),
        device=device,
    )
    return [Alert(cast(AlertRecord, r)) for r in rows]


def any_at_least(alerts: Iterable[Alert], threshold: Severity) -> bool:
    return any(a.at_least(threshold) for a in alerts)


def alert_history(store: Store, alert_id: int) -> tuple[Alert, list[AlertEvent]]:
    """One alert and its events; GovnetError when there is no such alert."""
    ms = MonitorStore(store)
    row = ms.alert(alert_id)
    if row is None:
        raise GovnetError(
            _("alert {alert_id}: no such alert (see 'govnet alerts list --all')", alert_id=alert_id)
        )
    events = [AlertEvent(cast(AlertEventRecord, e)) for e in ms.alert_events(alert_id)]
    return Alert(cast(AlertRecord, row)), events


# --------------------------------------------------------------------------- device states

STALE_AFTER = 3  # poll intervals: older states are history, not the network as it is


def poll_interval(record: DeviceRecord) -> float:
    """The interval the daemon scheduled for a device: its next poll less its last one (a
    backed-off device's too), else the monitor's default."""
    scheduled = float(record.get("next_poll") or 0.0) - float(record.get("last_poll") or 0.0)
    return scheduled if scheduled > 0 else float(MonitorConfig().default_interval)


@dataclass(frozen=True)
class DeviceStatus:
    record: DeviceRecord
    age_s: float | None  # since the last poll; None: never polled
    stale: bool  # older than STALE_AFTER poll intervals

    @property
    def device(self) -> str:
        return self.record["device"]

    @property
    def state(self) -> str:
        return self.record["state"]

    @property
    def bad(self) -> bool:
        return self.state in ("down", "unreachable")

    @property
    def interval(self) -> float:
        return poll_interval(self.record)

    def to_json(self) -> dict[str, Any]:
        return {**self.record, "age_s": self.age_s, "stale": self.stale}

    def cells(self, lang: str, now: float) -> dict[str, Any]:
        """``govnet monitor status``'s table row."""
        r = self.record
        return {
            **self.to_json(),
            "state": r["state"] if lang == "en" else _label_zh(DeviceState, r["state"]),
            "for": format_duration(max(0.0, now - r["since"])) if r["since"] else "",
            "rtt_ms": f"{r['rtt_ms']:.1f}" if r["rtt_ms"] is not None else "",
            "uptime": format_duration(r["uptime_s"]) if r["uptime_s"] is not None else "",
            "seen": ""
            if self.age_s is None
            else tr(lang, "{age} ago", age=format_duration(self.age_s)),
        }


def device_status(
    store: Store, wanted: set[str] | None = None, now: float | None = None
) -> list[DeviceStatus]:
    """Stored device states (only ``wanted`` devices when given), worst state first."""
    now = time.time() if now is None else now
    out = []
    for row in MonitorStore(store).device_states():
        record = cast(DeviceRecord, row)
        if wanted is not None and record["device"] not in wanted:
            continue
        age = round(max(0.0, now - record["last_poll"]), 1) if record["last_poll"] else None
        stale = age is None or age > STALE_AFTER * poll_interval(record)
        out.append(DeviceStatus(record, age, stale))
    rank = {s.value: s.rank for s in DeviceState}
    out.sort(key=lambda s: (rank.get(s.state, 9), s.device))
    return out


def newest(states: Sequence[DeviceStatus]) -> DeviceStatus | None:
    """The most recently polled device (None when there are none)."""
    return max(states, key=lambda s: s.record["last_poll"], default=None)


# --------------------------------------------------------------------------- metric values


@dataclass(frozen=True)
class MetricValue:
    record: LatestRecord

    def to_json(self) -> LatestRecord:
        return self.record

    def cells(self, lang: str, now: float) -> dict[str, Any]:
        """``govnet monitor show``'s table row."""
        r = self.record
        meta = METRICS.get(r["metric"])
        return {
            "metric": r["metric"],
            "instance": r["instance"],
            "value": r["text"] if r["value"] is None else f"{r['value']:g}",
            "unit": meta.unit if meta else "",
            "label": meta.label(lang) if meta else "",
            "age": format_duration(max(0.0, now - r["ts"])),
        }


def latest_values(
    store: Store, device: str, metrics: Sequence[str] | None = None
) -> list[MetricValue]:
    """The latest value of each metric (``metrics``: only these) of ``device``, in the
    store's order; GovnetError when there is none."""
    rows = MonitorStore(store).latest_values(list(metrics) if metrics else None, device)
    if not rows:
        raise GovnetError(
            _("{device}: no values stored (not monitored yet, or not a device name)", device=device)
        )
    return [MetricValue(cast(LatestRecord, r)) for r in rows]


def by_metric(values: Iterable[MetricValue]) -> list[MetricValue]:
    """Sorted by metric, then instance (the table's order)."""
    return sorted(values, key=lambda v: (v.record["metric"], v.record["instance"]))
