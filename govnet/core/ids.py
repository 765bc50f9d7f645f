"""Run ids: one format for audits, backups, probes and provisioning runs."""

from __future__ import annotations

import secrets
from datetime import datetime

from govnet.durations import utcnow


def new_run_id(kind: str, when: datetime | None = None) -> str:
    when = when or utcnow()
    return f"{kind}-{when:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"  # never twice a second
