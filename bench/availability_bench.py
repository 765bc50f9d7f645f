"""Service-check figures (issue 8): 500 services at 30 s against local servers.

govnet's scheduler (``govnet.availability.runner.ServiceRunner``, as govnetd runs it: concurrency
64, up → down states) checks 250 http services (GET, status and text) and 250 tcp services
(connect) every 30 s. The servers are the lab's web server (``govnet.lab.http``) on 10
loopback ports in a child process, so their CPU is not the client's. Figures: checks per
second, check lag p50/p99/max (how late a check started after it was due), failures, and the
client's CPU (this process) as a share of one core. Prints figures; asserts nothing.

    python bench/availability_bench.py                        # 500 services, 75 s
    GOVNET_BENCH_SERVICES=2000 GOVNET_BENCH_SECONDS=120 python bench/availability_bench.py
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from govnet.availability.runner import CheckResult, ServiceRunner
from govnet.inventory.model import HttpProbeSpec, Label, Probe, Service, TcpProbeSpec
from govnet.monitor.config import MonitorConfig

N = int(os.environ.get("GOVNET_BENCH_SERVICES", "500"))
SECONDS = float(os.environ.get("GOVNET_BENCH_SECONDS", "75"))
INTERVAL = 30.0
PORTS = 10

SERVER = """
import asyncio, sys
from pathlib import Path
from govnet.lab.http import HttpLab, HttpSpec

async def main() -> None:
    specs = [HttpSpec(f"s{p}", "127.0.0.1", int(p), "门户网站") for p in sys.argv[1:]]
    lab = HttpLab(specs, Path("/nonexistent"))
    await lab.start()
    assert not lab.errors, lab.errors
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await lab.stop()

asyncio.run(main())
"""


def free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def services(ports: list[int]) -> list[Service]:
    out = []
    for i in range(N):
        port = ports[i % len(ports)]
        spec: HttpProbeSpec | TcpProbeSpec
        if i % 2:
            spec = TcpProbeSpec(kind="tcp", host="127.0.0.1", port=port)
        else:
            spec = HttpProbeSpec(
                kind="http", url=f"http://127.0.0.1:{port}/s{i}", expect_text="欢迎访问"
            )
        out.append(
            Service(
                name=f"svc-{i:04d}",
                label=Label(en=f"service {i}"),
                zone="external",
                unit="city-it-center",
                site="city",
                host=None,
                interval=INTERVAL,
                probes=(Probe(spec.kind, spec),),
            )
        )
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def run(svcs: list[Service]) -> tuple[list[CheckResult], float, float]:
    results: list[CheckResult] = []
    # first checks spread over a whole interval: the steady state of a long-running daemon
    config = MonitorConfig(first_spread=INTERVAL)
    runner = ServiceRunner(svcs, config, on_check=lambda r, _s, _t: results.append(r))
    stop = asyncio.Event()
    cpu0, wall0 = time.process_time(), time.monotonic()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.sleep(SECONDS)
    stop.set()
    await task
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    await runner.close()
    return results, cpu, wall


def main() -> None:
    ports = free_ports(PORTS)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, *map(str, ports)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert server.stdout is not None and server.stdin is not None
    try:
        assert server.stdout.readline().strip() == "ready"
        svcs = services(ports)
        results, cpu, wall = asyncio.run(run(svcs))
    finally:
        server.stdin.close()
        server.wait(10)
    server_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    lags = [r.lag for r in results]
    failed = [r for r in results if not r.ok]
    http_ms = [r.ms for r in results if r.ms is not None and r.outcomes[0].kind == "http"]
    tcp_ms = [r.ms for r in results if r.ms is not None and r.outcomes[0].kind == "tcp"]
    expected = N * wall / INTERVAL
    print(
        f"services: {N} ({N - N // 2} http, {N // 2} tcp) at {INTERVAL:.0f} s, "
        f"{PORTS} local server ports, concurrency 64, {wall:.0f} s"
    )
    print(
        f"checks: {len(results)} ({len(results) / wall:.1f}/s; {expected:.0f} due), "
        f"failures: {len(failed)}"
    )
    if failed:
        print(f"  first failure: {failed[0].service}: {failed[0].error}")
    print(
        f"lag: p50 {pct(lags, 0.5) * 1000:.1f} ms, p99 {pct(lags, 0.99) * 1000:.1f} ms, "
        f"max {max(lags, default=0) * 1000:.1f} ms"
    )
    print(
        f"response: http p50 {pct(http_ms, 0.5):.1f} ms p99 {pct(http_ms, 0.99):.1f} ms; "
        f"tcp p50 {pct(tcp_ms, 0.5):.1f} ms p99 {pct(tcp_ms, 0.99):.1f} ms"
    )
    print(
        f"client CPU: {cpu:.2f} s in {wall:.0f} s = {cpu / wall * 100:.1f}% of one core "
        f"({cpu / max(1, len(results)) * 1000:.2f} ms per check)"
    )
    server_s = server_cpu.ru_utime + server_cpu.ru_stime
    print(f"server CPU (child, not counted above): {server_s:.2f} s")


if __name__ == "__main__":
    main()
