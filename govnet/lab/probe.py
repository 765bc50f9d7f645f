"""Reachability of the lab's devices: an SSH banner check and an SNMP sysName GET."""

from __future__ import annotations

from typing import Any

from govnet.lab.launcher import probe_ssh


def probe_devices(devices: list[dict[str, Any]], host: str = "127.0.0.1") -> list[dict[str, Any]]:
    rows = []
    for d in devices:
        row = {"name": d["name"], "platform": d.get("platform", "snmp")}
        if d.get("ssh_port"):
            row["ssh"] = f"{host}:{d['ssh_port']}"
            row["ssh_state"] = probe_ssh(host, int(d["ssh_port"]))
        if d.get("snmp_port"):
            row["snmp"] = f"{host}:{d['snmp_port']}/udp"
        rows.append(row)
    return rows
