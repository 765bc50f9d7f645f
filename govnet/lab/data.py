"""Lab data: what each simulated device holds, read from ``<lab-data>/<device>/``.

One source feeds both simulators, so SSH and SNMP tell the same story about a device:

``running.cfg``  the seed running configuration (SSH platforms); absent → a per-platform default
``tables.yaml``  interfaces, ARP and MAC entries (rendered per vendor by the SSH simulator,
                 served as IF-MIB / ipNetToMediaTable / dot1dTpFdbTable by the SNMP agent)
``lab.yaml``     behaviour: ``silent`` (accepts TCP, never answers), ``reject`` (regexes of
                 config lines the device refuses with its vendor error), ``snmp`` (per-kind
                 values for UPS, sensors and servers), ``version`` (text of the version command),
                 ``faults`` (slow, garbled, dropping, wrong password, hung, lossy or flapping
                 SNMP: see :mod:`govnet.lab.faults`)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from govnet.errors import LabError
from govnet.inventory.model import IPAddress, MacAddress
from govnet.lab.faults import LabFaults


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabInterface(_Strict):
    name: str
    description: str = ""
    speed: int = 1000  # Mbit/s
    admin: Literal["up", "down"] = "up"
    oper: Literal["up", "down"] = "up"
    mac: MacAddress | None = None
    ip: str | None = None  # "10.1.1.1/24" on L3 interfaces


class LabArp(_Strict):
    ip: IPAddress
    mac: MacAddress
    interface: str
    vlan: int | None = None


class LabMac(_Strict):
    mac: MacAddress
    vlan: int = 1
    interface: str
    type: Literal["dynamic", "static"] = "dynamic"


class LabTables(_Strict):
    interfaces: list[LabInterface] = Field(default_factory=list)
    arp: list[LabArp] = Field(default_factory=list)
    mac: list[LabMac] = Field(default_factory=list)

    def if_index(self, name: str) -> int | None:
        """ifIndex of an interface: its 1-based position in ``interfaces``."""
        for i, iface in enumerate(self.interfaces, start=1):
            if iface.name == name:
                return i
        return None


class LabBehaviour(_Strict):
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


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LabError(f"{path}: cannot read lab data: {exc}") from exc


def load_device_data(data_dir: Path | None, name: str) -> LabDeviceData:
    """Read a device's lab data; a missing folder means all defaults (bench fleets)."""
    folder = data_dir / name if data_dir else None
    if folder is None or not folder.is_dir():
        return LabDeviceData(name=name, running_config=None)
    cfg = folder / "running.cfg"
    running = cfg.read_text(encoding="utf-8") if cfg.is_file() else None
    try:
        tables_path = folder / "tables.yaml"
        tables = (
            LabTables.model_validate(_load_yaml(tables_path))
            if tables_path.is_file()
            else LabTables()
        )
        lab_path = folder / "lab.yaml"
        behaviour = (
            LabBehaviour.model_validate(_load_yaml(lab_path))
            if lab_path.is_file()
            else LabBehaviour()
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LabError(f"{folder}: {where}: {first['msg']}") from exc
    return LabDeviceData(name=name, running_config=running, tables=tables, behaviour=behaviour)
