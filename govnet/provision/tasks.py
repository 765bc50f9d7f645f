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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, ValidationError, field_validator

from govnet.errors import GovnetError
from govnet.i18n import N_, _, both
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
    unit: str = Field(description=N_("the unit (单位) to onboard"))
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
                raise ValueError(
                    _("bad interface name {port!r} (e.g. GigabitEthernet0/0/5)", port=port)
                )
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

    def skip_prepared(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared
    ) -> str | None:
        """Why to leave ``device`` alone, known only once the run-wide values are (the
        store's records): checked after :meth:`prepare`, before any device is contacted."""
        return None

    # True: the templates' variables depend on the device's running configuration, so
    # :meth:`running_context` is called with it (after the fetch) instead of :meth:`context`.
    uses_running: ClassVar[bool] = False

    def running_context(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared, running: str
    ) -> tuple[dict[str, Any], str]:
        """Template variables from the running configuration, and a line for people about
        what was chosen (shown as the device's message in the plan and the apply)."""
        raise NotImplementedError

    @abstractmethod
    def context(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared
    ) -> dict[str, Any]: ...


class Baseline(Task):
    name = "baseline"
    summary: ClassVar[dict[str, str]] = both(
        "the 等保 2.0 baseline (playbooks/mlps2-baseline.yaml)"
    )
    args_model = BaselineArgs

    def context(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared
    ) -> dict[str, Any]:
        return {**base_context(inventory, device), "args": args, **prepared.context}


class OnboardUnit(Task):
    name = "onboard-unit"
    summary: ClassVar[dict[str, str]] = both(
        "a unit's VLAN, gateway, access ports and isolation ACL on its aggregation switch"
    )
    args_model = OnboardArgs

    def zone_of(self, inventory: Inventory, args: OnboardArgs) -> str:
        unit = inventory.units.get(args.unit)
        if unit is None:
            known = ", ".join(sorted(inventory.units))
            raise TaskError(
                _(
                    "onboard-unit: unit={unit!r}: no such unit (known: {known})",
                    unit=args.unit,
                    known=known,
                )
            )
        if args.zone is not None:
            if args.zone not in inventory.zones:
                known = ", ".join(sorted(inventory.zones))
                raise TaskError(
                    _(
                        "onboard-unit: zone={zone!r}: no such zone (known: {known})",
                        zone=args.zone,
                        known=known,
                    )
                )
            return args.zone
        if len(unit.zones) == 1:
            return unit.zones[0]
        zones = ", ".join(unit.zones) or "none listed"
        raise TaskError(
            _(
                "onboard-unit: unit {name} is on zones {zones}: pass zone=NAME",
                name=unit.name,
                zones=zones,
            )
        )

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
                _(
                    "onboard-unit: no aggregation switch on zone {zone} at {chain}; choose the "
                    "devices with --limit",
                    zone=zone,
                    chain=" or ".join(chain),
                )
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
        what = f"zone {alloc.zone}, VLAN {alloc.vlan}, {alloc.prefix}"
        if not new:
            note = both("{unit} uses its allocation: {what}", unit=args.unit, what=what)
        elif commit:
            note = both("{unit} allocated: {what}", unit=args.unit, what=what)
        else:
            note = both("{unit} would allocate: {what}", unit=args.unit, what=what)
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
    "admin",
    "huawei",
    "h3c",
    "cisco",
    "root",
    "guest",
    "test",
    "user",
    "manager",
    "super",
)


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
                raise ValueError(_("bad account name {name!r}", name=name))
        return tuple(dict.fromkeys(value))


class RemoveDefaultAccounts(Task):
    """Opt-in: delete factory/shared local accounts, never the one govnet logs in with on that
    device (so the session doing it, and every later one, keeps working). The plan lists the
    accounts per device; apply asks for confirmation unless --yes."""

    name = "remove-default-accounts"
    summary: ClassVar[dict[str, str]] = both(
        "opt-in: delete default/shared local accounts (never govnet's own login)"
    )
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


class ShutdownUnusedArgs(Args):
    days: int = Field(30, ge=1, le=3650, description="days with no MAC seen on a port")
    max_gap: int = Field(
        3, ge=1, le=30, description="days between MAC table collections that still count"
    )


