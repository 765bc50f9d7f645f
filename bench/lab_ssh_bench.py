"""Figures for the lab's SSH simulator (prints; never asserts).

    python bench/lab_ssh_bench.py [--devices 200] [--lines 20]

Prints: time until N devices listen and until they are stopped, process RSS, the time of one
``send_config_set`` of L lines through unmodified netmiko per platform, the same lines over a
raw asyncssh client (what the simulator itself costs), and a fleet pass of
``show running-config`` over 20 devices in parallel threads.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncssh
import psutil
from netmiko import ConnectHandler

from govnet.lab.data import LabDeviceData
from govnet.lab.sshsim import SimDevice, SshSimulator
from govnet.platforms import get_platform

T = TypeVar("T")
PLATFORMS = ("huawei", "hp_comware", "cisco_ios", "ruijie_os", "linux")
USER, PASSWORD = "admin", "bench-pw"
LINES = {
    "cisco_ios": ["interface GigabitEthernet1/0/{i}", "description bench port {i}"],
    "ruijie_os": ["interface GigabitEthernet 0/{i}", "description bench port {i}"],
    "huawei": ["interface GigabitEthernet0/0/{i}", "description bench port {i}"],
    "hp_comware": ["interface GigabitEthernet1/0/{i}", "description bench port {i}"],
}


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def config_lines(platform: str, count: int) -> list[str]:
    pair = LINES[platform]
    return [pair[k % 2].format(i=k // 2 + 1) for k in range(count)]


async def raw_config(port: int, platform: str, lines: list[str]) -> float:
    """Send the lines one by one over asyncssh, waiting for each prompt: simulator latency."""
    p = get_platform(platform)
    async with asyncssh.connect(
        "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=None
    ) as conn:
        proc = await conn.create_process(term_type="vt100")
        end = "]" if p.comment == "#" else "#"

        async def until(mark: str) -> None:
            buf = ""
            while not buf.rstrip().endswith(mark):
                buf += await proc.stdout.read(65536)

        await until(">" if end == "]" else "#")
        started = time.perf_counter()
        for line in [p.config_enter or "", *lines, p.config_exit or ""]:
            proc.stdin.write(line + "\n")
            await until(end if line != p.config_exit else (">" if end == "]" else "#"))
        elapsed = time.perf_counter() - started
        proc.stdin.write("quit\n" if end == "]" else "exit\n")
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--lines", type=int, default=20)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="lab-ssh-bench-"))
    ports = free_ports(args.devices)
    devices = [
        SimDevice(
            name=f"dev{i:03d}",
            platform=PLATFORMS[i % len(PLATFORMS)],
            port=port,
            username=USER,
            password=PASSWORD,
            state_dir=base / f"dev{i:03d}",
            data=LabDeviceData(name=f"dev{i:03d}", running_config=None),
        )
        for i, port in enumerate(ports)
    ]
    by_platform = {d.platform: d for d in devices}
    loop = LoopThread()
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    try:
        sim = SshSimulator(devices, host_key=base / "ssh_host_ed25519_key")
        t = time.perf_counter()
        loop.run(sim.start())
        print(f"start: {len(devices)} devices listening in {time.perf_counter() - t:.3f} s")
        print(f"RSS after start: +{(proc.memory_info().rss - rss0) / 2**20:.1f} MiB")

        for platform in ("cisco_ios", "ruijie_os", "huawei", "hp_comware"):
            d = by_platform[platform]
            lines = config_lines(platform, args.lines)
            raw = loop.run(raw_config(d.port, platform, lines))
            t = time.perf_counter()
            conn = ConnectHandler(
                device_type=platform,
                host="127.0.0.1",
                port=d.port,
                username=USER,
                password=PASSWORD,
                secret=PASSWORD,
            )
            connect = time.perf_counter() - t
            t = time.perf_counter()
            conn.send_config_set(lines)
            cfg = time.perf_counter() - t
            # the same push with the mode switches done by send_command (no timing reads)
            p = get_platform(platform)
            t = time.perf_counter()
            conn.send_command(p.config_enter or "", expect_string=r"[\]#]\s*$")
            conn.send_config_set(lines, enter_config_mode=False, exit_config_mode=False)
            conn.send_command(p.config_exit or "", expect_string=r"[>#]\s*$")
            manual = time.perf_counter() - t
            t = time.perf_counter()
            conn.disconnect()
            disconnect = time.perf_counter() - t
            print(
                f"{platform:<11} netmiko connect {connect:.3f} s, {args.lines}-line "
                f"send_config_set {cfg:.3f} s (mode switches by send_command: {manual:.3f} s), "
                f"disconnect {disconnect:.3f} s; raw asyncssh {args.lines + 2} lines "
                f"{raw * 1000:.1f} ms"
            )

        fleet = [d for d in devices if d.platform == "cisco_ios"][:20]

        def fetch(d: SimDevice) -> Any:
            c = ConnectHandler(
                device_type=d.platform,
                host="127.0.0.1",
                port=d.port,
                username=USER,
                password=PASSWORD,
            )
            c.send_command("show running-config")
            return c

        t = time.perf_counter()
        with ThreadPoolExecutor(max_workers=20) as pool:
            sessions = list(pool.map(fetch, fleet))
        print(
            f"fleet: connect + show running-config on {len(sessions)} cisco_ios devices, "
            f"20 threads, {time.perf_counter() - t:.3f} s"
        )

        t = time.perf_counter()
        loop.run(sim.stop())
        print(f"stop with {len(sessions)} sessions open: {time.perf_counter() - t:.3f} s")
        for c in sessions:
            c.remote_conn_pre.close()  # the simulator already closed them

        t = time.perf_counter()
        again = SshSimulator(devices, host_key=base / "ssh_host_ed25519_key")
        loop.run(again.start())
        print(f"restart with saved state: {time.perf_counter() - t:.3f} s")
        loop.run(again.stop())
    finally:
        loop.close()


if __name__ == "__main__":
    main()
