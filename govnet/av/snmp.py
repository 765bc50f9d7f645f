"""Antivirus products in a host's SNMP software lists (HOST-RESOURCES-MIB).

``hrSWInstalledName`` (1.3.6.1.2.1.25.6.3.1.2) says what is installed, ``hrSWRunName``
(1.3.6.1.2.1.25.4.2.1.2) what runs. A product of the catalogue (``av-sources.yaml``
``products``) is present when an installed name matches its ``installed`` pattern or a process
matches its ``running`` pattern; ``running`` is then whether a process matches. SNMP says
nothing about signatures: a console export or ClamAV over SSH does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from govnet.av.sources import ProductSpec
from govnet.errors import TransportError
from govnet.inventory.model import Device
from govnet.secrets import check_all
from govnet.store.avrecords import AvRecord
from govnet.transport import snmp

HR_SW_INSTALLED_NAME = "1.3.6.1.2.1.25.6.3.1.2"
HR_SW_RUN_NAME = "1.3.6.1.2.1.25.4.2.1.2"


@dataclass(frozen=True)
class Software:
    installed: tuple[str, ...]
    running: tuple[str, ...]


def _names(values: Mapping[str, snmp.SnmpValue]) -> tuple[str, ...]:
    out = []
    for value in values.values():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if value:
            out.append(str(value).strip())
    return tuple(out)


async def software(device: Device, backend: snmp.SnmpBackend) -> Software:
    """Both lists from one device (raises TransportError)."""
    target = snmp.SnmpTarget.for_device(device)
    installed = await backend.bulkwalk(target, HR_SW_INSTALLED_NAME)
    running = await backend.bulkwalk(target, HR_SW_RUN_NAME)
    return Software(_names(installed), _names(running))


async def _gather(
    devices: Sequence[Device], new_backend: snmp.BackendFactory
) -> dict[str, Software | TransportError]:
    backend = new_backend()

    async def one(device: Device) -> Software | TransportError:
        try:
            return await software(device, backend)
        except TransportError as exc:
            return exc

    try:
        results = await asyncio.gather(*(one(d) for d in devices))
    finally:
        await backend.close()
    return {d.name: r for d, r in zip(devices, results, strict=True)}


def collect_software(
    devices: Sequence[Device], new_backend: snmp.BackendFactory = snmp.snmp_backend
) -> dict[str, Software | TransportError]:
    """Software lists of every device, concurrently; a failure is that device's result."""
    if not devices:
        return {}
    check_all(r for d in devices for r in d.snmp_secrets())  # exit 2 before any request
    return asyncio.run(_gather(devices, new_backend))


def software_records(
    device: Device, sw: Software, catalogue: Mapping[str, ProductSpec], when: datetime
) -> list[AvRecord]:
    """One record per catalogue product present in ``sw``."""
    out = []
    for key, spec in catalogue.items():
        installed_re, running_re = spec.installed_re(), spec.running_re()
        installed = [n for n in sw.installed if installed_re and installed_re.search(n)]
        running = [n for n in sw.running if running_re and running_re.search(n)]
        if not installed and not running:
            continue
        name = installed[0] if installed else spec.label.zh
        detail = {"installed": installed[0]} if installed else {}
        if running:
            detail["process"] = running[0]
        out.append(
            AvRecord(
                source=f"snmp:{device.name}",
                host=device.name,
                ip=str(device.address) if device.address else None,
                mac=device.mac,
                zone=device.zone,
                unit=device.unit,
                vendor=key,
                product=name,
                edition=spec.edition_of(name),
                running=bool(running) if running_re is not None else None,
                last_seen=when,
                as_of=when,
                detail=detail,
            )
        )
    return out
