"""Device health from vendor MIBs: CPU, memory, temperature, fans and power supplies.

The metric sets are data (``govnet/data/health.yaml``), one per vendor, chosen by the
device's inventory ``platform``; each names the columns to walk, how a row becomes a value
and where its OID was checked. Rows are labelled with the component's name: ENTITY-MIB
``entPhysicalName`` where the table is indexed by ``entPhysicalIndex`` (Huawei, H3C, Cisco's
``cpmCPUTotalPhysicalIndex``), else the table's own name column.

What a poll produces (``instance`` = the component's name):

============== ====== ================================================================
cpu_pct        series CPU use of a board/CPU, % (Cisco: the 5-minute average)
mem_used_pct   series memory use, % (Cisco: used / (used + free) of each pool)
temperature_c  series the component's temperature, °C
fan_ok         latest 1 working, 0 failed
psu_ok         latest 1 supplying, 0 failed
hw_ok          latest 1 no fault reported for the board, 0 a fault (H3C error status)
============== ====== ================================================================

Names, entity classes and other label columns are read on the first poll and every
``STATIC_EVERY`` polls (with the rest of the slow columns); values on every poll.
:func:`health_values` is the pure decoder the unit tests drive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Literal, Protocol

import yaml
from pydantic import Field, ValidationError, model_validator

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.inventory.model import Device
from govnet.transport.snmp import SnmpValue, to_bytes
from govnet.validation import Strict, first_problem

ENT_PHYSICAL_CLASS = "1.3.6.1.2.1.47.1.1.1.1.5"
ENT_PHYSICAL_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
ENTITY = "entity"

SERIES_METRICS = frozenset({"cpu_pct", "mem_used_pct", "temperature_c"})
STATE_METRICS = frozenset({"fan_ok", "psu_ok", "hw_ok"})

Columns = Mapping[str, Mapping[str, SnmpValue]]


class HealthColumn(Strict):
    metric: Literal["cpu_pct", "mem_used_pct", "temperature_c", "fan_ok", "psu_ok", "hw_ok"]
    oid: str = Field(pattern=r"^\d+(\.\d+)+$")
    object: str
    source: str = Field(min_length=3)
    kind: Literal["gauge", "state", "pool"] = "gauge"
    label: str = ENTITY
    label_via: Literal["entity"] | None = None
    label_format: str = "{index}"
    scale: float = 1.0
    skip: list[int] = Field(default_factory=list)
    ok: list[int] = Field(default_factory=list)
    classes: list[int] = Field(default_factory=list)
    free: str | None = Field(default=None, pattern=r"^\d+(\.\d+)+$")

    @model_validator(mode="after")
    def _shape(self) -> HealthColumn:
        if self.label != ENTITY and not all(p.isdigit() for p in self.label.split(".")):
            raise ValueError(
                _("label {label!r}: 'entity' or the OID of a name column", label=self.label)
            )
        if (self.kind == "state") != bool(self.ok):
            raise ValueError(_("'ok' (the values meaning working) belongs to kind: state"))
        if (self.kind == "pool") != (self.free is not None):
            raise ValueError(_("kind: pool needs 'free' (the free column; 'oid' is the used one)"))
        if (self.kind == "state") != (self.metric in STATE_METRICS):
            raise ValueError(
                _(
                    "{metric} needs kind {kind}",
                    metric=self.metric,
                    kind="state" if self.kind != "state" else "gauge",
                )
            )
        return self

    @property
    def wants_entity(self) -> bool:
        return self.label == ENTITY or self.label_via == ENTITY


class HealthSet(Strict):
    id: str
    vendor: str
    platforms: list[str] = Field(min_length=1)
    columns: list[HealthColumn] = Field(min_length=1)

    @property
    def value_oids(self) -> list[str]:
        """The columns walked every poll, each once."""
        out: list[str] = []
        for c in self.columns:
            for oid in (c.oid, c.free):
                if oid is not None and oid not in out:
                    out.append(oid)
        return out

    @property
    def label_oids(self) -> list[str]:
        """The name columns read with the slow columns."""
        out: list[str] = []
        if any(c.wants_entity for c in self.columns):
            out.append(ENT_PHYSICAL_NAME)
        if any(c.classes for c in self.columns):
            out.append(ENT_PHYSICAL_CLASS)
        for c in self.columns:
            if c.label != ENTITY and c.label not in out:
                out.append(c.label)
        return out


class HealthCatalogue(Strict):
    sets: list[HealthSet] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_set_per_platform(self) -> HealthCatalogue:
        seen: dict[str, str] = {}
        for s in self.sets:
            for p in s.platforms:
                if p in seen:
                    raise ValueError(
                        _(
                            "platform {p!r} is in sets {seen!r} and {id!r}",
                            p=p,
                            seen=seen[p],
                            id=s.id,
                        )
                    )
                seen[p] = s.id
        return self


@cache
def health_catalogue() -> HealthCatalogue:
    text = resources.files("govnet.data").joinpath("health.yaml").read_text(encoding="utf-8")
    try:
        return HealthCatalogue.model_validate(yaml.safe_load(text))
    except ValidationError as exc:  # shipped data: a bug, but say where
        where, message = first_problem(exc, HealthCatalogue)
        raise GovnetError(
            _("govnet/data/health.yaml: {where}: {message}", where=where, message=message)
        ) from exc


def health_set_for(platform: str) -> HealthSet | None:
    for s in health_catalogue().sets:
        if platform in s.platforms:
            return s
    return None


# ------------------------------------------------------------------------------ decoding


def as_int(value: SnmpValue) -> int | None:
    """An INTEGER value, or one sent as decimal text; ``None`` for anything else."""
    if isinstance(value, int):
        return value
    if isinstance(value, str | bytes):
        try:
            return int(value.decode("ascii") if isinstance(value, bytes) else value)
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def as_text(value: SnmpValue) -> str:
    """A value as text (octets as UTF-8 without trailing NULs; ``""`` for none)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return to_bytes(value).decode("utf-8", errors="replace").rstrip("\x00")
    return str(value)


