"""Opt-in task remove-default-accounts on the lab's devices (in process): factory and shared
accounts go, the one govnet logs in with stays, and the audit's auth.default-accounts passes."""

from __future__ import annotations

import dataclasses

import pytest

from govnet.provision.tasks import RemoveDefaultAccounts, parse_args
from tests.provision_sim.properties import audit_failures
from tests.provision_sim.run import DEVICES, Sim, start_config

USER_LINE = {"huawei": " local-user {}", "hp_comware": "local-user {}", "cisco_ios": "username {}"}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Sim:
    return Sim.create(tmp_path_factory.mktemp("provsim"), task="remove-default-accounts")


@pytest.mark.parametrize("platform", list(DEVICES))
def test_default_accounts_go_and_govnets_own_login_stays(sim: Sim, platform: str) -> None:
    device = sim.device(platform)
    start = start_config(platform, "weak", device.name)
    sim.bench.load(device, start)
    assert "auth.default-accounts" in audit_failures(sim, platform, sim.bench.running(device))
    change = sim.apply(platform)
    assert change.status == "changed", change.message
    after = sim.bench.running(device)
    assert "auth.default-accounts" not in audit_failures(sim, platform, after)
    assert USER_LINE[platform].format("admin ") not in after
    assert USER_LINE[platform].format("govnet ") in after  # govnet's own login
    sim.bench.load(device, start, reject=["^(undo|no) "])  # refused: rolled back exactly
    before = sim.bench.running(device)
    assert sim.apply(platform).status == "rolled-back"
    assert sim.bench.running(device) == before


def test_the_account_govnet_logs_in_with_is_never_a_candidate(sim: Sim) -> None:
    device = sim.device("huawei")
    assert device.credentials is not None
    as_admin = dataclasses.replace(
        device, credentials=device.credentials.model_copy(update={"username": "admin"})
    )
    task = RemoveDefaultAccounts()
    args = parse_args(task, ["accounts=admin,guest"])
    job, _ = sim.jobs["huawei"]
    assert task.context(sim.inventory, as_admin, args, job.prepared)["accounts"] == ["guest"]
    only = parse_args(task, ["accounts=admin"])
    assert task.skip_reason(sim.inventory, as_admin, only) is not None
