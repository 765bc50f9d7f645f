"""Config backups: fetch, keep history (unchanged configs stored once), diff, staleness."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from govnet.collect.fetch import Collected, CollectOptions, collect
from govnet.collect.fleet import DeviceResult
from govnet.collect.sanitize import mask_secrets, stored_text
from govnet.core.ids import new_run_id
from govnet.durations import utcnow
from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.inventory.model import Device

if TYPE_CHECKING:  # SQLAlchemy: imported by the commands that open the store
    from govnet.store.db import Store


@dataclass
class BackupOutcome:
    device: str
    status: str  # new | changed | unchanged | failed
    elapsed: float
    error_kind: str | None = None
    message: str = ""
    lines: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "status": self.status,
            "elapsed": round(self.elapsed, 3),
            "error_kind": self.error_kind,
            "message": self.message,
            "lines": self.lines,
        }


def store_config(
    store: Store,
    device: str,
    config: str,
    run_id: str | None,
    when: datetime,
    keep_secrets: bool = False,
) -> bool:
    """Keep ``config`` in the store, secrets masked unless ``keep_secrets``; True if changed.

    Changes are judged on the device's own text, so a new password is a new backup even
    though the masked copies read the same."""
    digest = hashlib.sha256(config.encode("utf-8")).hexdigest()
    return store.save_config(device, stored_text(config, keep_secrets), run_id, when, digest)


def run_backup(
    devices: Iterable[Device],
    store: Store,
    options: CollectOptions | None = None,
    on_done: Callable[[DeviceResult[Collected]], None] | None = None,
    keep_secrets: bool = False,
) -> tuple[str, list[BackupOutcome]]:
    devices = list(devices)
    started = utcnow()
    run_id = new_run_id("backup", started)
    known = store.last_backups()
    fleet = collect(devices, options=options, on_done=on_done, run_id=run_id)
    outcomes: list[BackupOutcome] = []
    for res in fleet:
        if res.ok and res.result is not None and res.result.config is not None:
            changed = store_config(
                store, res.device, res.result.config, run_id, res.result.collected_at, keep_secrets
            )
            first = known.get(res.device, {}).get("last_ok") is None
            status = "new" if first else ("changed" if changed else "unchanged")
            outcomes.append(
                BackupOutcome(res.device, status, res.elapsed, lines=res.result.config.count("\n"))
            )
        else:
            msg = str(res.error) if res.error else "no config returned"
            store.record_fetch_error(res.device, run_id, utcnow(), msg)
            outcomes.append(BackupOutcome(res.device, "failed", res.elapsed, res.error_kind, msg))
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    store.save_run(run_id, "backup", started, utcnow(), {"counts": counts, "devices": len(devices)})
    return run_id, outcomes


def backup_diff(store: Store, device: str, since: datetime | None = None) -> str:
    """Unified diff, secrets masked: the newest backup against the one in effect at ``since``
    (default: the backup before the newest)."""
    history = store.config_history(device)
    if not history:
        raise GovnetError(
            _("{device}: no backup in the store; run 'govnet backup' first", device=device)
        )
    new_when, new = history[-1]
    if since is None:
        if len(history) < 2:
            return ""
        old_when, old = history[-2]
    else:
        before = [h for h in history if h[0] <= since]
        old_when, old = before[-1] if before else history[0]
    if old.id == new.id:
        return ""
    return "".join(
        difflib.unified_diff(
            mask_secrets(old.text).splitlines(keepends=True),
            mask_secrets(new.text).splitlines(keepends=True),
            fromfile=f"{device}@{old_when:%Y-%m-%dT%H:%M:%SZ}",
            tofile=f"{device}@{new_when:%Y-%m-%dT%H:%M:%SZ}",
        )
    )


def stale_devices(
    store: Store, devices: Iterable[Device], max_age: timedelta, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Devices whose newest successful backup is older than ``max_age`` (or missing)."""
    now = now or utcnow()
    last = store.last_backups()
    out = []
    for d in devices:
        info = last.get(d.name, {})
        ok: datetime | None = info.get("last_ok")
        if ok is None or now - ok > max_age:
            age = None if ok is None else round((now - ok).total_seconds() / 86400, 1)
            out.append(
                {
                    "device": d.name,
                    "last_backup": ok,
                    "age_days": age,
                    "last_attempt": info.get("last_try"),
                }
            )
    return out
