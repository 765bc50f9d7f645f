"""The normalised antivirus record every source produces, and snapshots of them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Literal

Edition = Literal["network", "standalone"]
EDITIONS: tuple[Edition, ...] = ("network", "standalone")


@dataclass(frozen=True, slots=True)
class AvRecord:
    """What one source says about one endpoint's antivirus product.

    ``vendor`` is the product key of the catalogue in ``av-sources.yaml`` (``qianxin``,
    ``huorong``, ``clamav``, …) and ties records of the same product from different sources
    together; ``product`` is the name as the source reported it. ``None`` means the source does
    not say. ``as_of`` is when the source looked (the snapshot's date): signature ages are
    computed against it, not against "now". ``source`` locates the record (``file:line``,
    ``snmp:DEVICE``, ``ssh:DEVICE``).
    """

    source: str
    host: str | None = None
    ip: str | None = None
    mac: str | None = None
    zone: str | None = None
    unit: str | None = None
    vendor: str | None = None
    product: str | None = None
    edition: Edition | None = None
    client_version: str | None = None
    sig_version: str | None = None
    sig_date: date | None = None
    realtime_on: bool | None = None
    running: bool | None = None
    online: bool | None = None
    last_seen: datetime | None = None
    as_of: datetime | None = None
    detail: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def seen(self) -> datetime | None:
        """When the endpoint was last known in this state: last seen, else the snapshot date."""
        return self.last_seen or self.as_of

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime | date):
                value = value.isoformat()
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out


RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AvRecord))


@dataclass
class Snapshot:
    """One import: where it came from, when it was taken, and its records."""

    source: str  # the mapping used (a key of av-sources.yaml's sources), or snmp / ssh
    console: str  # which console it came from; the newest snapshot per console is used
    file: str
    taken: datetime
    records: list[AvRecord] = field(default_factory=list)
    id: int | None = None
    imported: datetime | None = None
    sha256: str = ""
    warnings: list[str] = field(default_factory=list)
    stored: int | None = None  # the record count kept in the store (records may not be loaded)

    @property
    def count(self) -> int:
        """How many records the snapshot has, loaded or not."""
        return self.stored if self.stored is not None else len(self.records)

    @property
    def label(self) -> str:
        ident = f"#{self.id} " if self.id is not None else ""
        return f"{ident}{self.console} {self.file} ({self.taken:%Y-%m-%d %H:%M})"

    def to_dict(self, with_records: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "console": self.console,
            "file": self.file,
            "taken": self.taken.isoformat(),
            "imported": self.imported.isoformat() if self.imported else None,
            "records": self.count,
        }
        if with_records:
            out["records"] = [r.to_dict() for r in self.records]
        return out
