"""Reachability of the lab's devices: an SSH banner check and an SNMP sysName GET each."""

from __future__ import annotations

import asyncio
from typing import Any

from govnet.errors import GovnetError
from govnet.inventory.model import Inventory
from govnet.lab.launcher import probe_ssh

SYS_NAME = "1.3.6.1.2.1.1.5.0"


async def _snmp_states(inv: Inventory, names: list[str], timeout: float) -> dict[str, str]:
    from govnet.transport import snmp

    backend = snmp.snmp_backend()

    async def one(name: str) -> tuple[str, str]:
        device = inv.devices[name]
        profile = device.snmp
        assert profile is not None
        fast = profile.model_copy(update={"timeout": timeout, "retries": 0})
        target = snmp.SnmpTarget(device.host, device.snmp_port, fast, device.name)
        try:
            values = await backend.get(target, [SYS_NAME])
        except GovnetError as exc:
            return name, getattr(exc, "kind", "error")
        value = values.get(SYS_NAME)
        shown = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        return name, f"up ({shown})"

    try:
        return dict(await asyncio.gather(*(one(n) for n in names)))
    finally:
        await backend.close()


def probe_devices(
    devices: list[dict[str, Any]], inv: Inventory | None = None, timeout: float = 1.0
) -> list[dict[str, Any]]:
    """One row per lab device: SSH banner state and SNMP state (via the inventory's profile)."""
    host = "127.0.0.1"
    rows = []
    snmp_names = []
    for d in devices:
        row = {"name": d["name"], "platform": d.get("platform", "snmp")}
        if d.get("faults"):  # lab data ``faults:`` (govnet/lab/faults.py)
            row["faults"] = ", ".join(d["faults"])
        if d.get("ssh_port"):
            row["ssh"] = f"{host}:{d['ssh_port']}"
            row["ssh_state"] = probe_ssh(host, int(d["ssh_port"]), timeout)
        if d.get("snmp_port"):
            row["snmp"] = f"{host}:{d['snmp_port']}/udp"
            if inv is not None and d["name"] in inv.devices and inv.devices[d["name"]].snmp:
                snmp_names.append(d["name"])
        rows.append(row)
    if inv is not None and snmp_names:
        states = asyncio.run(_snmp_states(inv, snmp_names, timeout))
        for row in rows:
            if row["name"] in states:
                row["snmp_state"] = states[row["name"]]
    return rows
