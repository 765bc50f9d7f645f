"""Lab data: what each simulated device holds, read from ``<lab-data>/<device>/``.

One source feeds both simulators, so SSH and SNMP tell the same story about a device:

``running.cfg``  the seed running configuration (SSH platforms); absent → a per-platform default
``tables.yaml``  interfaces, ARP and MAC entries (rendered per vendor by the SSH simulator,
                 served as IF-MIB / ipNetToMediaTable / dot1dTpFdbTable by the SNMP agent),
                 LLDP neighbours (rendered by the SSH simulator)
``lab.yaml``     behaviour: ``silent`` (accepts TCP, never answers), ``reject`` (regexes of
                 config lines the device refuses with its vendor error), ``snmp`` (per-kind
                 values for UPS, sensors and servers), ``version`` (text of the version command),
                 ``faults`` (slow, garbled, dropping, wrong password, hung, lossy or flapping
                 SNMP: see :mod:`govnet.lab.faults`)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from govnet.errors import LabError
from govnet.inventory.model import IPAddress, MacAddress
from govnet.lab.faults import LabFaults
from govnet.validation import Strict, diagnostics_from
from govnet.yamlsrc import load_yaml_file


class LabInterface(Strict):
    name: str
    description: str = ""
    speed: int = 1000  # Mbit/s
    admin: Literal["up", "down"] = "up"
    oper: Literal["up", "down"] = "up"
    mac: MacAddress | None = None
    ip: str | None = None  # "10.1.1.1/24" on L3 interfaces


class LabArp(Strict):
    ip: IPAddress
    mac: MacAddress
    interface: str
    vlan: int | None = None


class LabMac(Strict):
    mac: MacAddress
    vlan: int = 1
    interface: str
    type: Literal["dynamic", "static"] = "dynamic"


class LabNeighbor(Strict):
    """An LLDP (and, with ``cdp: true``, CDP) neighbour seen on a local port.

    ``scenario``: the entry exists only when the lab runs with that scenario
    (``govnet lab up --scenario NAME``), for seeded faults that would change what other
    tests expect of the lab (a cable between isolated zones, say)."""

    local: str  # the local interface (full name)
    name: str  # the neighbour's system name
    port: str  # the neighbour's port id (its interface name)
    chassis: MacAddress
    address: IPAddress | None = None  # management address
    description: str = ""  # system description
    cdp: bool = False
    scenario: str | None = None


class LabTables(Strict):
    interfaces: list[LabInterface] = Field(default_factory=list)
    arp: list[LabArp] = Field(default_factory=list)
    mac: list[LabMac] = Field(default_factory=list)
    lldp: list[LabNeighbor] = Field(default_factory=list)

    def if_index(self, name: str) -> int | None:
        """ifIndex of an interface: its 1-based position in ``interfaces``."""
        for i, iface in enumerate(self.interfaces, start=1):
            if iface.name == name:
                return i
        return None


class LabBehaviour(Strict):
    silent: bool = False
    reject: list[str] = Field(default_factory=list)
    version: str | None = None
    snmp: dict[str, Any] = Field(default_factory=dict)
    commands: dict[str, str] = Field(default_factory=dict)  # extra SSH command → literal output
    faults: LabFaults = Field(default_factory=LabFaults)

    @property
    def no_banner(self) -> bool:
        """SSH accepts TCP and never says a word (``silent`` or the ``no_banner`` fault)."""
        return self.silent or self.faults.no_banner


@dataclass
class LabDeviceData:
    name: str
    running_config: str | None  # None → the simulator's platform default
    tables: LabTables = field(default_factory=LabTables)
    behaviour: LabBehaviour = field(default_factory=LabBehaviour)


M = TypeVar("M", bound=BaseModel)


def _load(model: type[M], path: Path) -> M:
    """``path`` validated as ``model``; a missing file is all defaults. LabError names
    file:line:col and the key of every problem."""
    if not path.is_file():
        return model()
    doc, problems = load_yaml_file(path)
    if doc is not None and not problems:
        try:
            return model.model_validate(doc.data or {})
        except ValidationError as exc:
            problems = diagnostics_from(exc, doc, model=model)
    raise LabError("; ".join(str(d) for d in problems))


def load_device_data(
    data_dir: Path | None, name: str, scenarios: frozenset[str] = frozenset()
) -> LabDeviceData:
    """Read a device's lab data; a missing folder means all defaults (bench fleets).

    Entries seeded for a scenario (``scenario:``) are kept only when it is in ``scenarios``."""
    folder = data_dir / name if data_dir else None
    if folder is None or not folder.is_dir():
        return LabDeviceData(name=name, running_config=None)
    cfg = folder / "running.cfg"
    running = cfg.read_text(encoding="utf-8") if cfg.is_file() else None
    tables = _load(LabTables, folder / "tables.yaml")
    if any(n.scenario for n in tables.lldp):
        kept = [n for n in tables.lldp if n.scenario is None or n.scenario in scenarios]
        tables = tables.model_copy(update={"lldp": kept})
    behaviour = _load(LabBehaviour, folder / "lab.yaml")
    return LabDeviceData(name=name, running_config=running, tables=tables, behaviour=behaviour)
