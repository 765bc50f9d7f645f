"""ClamAV on Linux servers over SSH: ``clamscan --version`` and ``systemctl is-active``.

``clamscan --version`` prints ``ClamAV 1.0.7/27463/Thu Nov 21 09:33:02 2024``: the engine, the
daily signature version and the signature date (the server's local time), or only
``ClamAV 1.0.7`` when no signature database is loaded. ``systemctl is-active clamav-daemon
clamav-freshclam`` prints one state per unit (``active``, ``inactive``, ``failed``, …): the
daemon decides ``running``, freshclam's state is kept as detail (a stopped freshclam is why
signatures go stale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

from govnet.av.parse import CHINA, ValueProblem, parse_datetime
from govnet.av.sources import ProductSpec
from govnet.errors import CommandError
from govnet.inventory.model import Device
from govnet.store.avrecords import AvRecord
from govnet.transport.session import SessionFactory, ssh_session
from govnet.transport.ssh import SshOptions

CLAMSCAN = "clamscan --version"
UNITS = ("clamav-daemon", "clamav-freshclam")
SYSTEMCTL = "systemctl is-active " + " ".join(UNITS)
STATES = (
    "active",
    "inactive",
    "failed",
    "activating",
    "deactivating",
    "reloading",
    "unknown",
    "maintenance",
    "refreshing",
)
_VERSION = re.compile(r"^ClamAV\s+(?P<engine>\d[\w.\-]*)(?:/(?P<daily>\d+)/(?P<date>.+?))?\s*$")


@dataclass(frozen=True)
class ClamVersion:
    engine: str
    sig_version: str | None = None
    sig_time: datetime | None = None

    def sig_date(self, tz: timezone = CHINA) -> date | None:
        return self.sig_time.astimezone(tz).date() if self.sig_time else None


def parse_clamscan(text: str, tz: timezone = CHINA) -> ClamVersion:
    """The ``ClamAV …`` line of ``clamscan --version`` (warnings before it are skipped)."""
    for line in text.splitlines():
        m = _VERSION.match(line.strip())
        if m:
            when = parse_datetime(m["date"], tz) if m["date"] else None
            return ClamVersion(m["engine"], m["daily"], when)
    first = text.strip().splitlines()[0] if text.strip() else "nothing"
    raise ValueProblem(f"not clamscan --version output: {first[:80]!r}")


def parse_is_active(text: str, units: tuple[str, ...] = UNITS) -> dict[str, str]:
    """``systemctl is-active A B`` → {A: state, B: state} (lines in the order asked)."""
    states = [ln.strip() for ln in text.splitlines() if ln.strip() in STATES]
    return dict(zip(units, states, strict=False))


def clamav_record(
    device: Device,
    version: ClamVersion,
    states: dict[str, str],
    when: datetime,
    product: ProductSpec | None = None,
    tz: timezone = CHINA,
) -> AvRecord:
    daemon = states.get("clamav-daemon")
    detail = {f"{unit.removeprefix('clamav-')}": state for unit, state in states.items()}
    return AvRecord(
        source=f"ssh:{device.name}",
        host=device.name,
        ip=str(device.address) if device.address else None,
        mac=device.mac,
        zone=device.zone,
        unit=device.unit,
        vendor="clamav",
        product=f"ClamAV {version.engine}",
        edition=product.edition if product else "standalone",
        client_version=version.engine,
        sig_version=version.sig_version,
        sig_date=version.sig_date(tz),
        running=None if daemon is None else daemon == "active",
        last_seen=when,
        as_of=when,
        detail=detail,
    )


def collect_clamav(
    device: Device,
    when: datetime,
    options: SshOptions | None = None,
    product: ProductSpec | None = None,
    tz: timezone = CHINA,
    session: SessionFactory = ssh_session,
) -> AvRecord | None:
    """ClamAV's state on ``device``, or None when ``clamscan`` is not installed.

    Transport failures raise :class:`~govnet.errors.TransportError` (the caller records them).
    """
    with session(device, options or SshOptions()) as cli:
        try:
            version = parse_clamscan(cli.send(CLAMSCAN), tz)
        except (CommandError, ValueProblem):
            return None
        try:
            states = parse_is_active(cli.send(SYSTEMCTL))
        except CommandError:
            states = {}
    return clamav_record(device, version, states, when, product, tz)
