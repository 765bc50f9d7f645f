"""Provisioning from generated starting configurations, per platform, on the lab's devices.

Each example is a configuration a device of the platform could hold (tests/provision_sim/
grammar.py): apply must reach the baseline (only the controls it leaves to people still
fail, a new plan is empty), and a line refused anywhere in the push must roll the device back
to exactly its starting configuration. The devices are the lab's own CLI in process (the same
shells the SSH lab serves), reset between examples. ``PROVISION_EXAMPLES`` sets the number
of examples per platform and property (bench/provision_bench.py runs thousands).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.provision_sim.grammar import GRAMMARS, configs
from tests.provision_sim.properties import (
    apply_reaches_baseline,
    pushable_lines,
    rejection_rolls_back,
)
from tests.provision_sim.run import DEVICES, Sim

EXAMPLES = int(os.environ.get("PROVISION_EXAMPLES", "50"))  # x 6 tests; the bench runs thousands
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Sim:
    return Sim.create(tmp_path_factory.mktemp("provsim"))


@pytest.mark.parametrize("platform", list(GRAMMARS))
def test_apply_from_any_starting_config_reaches_the_baseline(sim: Sim, platform: str) -> None:
    @SETTINGS
    @given(configs(platform, DEVICES[platform]))
    def check(start: str) -> None:
        apply_reaches_baseline(sim, platform, start)

    check()


@pytest.mark.parametrize("platform", list(GRAMMARS))
def test_a_line_refused_anywhere_rolls_back_to_the_starting_config(sim: Sim, platform: str) -> None:
    @SETTINGS
    @given(configs(platform, DEVICES[platform]), st.data())
    def check(start: str, data: st.DataObject) -> None:
        lines = pushable_lines(sim, platform, start)
        if not lines:
            return
        refused = data.draw(st.sampled_from(lines), label="refused line")
        rejection_rolls_back(sim, platform, start, refused)

    check()
