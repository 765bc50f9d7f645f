"""SNMP figures: lab agents started per second, CPU per 1,000-varbind walk, client decode rate.

Prints figures; asserts nothing (the machines are noisy). The agents run in a child process
(``--serve``) so their CPU is measured apart from the client's. Targets (issue brief): 200
agents in one process start in < 5 s; a 1,000-varbind walk costs the agent well under 0.35 s
CPU (snmpsim's figure).

    python bench/snmp_bench.py                 # 200 agents, 52 interfaces each
    GOVNET_BENCH_AGENTS=20 python bench/snmp_bench.py
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govnet.inventory.model import SnmpProfileSpec
from govnet.lab.data import LabBehaviour, LabDeviceData, LabTables
from govnet.lab.snmpagent import AgentSpec, SnmpLab, build_mib
from govnet.secrets import SecretRef
from govnet.transport import snmp

N = int(os.environ.get("GOVNET_BENCH_AGENTS", "200"))
INTERFACES = 52  # ifXTable: 19 columns × 52 = 988 varbinds, "a 1,000-varbind walk"
COMMUNITY = "bench-ro"
USER, AUTH, PRIV = "bench-v3", "bench-auth-key", "bench-priv-key"
IFX = "1.3.6.1.2.1.31.1.1.1"
WALKS = 20


def device(i: int) -> LabDeviceData:
    interfaces = [
        {"name": f"GigabitEthernet0/0/{n}", "description": f"port {n}", "speed": 1000}
        for n in range(1, 49)
    ] + [{"name": f"XGigabitEthernet0/0/{n}", "speed": 10000} for n in range(1, 5)]
    arp = [
        {
            "ip": f"10.{i // 250}.{i % 250}.{n}",
            "mac": f"00:1a:{i // 256:02x}:{i % 256:02x}:00:{n:02x}",
            "interface": "Vlanif100",
        }
        for n in range(1, 41)
    ]
    mac = [
        {"mac": a["mac"], "vlan": 100, "interface": f"GigabitEthernet0/0/{n}"}
        for n, a in enumerate(arp, start=1)
    ]
    return LabDeviceData(
        name=f"sw{i}",
        running_config=None,
        tables=LabTables.model_validate({"interfaces": interfaces, "arp": arp, "mac": mac}),
        behaviour=LabBehaviour(),
    )


def specs(n: int) -> list[AgentSpec]:
    return [
        AgentSpec(
            f"sw{i}",
            "access",
            "huawei",
            0,
            device(i),
            community=COMMUNITY,
            v3_user=USER,
            auth_protocol="sha",
            auth_key=AUTH,
            priv_protocol="aes128",
            priv_key=PRIV,
        )
        for i in range(n)
    ]


# --- the agents' process ------------------------------------------------------------------


async def serve(n: int) -> None:
    agents = specs(n)
    t0 = time.perf_counter()
    lab = SnmpLab(agents)
    t1 = time.perf_counter()
    await lab.start()
    t2 = time.perf_counter()
    ready = {
        "build_s": t1 - t0,  # validation; MIBs are built on first request
        "bind_s": t2 - t1,
        "addresses": [lab.address(a.name) for a in agents],
    }
    print(json.dumps(ready), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    await lab.stop()


# --- the client ---------------------------------------------------------------------------


def cpu(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


async def bench(child: subprocess.Popen[str], ready: dict[str, Any]) -> None:
    addresses = [tuple(a) for a in ready["addresses"]]
    os.environ.update(
        GOVNET_BENCH_COMMUNITY=COMMUNITY, GOVNET_BENCH_AUTH=AUTH, GOVNET_BENCH_PRIV=PRIV
    )
    v2c = SnmpProfileSpec(version="2c", community=SecretRef.parse("env:GOVNET_BENCH_COMMUNITY"))
    v3 = SnmpProfileSpec(
        version="3",
        user=USER,
        auth_protocol="sha",
        auth_key=SecretRef.parse("env:GOVNET_BENCH_AUTH"),
        priv_protocol="aes128",
        priv_key=SecretRef.parse("env:GOVNET_BENCH_PRIV"),
    )
    host, port = addresses[0]

    def target(profile: SnmpProfileSpec, i: int = 0) -> snmp.SnmpTarget:
        h, p = addresses[i]
        return snmp.SnmpTarget(str(h), int(p), profile, f"sw{i}")

    client = snmp.snmp_backend("pysnmp")
    await client.bulkwalk(target(v2c), IFX)  # warm up: engine, discovery, caches
    await client.bulkwalk(target(v3), IFX)

    for label, profile, walker in (
        ("v2c GETBULK x25", v2c, "bulk"),
        ("v3 authPriv GETBULK x25", v3, "bulk"),
        ("v2c GETNEXT", v2c, "next"),
    ):
        agent0, client0, wall0 = cpu(child.pid), time.process_time(), time.perf_counter()
        varbinds = 0
        for _ in range(WALKS if walker == "bulk" else 3):
            if walker == "bulk":
                got = await client.bulkwalk(target(profile), IFX)
            else:
                got = await client.walk(target(profile), IFX)
            varbinds += len(got)
        agent_s, client_s = cpu(child.pid) - agent0, time.process_time() - client0
        wall = time.perf_counter() - wall0
        print(
            f"{label:<24} per 1,000 varbinds: agent {agent_s * 1000 / varbinds:.3f} s CPU, "
            f"pysnmp client {client_s * 1000 / varbinds:.3f} s CPU; client decodes "
            f"{varbinds / client_s:.0f} varbinds/s ({varbinds / wall:.0f}/s wall)"
        )

    tool = shutil.which("snmpbulkwalk")
    if tool:
        agent0, wall0 = cpu(child.pid), time.perf_counter()
        args = [tool, "-v2c", "-c", COMMUNITY, "-Cr25", "-On", f"udp:{host}:{port}", IFX]
        env = {"PATH": "/usr/bin:/bin", "MIBS": "", "SNMP_PERSISTENT_DIR": "/tmp/govnet-net-snmp"}
        lines = 0
        for _ in range(WALKS):
            out = subprocess.run(args, capture_output=True, text=True, check=True, env=env)
            lines += len(out.stdout.splitlines())
        agent_s = cpu(child.pid) - agent0
        print(
            f"{'v2c GETBULK net-snmp':<24} per 1,000 varbinds: agent "
            f"{agent_s * 1000 / lines:.3f} s CPU ({WALKS} walks of {lines // WALKS} in "
            f"{time.perf_counter() - wall0:.2f} s wall)"
        )
    else:
        print("net-snmp tools not found: apt-get install -y snmp for the net-snmp figure")

    # the whole fleet at once, as the monitor polls it: both octet counters of every port;
    # each agent builds its MIB on this first request
    await client.close()
    client = snmp.snmp_backend("pysnmp", concurrency=64)
    agent0, client0, wall0 = cpu(child.pid), time.process_time(), time.perf_counter()
    results = await asyncio.gather(
        *(
            client.bulkwalk(target(v2c, i), column)
            for i in range(1, len(addresses))
            for column in (f"{IFX}.6", f"{IFX}.10")
        ),
        return_exceptions=True,
    )
    wall = time.perf_counter() - wall0
    ok = [r for r in results if isinstance(r, dict)]
    total = sum(len(r) for r in ok)
    print(
        f"fleet poll: {len(ok)}/{len(results)} counter walks on {len(addresses) - 1} agents "
        f"(64 at a time) in {wall:.2f} s, {total} varbinds, {total / wall:.0f} varbinds/s wall; "
        f"agent CPU {cpu(child.pid) - agent0:.2f} s (MIB builds included), client CPU "
        f"{time.process_time() - client0:.2f} s"
    )
    failed = [r for r in results if not isinstance(r, dict)]
    if failed:
        print(f"  {len(failed)} failed, first: {failed[0]}")
    await client.close()


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(int(sys.argv[2])))
        return 0
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(N)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    ready = json.loads(child.stdout.readline())
    up = time.perf_counter() - started
    build, bind = ready["build_s"], ready["bind_s"]
    print(
        f"agents: {N} started in {build + bind:.3f} s ({N / (build + bind):.0f} agents/s: "
        f"validation {build:.3f} s, binding {bind:.3f} s); child process ready in {up:.2f} s "
        f"including Python start-up and imports"
    )
    sample = specs(min(N, 20))
    t0 = time.perf_counter()
    for spec in sample:
        build_mib(spec.name, spec.role, spec.platform, spec.data)
    each = (time.perf_counter() - t0) / len(sample)
    print(
        f"MIB build (on first request): {each * 1000:.1f} ms per agent "
        f"({len(build_mib(sample[0].name, 'access', 'huawei', sample[0].data))} OIDs)"
    )
    print(f"agent process RSS {psutil.Process(child.pid).memory_info().rss / 2**20:.0f} MiB")
    try:
        asyncio.run(bench(child, ready))
    finally:
        child.stdin.close()
        child.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
