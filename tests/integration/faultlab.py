"""A lab of N switches (huawei, hp_comware, cisco_ios) on free loopback ports, some faulty.

Used by tests/integration/test_faults_lab.py (40 devices) and bench/faults_bench.py (100).
Faults are lab data (``lab-data/<device>/lab.yaml`` → ``faults:``), assigned by position so
the same N gives the same fleet; what each faulty device should produce is returned with it.
"""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.integration.conftest import PortPicker

PLATFORMS = ("huawei", "hp_comware", "cisco_ios")
PASSWORD = "Fault-Lab-2026"

# fault name → (share of the fleet, lab.yaml faults, words the error message must contain)
MIX: dict[str, tuple[float, dict[str, Any], str]] = {
    "silent": (0.10, {"no_banner": True}, "no SSH banner"),
    "wrong_password": (0.05, {"wrong_password": True}, "authentication failed"),
    "garbled": (0.05, {"garbled": {"rate": 0.3}}, "garbled reply"),
    "slow": (0.05, {}, ""),  # line_delay set per device: half within the timeout, half beyond
    "drop": (0.05, {"drop": {"after_bytes": 1200}}, "connection dropped mid-command"),
}


@dataclass(frozen=True)
class FaultFleet:
    inventory: Path
    faults: dict[str, str]  # device → fault name ("" for healthy, "slow-ok", "slow-timeout")
    expect: dict[str, str]  # device → words its error message must contain ("" if none)


def assign(n: int) -> list[str]:
    """The fault of each of ``n`` devices, at positions shuffled by a fixed seed."""
    kinds = [name for name, (share, _, _) in MIX.items() for _ in range(max(1, round(n * share)))]
    slow = 0
    for j, kind in enumerate(kinds):
        if kind == "slow":
            kinds[j] = "slow-ok" if slow % 2 == 0 else "slow-timeout"
            slow += 1
    positions = list(range(n))
    random.Random(n).shuffle(positions)
    out = [""] * n
    for pos, kind in zip(positions, kinds, strict=False):
        out[pos] = kind
    return out


def write_fleet(
    folder: Path, n: int, *, read_timeout: float, connect_timeout: float, seed: int = 1
) -> FaultFleet:
    """Inventory ``folder/faults.yaml`` and its lab data; slow devices are sized from
    ``read_timeout``: ``slow-ok`` sends its config in about a fifth of it, ``slow-timeout``
    would need about three times it."""
    (folder / "pw").write_text(PASSWORD + "\n")
    picker = PortPicker()
    try:
        ports = [picker.pick(socket.SOCK_STREAM) for _ in range(n)]
    finally:
        picker.release()
    kinds = assign(n)
    devices: dict[str, Any] = {}
    faults: dict[str, str] = {}
    expect: dict[str, str] = {}
    for i in range(n):
        name = f"sw{i:03d}"
        devices[name] = {
            "host": "127.0.0.1",
            "port": ports[i],
            "platform": PLATFORMS[i % 3],
            "address": f"10.{i // 250}.{i % 250}.1",
            "timeout": connect_timeout,
        }
        kind = kinds[i]
        faults[name] = kind
        if not kind:
            expect[name] = ""
            continue
        if kind.startswith("slow"):
            # The seed configs are 40-70 lines; the login adds a few more.
            lines = 60
            delay = read_timeout / 5 / lines if kind == "slow-ok" else 3 * read_timeout / lines
            spec: dict[str, Any] = {"slow": {"line_delay": round(delay, 4)}}
            expect[name] = "" if kind == "slow-ok" else "timed out after"
        else:
            spec = dict(MIX[kind][1])
            expect[name] = MIX[kind][2]
        data = folder / "lab-data" / name
        data.mkdir(parents=True, exist_ok=True)
        (data / "lab.yaml").write_text(yaml.safe_dump({"faults": {"seed": seed, **spec}}))
    inv = {
        "zones": {"internal": {"pools": {"prefixes": ["10.0.0.0/8"]}}},
        "sites": {"city": {"level": "city"}},
        "credentials": {"lab": {"username": "govnet", "password": "file:pw"}},
        "defaults": {"credentials": "lab", "zone": "internal", "site": "city", "role": "access"},
        "devices": devices,
    }
    path = folder / "faults.yaml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return FaultFleet(path, faults, expect)
