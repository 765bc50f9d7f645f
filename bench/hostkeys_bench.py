"""Host key verification (issue 12): what it adds per SSH connection.

1. Real connections to lab devices (netmiko login + logout): govnet's SshSession, which
   checks the key during the handshake, against the same netmiko login with the old
   settings (AutoAddPolicy, no check). Median of R rounds over the devices.
2. The decision alone (``verify``) with big files: govnet's own known_hosts with N entries
   and a system file with N hashed entries; first call (parse) and cached calls.
3. ``govnet hostkeys scan``'s key fetch (key exchange only, no login) per device.

Prints figures; asserts nothing (the machines are noisy).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import statistics
import tempfile
import time
from pathlib import Path

from govnet.inventory import load_inventory
from govnet.lab import launcher
from govnet.transport.hostkeys import HostKey, KnownHosts, verify
from govnet.transport.ssh import SshOptions, SshSession, fetch_host_key

ROUNDS = int(os.environ.get("GOVNET_BENCH_ROUNDS", "8"))
PLATFORMS = ["huawei", "hp_comware", "cisco_ios"]
K1 = "AAAAC3NzaC1lZDI1NTE5AAAAIPONrMegJsie4XaL8gc56SWvDyz947C0CTeUeg4hjQM7"
ENTRIES = int(os.environ.get("GOVNET_BENCH_ENTRIES", "5000"))


def write_inventory(folder: Path) -> Path:
    import socket

    import yaml

    (folder / "pw").write_text("Bench-Pass-2026\n")
    ports = []
    for _ in range(3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    inv = {
        "zones": {"internal": {}},
        "sites": {"city": {"level": "city"}},
        "credentials": {"lab": {"username": "govnet", "password": "file:pw"}},
        "defaults": {"credentials": "lab", "zone": "internal", "site": "city", "role": "access"},
        "devices": {
            f"sw{i}": {"host": "127.0.0.1", "port": p, "platform": plat}
            for i, (p, plat) in enumerate(zip(ports, PLATFORMS, strict=True))
        },
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(inv))
    return path


def unverified_login(device, password: str) -> None:  # type: ignore[no-untyped-def]
    """netmiko as govnet used it before: AutoAddPolicy, no known hosts."""
    from netmiko import ConnectHandler

    from govnet.platforms import get_platform

    platform = get_platform(device.platform)
    conn = ConnectHandler(
        device_type=platform.netmiko,
        host=device.host,
        port=device.port,
        username="govnet",
        password=password,
        fast_cli=True,
        allow_agent=False,
        use_keys=False,
        ssh_strict=False,
        system_host_keys=False,
    )
    conn.write_channel(platform.logout + conn.RETURN)
    conn.paramiko_cleanup()


def connections(folder: Path) -> None:
    path = write_inventory(folder)
    state = folder / "state"
    launcher.up(path, state, wait=60)
    try:
        inv = load_inventory(path)
        devices = list(inv.devices.values())
        store = KnownHosts(folder / "known_hosts", [])
        opts = SshOptions(known_hosts=store, retries=0)
        for d in devices:  # first contact: learn
            with SshSession(d, opts):
                pass
        checked, with_check, without = [], [], []
        for _ in range(ROUNDS):
            for d in devices:
                t0 = time.perf_counter()
                with SshSession(d, opts) as s:
                    pass
                with_check.append(time.perf_counter() - t0)
                assert s.host_key_check is not None
                checked.append(s.host_key_check.checked)
                t0 = time.perf_counter()
                unverified_login(d, "Bench-Pass-2026")
                without.append(time.perf_counter() - t0)
        fetch = []
        for _ in range(ROUNDS):
            for d in devices:
                t0 = time.perf_counter()
                fetch_host_key(d, store)
                fetch.append(time.perf_counter() - t0)
        med = statistics.median
        n = len(with_check)
        print(f"login+logout, {n} connections to {len(devices)} lab devices (median):")
        print(f"  verified (govnet SshSession)     {med(with_check) * 1000:8.1f} ms")
        print(f"  unverified (old AutoAddPolicy)   {med(without) * 1000:8.1f} ms")
        diff = (med(with_check) - med(without)) * 1000
        print(f"  difference                       {diff:+8.1f} ms  (the login itself dominates)")
        print(
            f"  time inside the key decision     {med(checked) * 1e6:8.1f} µs median, "
            f"{max(checked) * 1e6:.1f} µs max"
        )
        print(f"key fetch only (hostkeys scan)     {med(fetch) * 1000:8.1f} ms per device")
    finally:
        launcher.down(state)


def big_files(folder: Path) -> None:
    key = HostKey(
        base64.b64decode("AAAAC3NzaC1lZDI1NTE5AAAAIPONrMegJsie4XaL8gc56SWvDyz947C0CTeUeg4hjQM7")
    )
    own = folder / "own"
    system = folder / "system"
    own_lines, sys_lines = [], []
    for i in range(ENTRIES):
        host = f"[10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}]:22{i % 100:02d}"
        own_lines.append(
            f"{host} {key.keytype} {key.base64} device=sw{i} first-seen=2026-12-01T00:00:00Z"
        )
        salt = hashlib.sha1(str(i).encode()).digest()
        mac = hmac.new(salt, f"172.16.{i // 256 % 256}.{i % 256}".encode(), hashlib.sha1).digest()
        hashed = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"
        sys_lines.append(f"{hashed} {key.keytype} {key.base64}")
    own.write_text("\n".join(own_lines) + "\n")
    system.write_text("\n".join(sys_lines) + "\n")
    target = own_lines[ENTRIES // 2].split()[0][1:].split("]:")
    host, port = target[0], int(target[1])
    store = KnownHosts(own, [system])
    t0 = time.perf_counter()
    verify(store, "sw", host, port, "tofu", key)
    first = time.perf_counter() - t0
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        verify(store, "sw", host, port, "tofu", key)
        times.append(time.perf_counter() - t0)
    others = []
    for line in own_lines[:50]:
        h, p = line.split()[0][1:].split("]:")
        t0 = time.perf_counter()
        verify(store, "sw", h, int(p), "tofu", key)
        others.append(time.perf_counter() - t0)
    print(f"verify() with {ENTRIES} govnet entries + {ENTRIES} hashed system entries:")
    print(f"  first call (parse both files)    {first * 1000:8.1f} ms")
    print(
        f"  another device (files parsed)    {statistics.median(others) * 1000:8.2f} ms median"
        "  (HMAC of every hashed system line)"
    )
    print(f"  the same device again            {statistics.median(times) * 1000:8.2f} ms median")
    t0 = time.perf_counter()
    verify(KnownHosts(own, []), "sw", host, port, "tofu", key)
    print(f"  govnet file only, first call     {(time.perf_counter() - t0) * 1000:8.1f} ms")
    fresh = KnownHosts(folder / "learned", [])
    t0 = time.perf_counter()
    for i in range(500):
        verify(fresh, f"sw{i}", f"10.20.{i // 256}.{i % 256}", 22, "tofu", key)
    per = (time.perf_counter() - t0) / 500
    print(f"first contact (learn, append, fsync) {per * 1000:6.2f} ms per device (500 devices)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="govnet-hostkeys-bench-") as tmp:
        os.environ["GOVNET_SYSTEM_KNOWN_HOSTS"] = ""
        connections(Path(tmp))
        big_files(Path(tmp))


if __name__ == "__main__":
    main()
