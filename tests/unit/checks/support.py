"""Helpers shared by the checks tests: paths, devices, and running the baseline on a config."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.model import Finding
from govnet.checks.playbook import Playbook
from govnet.core.vocabulary import Status
from govnet.inventory.model import Device

ROOT = Path(__file__).resolve().parents[3]
BASELINE = ROOT / "playbooks" / "mlps2-baseline.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "configs"
PLATFORMS = ("huawei", "hp_comware", "cisco_ios", "ruijie_os")


def make_device(
    platform: str = "huawei",
    name: str = "sw1",
    role: str = "access",
    zone: str = "internal",
    tags: frozenset[str] = frozenset(),
) -> Device:
    return Device(
        name=name,
        host="127.0.0.1",
        platform=platform,
        role=role,
        zone=zone,
        site="city",
        unit="office",
        tags=tags,
    )


def fixture_text(platform: str, name: str) -> str:
    return (FIXTURES / platform / name).read_text(encoding="utf-8")


def run_config(playbooks: Sequence[Playbook], platform: str, config: str) -> dict[str, Finding]:
    """Evaluate ``playbooks`` on one config; rule id → finding, skipped rules left out."""
    device = make_device(platform)
    findings = evaluate([device], {device.name: DeviceFacts(device.name, config)}, playbooks)
    return {f.rule: f for f in findings if f.status is not Status.SKIP}