# Physical Ethernet ports only (never VLAN, loopback, aggregate, tunnel or management ones).
_PHYSICAL = re.compile(
    r"^(?:Ethernet|FastEthernet|GigabitEthernet|XGigabitEthernet|Ten-GigabitEthernet|"
    r"TenGigabitEthernet|TwentyFiveGigE|TwentyFiveGigabitEthernet|25GE|40GE|100GE|"
    r"FortyGigabitEthernet|FortyGigE|HundredGigabitEthernet|HundredGigE|MultiGE|"
    r"TwoGigabitEthernet|FiveGigabitEthernet)\d",
    re.IGNORECASE,
)
# A member of an aggregate (Eth-Trunk, Bridge-Aggregation, Port-channel) is an uplink.
_MEMBER = re.compile(
    r"^(?:eth-trunk \d+|join eth-trunk \d+|port link-aggregation group \d+|channel-group \d+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class IdlePort:
    name: str
    last_seen: datetime | None  # None: no MAC in the records at all


@dataclass
class PortChoice:
    """What :func:`idle_ports` decided for one device."""

    idle: list[IdlePort] = field(default_factory=list)
    in_use: list[str] = field(default_factory=list)
    protected: dict[str, str] = field(default_factory=dict)  # port → why never touched
    already_down: list[str] = field(default_factory=list)


def idle_ports(
    inventory: Inventory,
    device: Device,
    running: str,
    last_seen: dict[str, datetime],
    now: datetime,
    days: int,
) -> PortChoice:
    """The access ports of ``device`` (from its running configuration) with no MAC seen for
    ``days``: never an uplink (trunk, hybrid, aggregate member, a port in the inventory's
    ``links`` at either end), the management port, a routed port or a non-Ethernet interface,
    nor a port already shut down. The caller has checked the records cover ``days``."""
    from govnet.collect.interfaces import read_config
    from govnet.collect.tables import canonical_port
    from govnet.core.configtext import parse_config

    platform = device.platform
    parsed = parse_config(running)
    config = read_config(parsed, platform)
    members: set[str] = set()
    current: str | None = None
    for text, depth in zip(parsed.texts, parsed.depths, strict=True):
        if depth == 0:
            current = None
            if text.lower().startswith("interface "):
                current = canonical_port(platform, text.split(None, 1)[1])
        elif current is not None and _MEMBER.match(text):
            members.add(current)
    linked = {
        canonical_port(platform, port)
        for link in inventory.links
        for dev, port in ((link.a_device, link.a_port), (link.b_device, link.b_port))
        if dev == device.name
    }
    seen = {canonical_port(platform, p): t for p, t in last_seen.items()}
    cutoff = now - timedelta(days=days)
    out = PortChoice()
    for name, iface in config.interfaces.items():
        if not _PHYSICAL.match(name):
            continue  # VLAN, loopback, aggregate, management (MEth, M-GigabitEthernet) …
        if name in linked:
            out.protected[name] = "in the inventory's links"
        elif iface.trunk:
            out.protected[name] = "trunk/hybrid (an uplink)"
        elif name in members:
            out.protected[name] = "member of an aggregate (an uplink)"
        elif iface.addresses:
            mgmt = device.address is not None and any(
                a.ip == device.address for a, _ in iface.addresses
            )
            out.protected[name] = "the management interface" if mgmt else "a routed port"
        elif iface.shutdown:
            out.already_down.append(name)
        elif (t := seen.get(name)) is not None and t >= cutoff:
            out.in_use.append(name)
        else:
            out.idle.append(IdlePort(name, seen.get(name)))
    return out


@dataclass(frozen=True)
class _Watch:
    store: Store
    now: datetime


class ShutdownUnusedPorts(Task):
    """Opt-in: shut access ports no MAC has been seen on for ``days`` days, from the store's
    MAC sightings (``govnet backup macs``, audits with isolation-l2). A device govnet has not
    watched for ``days`` days without a gap longer than ``max_gap`` is skipped: a port is
    never shut for want of data. Never part of the baseline."""

    name = "shutdown-unused-ports"
    summary: ClassVar[dict[str, str]] = both(
        "opt-in: shut access ports with no MAC seen for days=N (never uplinks or links)"
    )
    args_model = ShutdownUnusedArgs
    uses_running = True

    def prepare(self, store: Store, inventory: Inventory, args: Args, commit: bool) -> Prepared:
        from govnet.durations import utcnow

        assert isinstance(args, ShutdownUnusedArgs)
        return Prepared(
            context={"_watch": _Watch(store, utcnow())},
            meta={"days": args.days, "max_gap": args.max_gap},
        )

    def skip_prepared(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared
    ) -> str | None:
        from govnet.store import macs

        assert isinstance(args, ShutdownUnusedArgs)
        watch: _Watch = prepared.context["_watch"]
        times = macs.collections(watch.store, device.name)
        since = macs.watched_since(times, watch.now, timedelta(days=args.max_gap))
        if since is None:
            last = f"the last on {times[-1]:%Y-%m-%d %H:%M}" if times else "none recorded"
            return (
                f"no MAC table of it collected in the last {args.max_gap} day(s) ({last}): "
                "nothing is shut; collect them daily with 'govnet backup macs'"
            )
        if since > watch.now - timedelta(days=args.days):
            watched = (watch.now - since).days
            return (
                f"its MAC table has been watched only since {since:%Y-%m-%d %H:%M} "
                f"({watched} of the {args.days} days needed): nothing is shut"
            )
        return None

    def running_context(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared, running: str
    ) -> tuple[dict[str, Any], str]:
        from govnet.store import macs

        assert isinstance(args, ShutdownUnusedArgs)
        watch: _Watch = prepared.context["_watch"]
        last_seen = macs.last_seen_by_port(watch.store, device.name)
        choice = idle_ports(inventory, device, running, last_seen, watch.now, args.days)
        parts = [
            f"{p.name} (last MAC {p.last_seen:%Y-%m-%d})"
            if p.last_seen is not None
            else f"{p.name} (never in {args.days} days of records)"
            for p in choice.idle
        ]
        why = (
            f"{len(parts)} port(s) idle for {args.days} days: {', '.join(parts)}"
            if parts
            else f"no access port idle for {args.days} days"
        )
        why += (
            f"; kept: {len(choice.in_use)} in use, {len(choice.protected)} uplink/management/"
            f"routed, {len(choice.already_down)} already down"
        )
        context = {**base_context(inventory, device), "args": args, "ports": choice.idle}
        return context, why

    def context(
        self, inventory: Inventory, device: Device, args: Args, prepared: Prepared
    ) -> dict[str, Any]:
        raise TaskError(_("{name}: needs the device's running configuration", name=self.name))


TASKS: dict[str, Task] = {
    t.name: t for t in (Baseline(), OnboardUnit(), RemoveDefaultAccounts(), ShutdownUnusedPorts())
}


def get_task(name: str) -> Task:
    task = TASKS.get(name)
    if task is None:
        raise TaskError(
            _("unknown task {name!r} (known: {tasks})", name=name, tasks=", ".join(sorted(TASKS)))
        )
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
                _(
                    "{name}: bad argument {word!r}: expected KEY=VALUE (arguments: {known})",
                    name=task.name,
                    word=word,
                    known=known,
                )
            )
        if key not in model.model_fields:
            raise TaskError(
                _(
                    "{name}: unknown argument {key!r} (arguments: {known})",
                    name=task.name,
                    key=key,
                    known=known,
                )
            )
        if key in raw:
            raise TaskError(_("{name}: argument {key!r} given twice", name=task.name, key=key))
        raw[key] = value
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or "?"
        if first["type"] == "missing":
            desc = model.model_fields[key].description or ""
            raise TaskError(
                _("{task}: needs {key}=… ({desc})", task=task.name, key=key, desc=_(desc))
            ) from None
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
    explained: dict[str, str] = field(default_factory=dict)  # device → what the task chose

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
                reason = _(
                    "no {task} template for platform {platform}",
                    task=self.task.name,
                    platform=d.platform,
                )
            if reason is None and d.credentials is None:
                reason = _("no credentials in the inventory")
            out.append(Target(d, reason))
        return out

    def intended(self, device: Device, running: str | None = None) -> Intended:
        """The device's intended configuration; a task that ``uses_running`` needs the
        device's running configuration (and records what it chose in :attr:`explained`)."""
        if self.task.uses_running:
            if running is None:
                raise TaskError(
                    _(
                        "{name}: needs {name2}'s running configuration",
                        name=self.task.name,
                        name2=device.name,
                    )
                )
            context, why = self.task.running_context(
                self.inventory, device, self.args, self.prepared, running
            )
            self.explained[device.name] = why
        else:
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
        raise TaskError(
            _("template folder {templates} not found: pass --templates DIR", templates=templates)
        )
    job = Job(task, args, inventory, TemplateSet(templates))
    targets = job.select(select_devices(inventory, filters), filtered=not filters.is_empty())
    if not targets:
        raise TaskError(_("no device matches the filters"))
    job.prepared = task.prepare(store, inventory, args, commit=commit)
    targets = [
        Target(t.device, task.skip_prepared(inventory, t.device, args, job.prepared))
        if t.skip is None
        else t
        for t in targets
    ]
    return job, targets
