"""Provisioning from the corpus of realistic starting configurations
(tests/fixtures/provision/<platform>/start/, sources in its README), on the lab's devices in
process: apply reaches the baseline, and a line refused at the start, the middle, the end of
the push or the NTP line rolls the device back to exactly its starting configuration."""

from __future__ import annotations

import pytest

from tests.provision_sim.properties import (
    apply_reaches_baseline,
    pushable_lines,
    rejection_rolls_back,
)
from tests.provision_sim.run import DEVICES, FIXTURES, Sim, start_config

CORPUS = [
    (platform, path.stem)
    for platform in DEVICES
    for path in sorted((FIXTURES / platform / "start").glob("*.cfg"))
]
NTP = {"huawei": "ntp-service unicast-server", "hp_comware": "ntp-service", "cisco_ios": "ntp "}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Sim:
    return Sim.create(tmp_path_factory.mktemp("provsim"))


def test_the_corpus_has_every_kind_of_start_for_every_platform() -> None:
    kinds = {"weak", "hardened", "mixed", "vendor-default", "quirks"}
    for platform in DEVICES:
        assert kinds <= {name for p, name in CORPUS if p == platform}, platform


@pytest.mark.parametrize(("platform", "name"), CORPUS)
def test_apply_reaches_the_baseline_from_a_corpus_config(
    sim: Sim, platform: str, name: str
) -> None:
    start = start_config(platform, name, DEVICES[platform])
    apply_reaches_baseline(sim, platform, start)


@pytest.mark.parametrize(("platform", "name"), CORPUS)
def test_a_refused_line_rolls_a_corpus_config_back_exactly(
    sim: Sim, platform: str, name: str
) -> None:
    start = start_config(platform, name, DEVICES[platform])
    sim.bench.load(sim.device(platform), start)
    start = sim.bench.running(sim.device(platform))  # as the device prints it
    lines = pushable_lines(sim, platform, start)
    if not lines:
        pytest.skip("already compliant: nothing to push")
    picks = {lines[0], lines[len(lines) // 2], lines[-1]}
    picks |= {line for line in lines if line.startswith(NTP[platform])}
    for refused in sorted(picks):
        rejection_rolls_back(sim, platform, start, refused)
