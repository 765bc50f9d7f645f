"""Provisioning tasks: what a task needs (its arguments), which devices it is for, and the
variables its templates get. Adding a task = one class here and its templates.

Arguments come from the command line as ``KEY=VALUE`` words and are validated strictly (an
unknown key, a missing or malformed value is a usage error, exit 2, naming the task).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, ValidationError, field_validator

from govnet.errors import GovnetError
from govnet.inventory import Filters, select_devices
from govnet.inventory.model import Device, Inventory
from govnet.provision import ipam
from govnet.provision.remediation import Intended
from govnet.provision.templates import TemplateSet, base_context
from govnet.store.db import Store
from govnet.validation import StrictStripped


class TaskError(GovnetError):
    """Unknown task or bad task arguments (exit 2)."""


class Args(StrictStripped):
    """A task's ``KEY=VALUE`` arguments."""


class BaselineArgs(Args):
    """The baseline takes no arguments: everything comes from the inventory."""


_IFNAME = re.compile(r"^[A-Za-z][A-Za-z0-9\-]*\d[\d/:.]*$")


class OnboardArgs(Args):
    unit: str = Field(description="the unit (单位) to onboard")
    zone: str | None = Field(None, description="its zone (default: the unit's only zone)")
    ports: tuple[str, ...] = Field((), description="access ports, comma-separated")
    prefix_len: int = Field(24, ge=8, le=30, description="subnet size, e.g. 24")

    @field_validator("ports", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        for port in value:
            if not isinstance(port, str) or not _IFNAME.match(port):
                raise ValueError(f"bad interface name {port!r} (e.g. GigabitEthernet0/0/5)")
        return tuple(dict.fromkeys(value))


@dataclass(frozen=True)
class Target:
    """A selected device and, when the task leaves it alone, why."""

    device: Device
    skip: str | None = None


@dataclass
class Prepared:
    """Task-wide values computed once per run (an IPAM allocation, …)."""

    context: dict[str, Any] = field(default_factory=dict)
    notes: list[dict[str, str]] = field(default_factory=list)  # {"en": …, "zh": …}
    meta: dict[str, Any] = field(default_factory=dict)  # recorded with the run


class Task(ABC):
    name: ClassVar[str]
    summary: ClassVar[dict[str, str]] = {}
    args_model: ClassVar[type[Args]]

    def default_targets(self, inventory: Inventory, args: Args) -> list[Device] | None:
        """Devices to use when no filter is given; None = every device."""
        return None

    def skip_reason(self, inventory: Inventory, device: Device, args: Args) -> str | None:
        return None

    def prepare(self, store: Store, inventory: Inventory, args: Args, commit: bool) -> Prepared:
        """Run-wide values; ``commit`` False for a plan (nothing recorded)."""
        return Prepared()

    @abstractmethod
    def context(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared
    ) -> dict[str, Any]: ...


class Baseline(Task):
    name = "baseline"
    summary: ClassVar[dict[str, str]] = {
        "en": "the 等保 2.0 baseline (playbooks/mlps2-baseline.yaml)",
        "zh": "等保2.0安全基线（playbooks/mlps2-baseline.yaml）",
    }
    args_model = BaselineArgs

    def context(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared
    ) -> dict[str, Any]:
        return {**base_context(inventory, device), "args": args, **prepared.context}


class OnboardUnit(Task):
    name = "onboard-unit"
    summary: ClassVar[dict[str, str]] = {
        "en": "a unit's VLAN, gateway, access ports and isolation ACL on its aggregation switch",
        "zh": "在汇聚交换机上为单位配置VLAN、网关、接入端口与隔离ACL",
    }
    args_model = OnboardArgs

    def zone_of(self, inventory: Inventory, args: OnboardArgs) -> str:
        unit = inventory.units.get(args.unit)
        if unit is None:
            known = ", ".join(sorted(inventory.units))
            raise TaskError(f"onboard-unit: unit={args.unit!r}: no such unit (known: {known})")
        if args.zone is not None:
            if args.zone not in inventory.zones:
                known = ", ".join(sorted(inventory.zones))
                raise TaskError(f"onboard-unit: zone={args.zone!r}: no such zone (known: {known})")
            return args.zone
        if len(unit.zones) == 1:
            return unit.zones[0]
        zones = ", ".join(unit.zones) or "none listed"
        raise TaskError(f"onboard-unit: unit {unit.name} is on zones {zones}: pass zone=NAME")

    def default_targets(self, inventory: Inventory, args: Args) -> list[Device] | None:
        assert isinstance(args, OnboardArgs)
        zone = self.zone_of(inventory, args)
        chain = inventory.site_chain(inventory.units[args.unit].site)
        found = [
            d
            for d in inventory.devices.values()
            if d.role == "aggregation" and d.zone == zone and d.site in chain
        ]
        if not found:
            raise TaskError(
                f"onboard-unit: no aggregation switch on zone {zone} at {' or '.join(chain)}; "
                "choose the devices with --limit"
            )
        nearest = min(chain.index(d.site) for d in found)
        return [d for d in found if chain.index(d.site) == nearest]

    def skip_reason(self, inventory: Inventory, device: Device, args: Args) -> str | None:
        assert isinstance(args, OnboardArgs)
        zone = self.zone_of(inventory, args)
        if device.zone != zone:
            return f"on zone {device.zone}; {args.unit} is onboarded onto {zone}"
        return None

    def _request(self, inventory: Inventory, args: OnboardArgs) -> ipam.Request:
        return ipam.Request(
            args.unit, self.zone_of(inventory, args), args.prefix_len, note="onboard-unit"
        )

    def prepare(self, store: Store, inventory: Inventory, args: Args, commit: bool) -> Prepared:
        assert isinstance(args, OnboardArgs)
        req = self._request(inventory, args)
        if commit:
            alloc, new = ipam.allocate(store, inventory, req)
        else:
            alloc, new = ipam.preview(store, inventory, req)
        en = ("allocated" if commit else "would allocate") if new else "uses its allocation"
        zh = ("已分配" if commit else "将分配") if new else "沿用已有分配"
        what = f"zone {alloc.zone}, VLAN {alloc.vlan}, {alloc.prefix}"
        note = {"en": f"{args.unit} {en}: {what}", "zh": f"{args.unit} {zh}：{what}"}
        zone = inventory.zones[alloc.zone]
        denied = sorted(
            {
                p
                for z in sorted(zone.isolated_from)
                if z in inventory.zones
                for p in inventory.zones[z].pools.prefixes
            },
            key=lambda n: (n.version, n.network_address, n.prefixlen),
        )
        return Prepared(
            context={
                "alloc": alloc,
                "unit": inventory.units[args.unit],
                "ports": list(args.ports),
                "deny_prefixes": denied,
            },
            notes=[note],
            meta={"allocation": alloc.to_dict(), "new_allocation": new and commit},
        )

    def context(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared
    ) -> dict[str, Any]:
        base = base_context(inventory, device, inventory.units[args.unit])  # type: ignore[attr-defined]
        return {**base, "args": args, **prepared.context}


# Account names the audit counts as default or shared (playbooks/mlps2-baseline.yaml,
# auth.default-accounts).
DEFAULT_ACCOUNTS = (
    "admin", "huawei", "h3c", "cisco", "root", "guest", "test", "user", "manager", "super",
)  # fmt: skip


class RemoveDefaultAccountsArgs(Args):
    """Opt-in: which default accounts may go (default: every one govnet does not log in as)."""

    accounts: tuple[str, ...] = Field(
        DEFAULT_ACCOUNTS, description="account names to remove, comma-separated"
    )

    @field_validator("accounts", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [a.strip() for a in value.split(",") if a.strip()]
        for name in value:
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.@-]+", name):
                raise ValueError(f"bad account name {name!r}")
        return tuple(dict.fromkeys(value))


class RemoveDefaultAccounts(Task):
    """Opt-in: delete factory/shared local accounts, never the one govnet logs in with on that
    device (so the session doing it, and every later one, keeps working). The plan lists the
    accounts per device; apply asks for confirmation unless --yes."""

    name = "remove-default-accounts"
    summary: ClassVar[dict[str, str]] = {
        "en": "opt-in: delete default/shared local accounts (never govnet's own login)",
        "zh": "可选：删除默认/共享本地账号（不删除govnet自身登录账号）",
    }
    args_model = RemoveDefaultAccountsArgs

    def skip_reason(self, inventory: Inventory, device: Device, args: Args) -> str | None:
        assert isinstance(args, RemoveDefaultAccountsArgs)
        own = device.credentials.username if device.credentials else None
        if not [a for a in args.accounts if a != own]:
            return f"the only account named is the one govnet logs in with ({own})"
        return None

    def context(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared
    ) -> dict[str, Any]:
        assert isinstance(args, RemoveDefaultAccountsArgs)
        own = device.credentials.username if device.credentials else None
        accounts = [a for a in args.accounts if a != own]
        return {**base_context(inventory, device), "args": args, "accounts": accounts}


TASKS: dict[str, Task] = {t.name: t for t in (Baseline(), OnboardUnit(), RemoveDefaultAccounts())}


def get_task(name: str) -> Task:
    task = TASKS.get(name)
    if task is None:
        raise TaskError(f"unknown task {name!r} (known: {', '.join(sorted(TASKS))})")
    return task


def parse_args(task: Task, words: Sequence[str]) -> Args:
    """``KEY=VALUE`` words → the task's validated arguments; TaskError naming what is wrong."""
    model = task.args_model
    known = ", ".join(model.model_fields) or "none"
    raw: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise TaskError(
                f"{task.name}: bad argument {word!r}: expected KEY=VALUE (arguments: {known})"
            )
        if key not in model.model_fields:
            raise TaskError(f"{task.name}: unknown argument {key!r} (arguments: {known})")
        if key in raw:
            raise TaskError(f"{task.name}: argument {key!r} given twice")
        raw[key] = value
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or "?"
        if first["type"] == "missing":
            desc = model.model_fields[key].description or ""
            raise TaskError(f"{task.name}: needs {key}=… ({desc})") from None
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise TaskError(f"{task.name}: {key}={raw.get(key, '')!r}: {msg}") from None


@dataclass
class Job:
    """A task bound to its arguments, inventory and templates: intended config per device."""

    task: Task
    args: Args
    inventory: Inventory
    templates: TemplateSet
    prepared: Prepared = field(default_factory=Prepared)

    def select(self, devices: list[Device], filtered: bool) -> list[Target]:
        """The devices this job runs on; ``filtered`` False → the task's default selection."""
        if not filtered:
            default = self.task.default_targets(self.inventory, self.args)
            if default is not None:
                devices = default
        out = []
        for d in devices:
            reason = self.task.skip_reason(self.inventory, d, self.args)
            if reason is None and not self.templates.has(d.platform, self.task.name):
                reason = f"no {self.task.name} template for platform {d.platform}"
            if reason is None and d.credentials is None:
                reason = "no credentials in the inventory"
            out.append(Target(d, reason))
        return out

    def intended(self, device: Device) -> Intended:
        context = self.task.context(self.inventory, device, self.args, self.prepared)
        return self.templates.intended(device.platform, self.task.name, context, device.name)

    def describe(self) -> dict[str, Any]:
        return {
            "task": self.task.name,
            "args": self.args.model_dump(mode="json"),
            "notes": [n["en"] for n in self.prepared.notes],
            **self.prepared.meta,
        }


def make_job(
    inventory: Inventory,
    store: Store,
    task_name: str,
    task_args: Sequence[str],
    templates: Path,
    filters: Filters,
    commit: bool,
) -> tuple[Job, list[Target]]:
    """Everything checked before any device is contacted: the task and its arguments, the
    templates folder, the devices; then the task's run-wide values (``commit`` False: a
    preview, nothing recorded)."""
    task = get_task(task_name)
    args = parse_args(task, task_args)
    if not templates.is_dir():
        raise TaskError(f"template folder {templates} not found: pass --templates DIR")
    job = Job(task, args, inventory, TemplateSet(templates))
    targets = job.select(select_devices(inventory, filters), filtered=not filters.is_empty())
    if not targets:
        raise TaskError("no device matches the filters")
    job.prepared = task.prepare(store, inventory, args, commit=commit)
    return job, targets
