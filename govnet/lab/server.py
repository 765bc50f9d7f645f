"""The lab server process: every simulated SSH device and SNMP agent in one asyncio loop.

Run by ``govnet lab up`` (see launcher.py); usable directly for debugging::

    python -m govnet.lab.server --inventory inventory/lab.yaml --state-dir /tmp/lab
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from govnet.errors import GovnetError
from govnet.inventory import Inventory, load_inventory
from govnet.lab.data import load_device_data
from govnet.lab.http import HttpLab, HttpSpec, http_specs
from govnet.lab.launcher import READY, data_dir_for, device_state_dir, has_ssh, is_loopback
from govnet.lab.snmpagent import AgentSpec, SnmpLab
from govnet.lab.sshsim import SimDevice, SshSimulator

log = logging.getLogger("govnet.lab")


@dataclass
class LabPlan:
    ssh: list[SimDevice]
    snmp: list[AgentSpec]
    http: list[HttpSpec] = field(default_factory=list)  # the services' web pages


def build_plan(
    inv: Inventory,
    data_dir: Path | None,
    state_dir: Path,
    scenarios: frozenset[str] = frozenset(),
) -> LabPlan:
    """Simulator specs for every loopback device; secrets resolved from the inventory refs.

    ``scenarios``: seeded lab entries to serve beside the usual ones (see LabNeighbor)."""
    ssh: list[SimDevice] = []
    snmp: list[AgentSpec] = []
    for d in sorted(inv.devices.values(), key=lambda d: d.name):
        if not is_loopback(d.host):
            continue
        data = load_device_data(data_dir, d.name, scenarios)
        if has_ssh(d):
            assert d.credentials is not None
            ssh.append(
                SimDevice(
                    name=d.name,
                    platform=d.platform,
                    port=d.port,
                    username=d.credentials.username or "",
                    password=d.credentials.password.resolve(f"{d.name} password")
                    if d.credentials.password
                    else "",
                    state_dir=device_state_dir(state_dir, d.name),
                    data=data,
                    host=d.host,
                    telnet=d.transport == "telnet",
                )
            )
        if d.snmp is not None:
            p = d.snmp
            snmp.append(
                AgentSpec(
                    name=d.name,
                    role=d.role,
                    platform=d.platform,
                    port=d.snmp_port,
                    data=data,
                    community=p.community.resolve(f"{d.name} SNMP community")
                    if p.community
                    else None,
                    v3_user=p.user,
                    auth_protocol=p.auth_protocol,
                    auth_key=p.auth_key.resolve(f"{d.name} SNMP auth key") if p.auth_key else None,
                    priv_protocol=p.priv_protocol,
                    priv_key=p.priv_key.resolve(f"{d.name} SNMP priv key") if p.priv_key else None,
                    host=d.host,
                )
            )
    return LabPlan(ssh, snmp, http_specs(inv))


async def serve(plan: LabPlan, state_dir: Path, inventory: str, stop: asyncio.Event) -> None:
    ssh = SshSimulator(plan.ssh)  # one stable host key per device, in its state dir
    agents = SnmpLab(plan.snmp)
    started = time.monotonic()
    web = HttpLab(plan.http, state_dir)
    await ssh.start()
    loop = asyncio.get_running_loop()

    def reload_keys() -> None:  # 'govnet lab hostkey rotate DEVICE' sends SIGHUP
        for name in ssh.reload_host_keys():
            log.info("%s: serving its new host key", name)

    loop.add_signal_handler(signal.SIGHUP, reload_keys)
    try:
        await agents.start()
        await web.start()
        try:
            devices: dict[str, dict[str, object]] = {}
            for s in plan.ssh:
                devices.setdefault(s.name, {"name": s.name})["ssh_port"] = s.port
                devices[s.name]["platform"] = s.platform
                devices[s.name]["silent"] = s.data.behaviour.no_banner
            for a in plan.snmp:
                devices.setdefault(a.name, {"name": a.name})["snmp_port"] = a.port
                devices[a.name]["silent"] = a.data.behaviour.silent
            specs: list[SimDevice | AgentSpec] = [*plan.ssh, *plan.snmp]
            for spec in specs:
                faults = spec.data.behaviour.faults.names()
                if faults:
                    devices[spec.name]["faults"] = faults
            ready = {
                "pid": os.getpid(),
                "inventory": inventory,
                "started": time.time(),
                "startup_seconds": round(time.monotonic() - started, 3),
                "devices": sorted(devices.values(), key=lambda d: str(d["name"])),
                "services": [
                    {
                        "name": h.service,
                        "url": f"http://{h.host}:{h.port}/",
                        "error": web.errors.get(h.service, ""),
                    }
                    for h in plan.http
                ],
            }
            tmp = state_dir / f".{READY}.tmp"
            tmp.write_text(json.dumps(ready, indent=1))
            tmp.replace(state_dir / READY)
            log.info("lab up: %d SSH devices, %d SNMP agents", len(plan.ssh), len(plan.snmp))
            await stop.wait()
        finally:
            await web.stop()
            await agents.stop()
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        await ssh.stop()
        (state_dir / READY).unlink(missing_ok=True)
        log.info("lab down")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m govnet.lab.server")
    parser.add_argument("--inventory", required=True, type=Path)
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--scenario", action="append", default=[])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        inv = load_inventory(args.inventory)
        plan = build_plan(
            inv, data_dir_for(args.inventory), args.state_dir, frozenset(args.scenario)
        )
    except GovnetError as exc:
        log.error("cannot start the lab: %s", exc)
        return 2

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(plan, args.state_dir, str(args.inventory), stop)

    try:
        asyncio.run(run())
    except (OSError, GovnetError) as exc:  # a port already taken, typically
        log.error("cannot start the lab: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
