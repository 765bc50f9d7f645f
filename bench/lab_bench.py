"""Lab figures: 200 SSH devices up and down, a 20-line config push, nothing left behind.

Prints figures; asserts nothing (the machines are noisy). Targets (issue 2): up < 5 s,
down < 2 s, 20-line push < 0.5 s, no process left after 'down' or after the server is killed.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

from govnet.inventory import load_inventory
from govnet.lab import launcher
from govnet.transport.ssh import SshSession

N = int(os.environ.get("GOVNET_BENCH_DEVICES", "200"))
PLATFORMS = ["huawei", "hp_comware", "cisco_ios"]


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def write_inventory(folder: Path, n: int) -> Path:
    (folder / "pw").write_text("Bench-Pass-2026\n")
    ports = free_ports(n)
    inv = {
        "zones": {"internal": {"pools": {"prefixes": ["10.0.0.0/8"]}}},
        "sites": {"city": {"level": "city"}},
        "credentials": {"lab": {"username": "govnet", "password": "file:pw"}},
        "defaults": {"credentials": "lab", "zone": "internal", "site": "city", "role": "access"},
        "devices": {
            f"sw{i:03d}": {
                "host": "127.0.0.1",
                "port": ports[i],
                "platform": PLATFORMS[i % 3],
                "address": f"10.{i // 250}.{i % 250}.1",
            }
            for i in range(n)
        },
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(inv))
    return path


def listening(ports: list[int]) -> int:
    alive = 0
    for p in ports:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", p)) == 0:
                alive += 1
    return alive


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_inventory(folder, N)
        inv = load_inventory(path)
        ports = [d.port for d in inv.devices.values()]
        state = folder / "state"
        os.environ["GOVNET_KNOWN_HOSTS"] = str(folder / "known_hosts")  # a throwaway lab's keys

        t0 = time.perf_counter()
        st = launcher.up(path, state, wait=60)
        up_s = time.perf_counter() - t0
        server = psutil.Process(st.pid) if st.pid else None
        rss = server.memory_info().rss / 2**20 if server else float("nan")
        print(f"lab up, {N} SSH devices:           {up_s:6.2f} s   (target < 5 s)")
        print(f"lab server RSS with {N} devices:   {rss:6.1f} MiB")

        pushes = []
        for name in ("sw000", "sw001", "sw002"):  # one per platform
            device = inv.devices[name]
            lines = [
                f"interface GigabitEthernet0/0/{i}"
                if device.platform == "huawei"
                else f"interface GigabitEthernet1/0/{i}"
                if device.platform == "hp_comware"
                else f"interface GigabitEthernet0/{i}"
                for i in range(1, 11)
            ]
            config = [x for line in lines for x in (line, " description bench")]
            with SshSession(device) as session:
                t1 = time.perf_counter()
                session.configure(config)
                pushes.append((device.platform, time.perf_counter() - t1))
        for platform, secs in pushes:
            print(f"20-line push via netmiko ({platform:10s}): {secs:6.3f} s   (target < 0.5 s)")

        t2 = time.perf_counter()
        launcher.down(state)
        down_s = time.perf_counter() - t2
        left = listening(ports)
        print(f"lab down:                          {down_s:6.2f} s   (target < 2 s)")
        print(f"ports still listening after down:  {left}")
        pid = st.pid
        alive = bool(pid and psutil.pid_exists(pid))
        alive = alive and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        print(f"server process left after down:    {alive}")

        st = launcher.up(path, state, wait=60)
        assert st.pid is not None
        children = psutil.Process(st.pid).children(recursive=True)
        os.kill(st.pid, signal.SIGKILL)
        time.sleep(0.5)
        launcher.down(state)  # cleans the stale pid file
        print(
            f"after kill -9 of the lab server:   {listening(ports)} ports listening, "
            f"{len(children)} child processes existed"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