def _text(value: SnmpValue) -> str:
    return as_text(value).strip()


def _label(column: HealthColumn, index: str, labels: Columns) -> str:
    if column.label == ENTITY:
        name = _text(labels.get(ENT_PHYSICAL_NAME, {}).get(index))
    else:
        raw = labels.get(column.label, {}).get(index)
        if column.label_via == ENTITY:
            name = _text(labels.get(ENT_PHYSICAL_NAME, {}).get(str(as_int(raw))))
        else:
            name = _text(raw)
    return name or column.label_format.format(index=index)


def health_values(
    hset: HealthSet, columns: Columns, labels: Columns
) -> list[tuple[str, str, float]]:
    """Walked columns (``{oid: {index: value}}``) and label columns → (metric, component,
    value); rows whose value is in ``skip`` (or not an integer) give nothing."""
    out: list[tuple[str, str, float]] = []
    classes = labels.get(ENT_PHYSICAL_CLASS, {})
    for column in hset.columns:
        used_names: set[str] = set()
        free = columns.get(column.free, {}) if column.free else {}
        for index, raw in columns.get(column.oid, {}).items():
            value = as_int(raw)
            if value is None or value in column.skip:
                continue
            if column.classes and as_int(classes.get(index)) not in column.classes:
                continue
            if column.kind == "state":
                number = 1.0 if value in column.ok else 0.0
            elif column.kind == "pool":
                spare = as_int(free.get(index))
                if spare is None or value + spare <= 0:
                    continue
                number = round(value / (value + spare) * 100, 3)
            else:
                number = round(value * column.scale, 6)
            name = _label(column, index, labels)
            if name in used_names:  # two components of one name: keep both apart
                name = f"{name} ({index})"
            used_names.add(name)
            out.append((column.metric, name, number))
    return out


# ------------------------------------------------------------------------------- polling


class HealthMemory(Protocol):
    health_labels: dict[str, dict[str, SnmpValue]] | None


class HealthContext(Protocol):
    """What :func:`poll_health` needs of the poller's context (metricsets.PollContext)."""

    @property
    def device(self) -> Device: ...

    @property
    def refresh(self) -> bool: ...

    @property
    def memory(self) -> HealthMemory: ...

    async def walk_many(self, oids: Sequence[str]) -> list[dict[str, SnmpValue]]: ...

    def sample(self, metric: str, value: float | None, instance: str = "") -> None: ...

    def latest(
        self, metric: str, value: float | None, instance: str = "", text: str = ""
    ) -> None: ...


async def poll_health(ctx: HealthContext) -> None:
    """The ``health`` set: the platform's vendor columns (nothing for other platforms)."""
    hset = health_set_for(ctx.device.platform)
    if hset is None:
        return
    mem = ctx.memory
    if mem.health_labels is None or ctx.refresh:
        labels = hset.label_oids
        mem.health_labels = dict(zip(labels, await ctx.walk_many(labels), strict=True))
    values = hset.value_oids
    columns = dict(zip(values, await ctx.walk_many(values), strict=True))
    for metric, instance, value in health_values(hset, columns, mem.health_labels):
        if metric in SERIES_METRICS:
            ctx.sample(metric, value, instance)
        else:
            ctx.latest(metric, value, instance)
