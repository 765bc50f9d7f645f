"""Apply a job to lab shells in process: the helpers the provisioning properties share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from govnet.inventory import Filters, Inventory, load_inventory
from govnet.inventory.model import Device
from govnet.provision.operations import DeviceChange, ProvisionOptions, apply_devices
from govnet.provision.tasks import Job, Target, make_job
from govnet.store.db import Store
from tests.conftest import ROOT
from tests.provision_sim.session import Bench

FIXTURES = ROOT / "tests" / "fixtures" / "provision"
# one lab device per platform whose inventory vars the baseline renders with
DEVICES = {"huawei": "int-acc-town", "hp_comware": "int-acc-west", "cisco_ios": "ext-acc-west"}


def start_config(platform: str, name: str, hostname: str) -> str:
    return (
        (FIXTURES / platform / "start" / f"{name}.cfg")
        .read_text("utf-8")
        .replace("{hostname}", hostname)
    )


@dataclass
class Sim:
    inventory: Inventory
    store: Store
    bench: Bench
    jobs: dict[str, tuple[Job, list[Target]]]

    @classmethod
    def create(cls, root: Path | None = None, task: str = "baseline") -> Sim:
        """Lab devices and a store under ``root`` (a new temporary folder if None)."""
        bench = Bench(root) if root is not None else Bench()
        db = f"sqlite:///{bench.root / 'store.sqlite'}"
        inventory = load_inventory(ROOT / "inventory" / "lab.yaml")
        store = Store.open(db)
        jobs = {}
        for platform, name in DEVICES.items():
            jobs[platform] = make_job(
                inventory,
                store,
                task,
                [],
                ROOT / "playbooks" / "templates",
                Filters(limit=(name,)),
                commit=True,
            )
        return cls(inventory, store, bench, jobs)

    def device(self, platform: str) -> Device:
        return self.inventory.devices[DEVICES[platform]]

    def apply(self, platform: str) -> DeviceChange:
        job, targets = self.jobs[platform]
        opts = ProvisionOptions(workers=1, session=self.bench.session)
        _, [change] = apply_devices(job, targets, self.store, opts)
        return change


def main() -> None:  # pragma: no cover - a developer's look at the weak switches
    import sys

    sim = Sim.create()
    for platform in sys.argv[1:] or list(DEVICES):
        for reject in ([], ["^ntp"]):
            d = sim.device(platform)
            sim.bench.load(d, start_config(platform, "weak", d.name), reject)
            before = sim.bench.running(d)
            change = sim.apply(platform)
            print(f"== {platform} reject={reject}: {change.status}: {change.message}")
            print("   pushed:", change.commands)
            print("   rollback:", change.rollback)
            after = sim.bench.running(d)
            if change.status != "changed":
                print("   identical:", after == before)


if __name__ == "__main__":
    main()
