"""YAML (+ CSV terminals) → validated :class:`Inventory`, with every error located.

All problems are collected and raised together as one :class:`InventoryError`; each names the
file, line, column and key path, e.g.
``inventory/city.yaml:42:7: devices.int-core-1.zone: unknown zone 'intranet' (known: …)``.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import ipaddress
import re
import string
import sys
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from functools import cache, partial
from ipaddress import IPv4Address, IPv6Address
from itertools import compress, repeat
from pathlib import Path
from socket import AF_INET, inet_aton, inet_ntoa, inet_pton
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from govnet import limits as input_limits
from govnet.errors import Diagnostic, InventoryError
from govnet.i18n import N_, _
from govnet.inventory import cache as inv_cache
from govnet.inventory.model import (
    NAME_RE,
    ROLES,
    BastionSpec,
    CredentialSpec,
    Device,
    DeviceSpec,
    DeviceValues,
    GroupSpec,
    Inventory,
    IPAddress,
    JumpHost,
    Label,
    LazyTerminals,
    Link,
    LinkSpec,
    MaintenanceSpec,
    MaintenanceWindow,
    PackedTerminals,
    Probe,
    Service,
    ServiceSpec,
    SiteSpec,
    SnmpProfileSpec,
    Terminal,
    TerminalSpec,
    Transport,
    UnitSpec,
    Zone,
    ZoneSpec,
    normalize_mac,
)
from govnet.platforms import platforms
from govnet.secrets import SecretRef
from govnet.validation import diagnostics_from, validate_at
from govnet.yamlsrc import (
    Path_,
    SourceDoc,
    dotted,
    load_yaml_bytes,
    suggest,
    yaml_files,
)

NAMED_SECTIONS: dict[str, type[BaseModel]] = {
    "zones": ZoneSpec,
    "sites": SiteSpec,
    "units": UnitSpec,
    "credentials": CredentialSpec,
    "snmp_profiles": SnmpProfileSpec,
    "groups": GroupSpec,
    "devices": DeviceSpec,
    "services": ServiceSpec,
    "bastions": BastionSpec,  # jump hosts
}
LIST_SECTIONS = ("terminals", "links", "terminals_csv", "maintenance")
SECTIONS = (*NAMED_SECTIONS, "defaults", *LIST_SECTIONS)
SECRET_KEYS = ("password", "secret", "community", "auth_key", "priv_key", "passphrase")
DEFAULT_TIMEOUT = 15.0

# CSV headers admins actually export (Chinese spreadsheets) → our column names.
CSV_ALIASES = {
    "name": "name",
    "hostname": "name",
    "名称": "name",
    "终端名称": "name",
    "计算机名": "name",
    "主机名": "name",
    "mac": "mac",
    "mac地址": "mac",
    "物理地址": "mac",
    "ip": "ip",
    "ip地址": "ip",
    "unit": "unit",
    "单位": "unit",
    "所属单位": "unit",
    "zone": "zone",
    "网络": "zone",
    "所属网络": "zone",
    "区域": "zone",
    "kind": "kind",
    "类型": "kind",
    "设备类型": "kind",
    "owner": "owner",
    "使用人": "owner",
    "责任人": "owner",
    "os": "os",
    "操作系统": "os",
}
CSV_REQUIRED = ("name", "mac", "unit", "zone")


@dataclass
class _Entry:
    doc: SourceDoc
    path: Path_
    raw: Any


@dataclass
class _State:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    named: dict[str, dict[str, _Entry]] = field(
        default_factory=lambda: {s: {} for s in NAMED_SECTIONS}
    )
    defaults: dict[str, _Entry] = field(default_factory=dict)
    lists: dict[str, list[_Entry]] = field(default_factory=lambda: {s: [] for s in LIST_SECTIONS})
    ssh_configs: dict[Path, Any] = field(default_factory=dict)  # path -> SshConfigFile | error

    def error(self, doc: SourceDoc, path: Path_, message: str) -> None:
        self.diagnostics.append(doc.diag(path, message))

    def warn(self, doc: SourceDoc, path: Path_, message: str) -> None:
        self.diagnostics.append(doc.diag(path, message, "warning"))


inventory_files = yaml_files  # a file, or the *.yaml files of a directory


@contextmanager
def _no_gc(freeze: bool = False) -> Iterator[None]:
    """Building ~1M objects that all stay alive: cyclic GC passes only cost (~30 %).

    ``freeze``: then move every object out of the collector's reach (``gc.freeze``), for a
    one-shot command whose inventory lives until it exits: otherwise the first collection
    after loading walks the million young objects (0.1-0.3 s) for nothing.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was:
            gc.enable()


def load_inventory(
    paths: Path | Sequence[Path],
    *,
    lazy_terminals: bool = False,
    cache: bool = False,
    freeze: bool = False,
) -> Inventory:
    """Load and validate; raise :class:`InventoryError` carrying every problem found.

    ``lazy_terminals``: read the terminals CSVs only when ``inventory.terminals`` is first used
    (their errors are raised then); a command that never looks at terminals never reads them.
    ``cache``: use and refresh the validated-inventory cache (:mod:`govnet.inventory.cache`).
    ``freeze``: for one-shot commands, see :func:`_no_gc` (never in a daemon that reloads).
    """
    with _no_gc(freeze):
        roots = [paths] if isinstance(paths, Path) else list(paths)
        state = _State()
        files: list[Path] = []
        for root in roots:
            if not root.exists():
                state.diagnostics.append(
                    Diagnostic(str(root), 0, 0, "", _("no such file or directory; pass -i PATH"))
                )
                continue
            found = inventory_files(root)
            if not found:
                state.diagnostics.append(Diagnostic(str(root), 0, 0, "", _("no *.yaml files here")))
            files.extend(found)
        raws: list[tuple[Path, bytes]] = []
        for file in files:
            try:
                raws.append((file, input_limits.read_input(file, "inventory")))
            except input_limits.LimitError as exc:
                state.diagnostics.append(exc.diagnostic)
        slot = key = None
        if cache and not state.diagnostics:
            slot, key = inv_cache.entry_id(roots), inv_cache.digest([(str(f), r) for f, r in raws])
            core = inv_cache.load(f"{slot}.core", key)
            if isinstance(core, _Core) and core.fresh():
                return core.inventory(lazy_terminals, _CacheSlot(slot, key), freeze)
        for file, raw in raws:
            doc, diags = load_yaml_bytes(raw, str(file), lazy=True)
            state.diagnostics.extend(diags)
            if doc is not None:
                _collect(state, doc)
        inventory, book, csv_refs = _build(state)
        yaml_terminals = book.snapshot()
        errors = [d for d in state.diagnostics if d.severity == "error"]
        if errors or not lazy_terminals:  # with errors, report the CSVs' too: all at once
            _read_csv_terminals(state.diagnostics, book, csv_refs)
            errors = [d for d in state.diagnostics if d.severity == "error"]
        if errors:
            raise InventoryError(state.diagnostics)
        inventory.sources = [str(f) for f in files]
        inventory.warnings = sorted(d for d in state.diagnostics if d.severity == "warning")
        digests = {str(p): _file_digest(p) for p in state.ssh_configs}
        core = _Core(inventory, yaml_terminals, csv_refs, digests)
        cached = None
        if slot is not None and key is not None:
            inv_cache.save(f"{slot}.core", key, core)
            cached = _CacheSlot(slot, key)
        if lazy_terminals:
            inventory.terminals = LazyTerminals(
                partial(core.load_terminals, cached, inventory, freeze)
            )
        else:
            inventory.terminals = book.terminals
        return inventory


def _file_digest(path: Path) -> str:
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


@dataclass(frozen=True)
class _CsvRef:
    """A ``terminals_csv`` entry: where it was written (for errors) and the file it names."""

    file: str
    line: int
    column: int
    key_path: str
    path: Path

    def diag(self, message: str) -> Diagnostic:
        return Diagnostic(self.file, self.line, self.column, self.key_path, message)


@dataclass(frozen=True)
class _CacheSlot:
    slot: str
    key: str


_DEVICE_FIELDS = tuple(f.name for f in fields(Device))  # "name" first


@dataclass
class _Core:
    """What the cache keeps of a validated inventory: all but the CSV terminals."""

    base: Inventory  # its terminals empty
    yaml_terminals: tuple[list[Any], ...]  # PackedTerminals columns
    csv_refs: list[_CsvRef]
    ssh_configs: dict[str, str] = field(default_factory=dict)  # path -> digest of the file

    def __getstate__(self) -> dict[str, Any]:
        base = replace(self.base, terminals={}, devices={})
        devices = list(self.base.devices.values())
        return {
            "base": base,
            # devices as columns: 50,000 objects with a dict each unpickle in ~0.3 s, their
            # columns in ~0.05 s and the objects are made again from them in ~0.1 s
            "devices": (_DEVICE_FIELDS, [[d.__dict__[f] for d in devices] for f in _DEVICE_FIELDS]),
            "yaml_terminals": self.yaml_terminals,
            "csv_refs": self.csv_refs,
            "ssh_configs": self.ssh_configs,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        names, columns = state.pop("devices")
        if tuple(names) != _DEVICE_FIELDS or len(columns) != len(names):
            raise ValueError("cached devices of another layout")
        self.__dict__.update(state)
        make, devices = object.__new__, {}
        for row in zip(*columns, strict=True):
            device = make(Device)
            device.__dict__.update(zip(names, row, strict=True))
            devices[row[0]] = device
        self.base.devices = devices

    def fresh(self) -> bool:
        """Whether the ssh_config files the devices were resolved with are unchanged."""
        return all(_file_digest(Path(p)) == d for p, d in self.ssh_configs.items())

    def inventory(self, lazy: bool, cached: _CacheSlot, freeze: bool = False) -> Inventory:
        inv = replace(self.base, warnings=list(self.base.warnings))
        load = partial(self.load_terminals, cached, inv, freeze)
        inv.terminals = LazyTerminals(load) if lazy else load()
        return inv

    def load_terminals(
        self, cached: _CacheSlot | None, inv: Inventory, freeze: bool = False
    ) -> Mapping[str, Terminal]:
        """The terminals: the YAML ones, then every CSV's (from the cache when unchanged)."""
        if not self.csv_refs:
            return PackedTerminals(self.yaml_terminals)
        with _no_gc(freeze):
            return self._load_terminals(cached, inv)

    def _load_terminals(self, cached: _CacheSlot | None, inv: Inventory) -> Mapping[str, Terminal]:
        diagnostics: list[Diagnostic] = []
        datas = [_read_csv_bytes(diagnostics, ref) for ref in self.csv_refs]
        key = None
        if cached is not None and not diagnostics:
            parts = [("core", cached.key.encode())]
            parts += [
                (str(ref.path), data or b"") for ref, data in zip(self.csv_refs, datas, strict=True)
            ]
            key = inv_cache.digest(parts)
            found = inv_cache.load(f"{cached.slot}.terminals", key)
            if isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], tuple):
                try:
                    packed = PackedTerminals.decode(found[0])
                except ValueError:
                    packed = None
                if packed is not None:
                    inv.warnings.extend(found[1])
                    return packed
        book = _Terminals(inv.zones, inv.units)
        book.seed(self.yaml_terminals)
        for ref, data in zip(self.csv_refs, datas, strict=True):
            if data is not None:
                _parse_terminal_csv(diagnostics, ref, data, book)
        if any(d.severity == "error" for d in diagnostics):
            raise InventoryError(diagnostics)
        warnings = sorted(diagnostics)
        inv.warnings.extend(warnings)
        if cached is not None and key is not None:
            encoded = PackedTerminals.encode(book.columns)
            inv_cache.save(f"{cached.slot}.terminals", key, (encoded, warnings), flat=True)
        return book.terminals


def _collect(state: _State, doc: SourceDoc) -> None:
    if not isinstance(doc.data, dict):
        state.error(doc, (), _("the top level must be a mapping of sections"))
        return
    base = Path(doc.file).parent
    for section, body in doc.data.items():
        if section not in SECTIONS:
            state.error(
                doc,
                (section,),
                _("unknown section {name!r}", name=section) + suggest(section, SECTIONS),
            )
            continue
        if section in LIST_SECTIONS:
            if not isinstance(body, list):
                state.error(doc, (section,), _("must be a list"))
                continue
            state.lists[section].extend(
                _Entry(doc, (section, i), item) for i, item in enumerate(body)
            )
            continue
        if body is None:
            continue
        if not isinstance(body, dict):
            state.error(doc, (section,), _("must be a mapping of names to entries"))
            continue
        target = state.defaults if section == "defaults" else state.named[section]
        for name, raw in body.items():
            path: Path_ = (section, name)
            if name in target:
                first = target[name]
                line = first.doc.where(first.path)[0]
                state.error(
                    doc,
                    path,
                    _(
                        "{name!r} is defined twice (first at {file}:{line})",
                        name=name,
                        file=first.doc.file,
                        line=line,
                    ),
                )
                continue
            if section in ("credentials", "snmp_profiles") and isinstance(raw, dict):
                raw = _anchor_secret_files(raw, base)
            if section in ("devices", "groups", "zones") and isinstance(raw, dict):
                if isinstance(raw.get("ssh_config"), str):
                    raw = {**raw, "ssh_config": _anchor_path(raw["ssh_config"], base)}
            elif section == "defaults" and name == "ssh_config" and isinstance(raw, str):
                raw = _anchor_path(raw, base)
            target[str(name)] = _Entry(doc, path, raw)


def _anchor_path(value: str, base: Path) -> str:
    """A file path written in a YAML file, relative to that file (``~`` is the user's home)."""
    text = value.strip()
    if not text or text.startswith("~") or Path(text).is_absolute():
        return text
    return str((base / text).resolve())


def _anchor_secret_files(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """``file:relative`` secret references are relative to the YAML file that holds them."""
    out = dict(raw)
    for key in SECRET_KEYS:
        value = out.get(key)
        if isinstance(value, str) and value.startswith("file:"):
            target = Path(value[5:])
            if not target.is_absolute() and not value[5:].startswith("~"):
                out[key] = f"file:{(base / target).resolve()}"
    key_file = out.get("key_file")  # a private key file is relative to its YAML file too
    if isinstance(key_file, str):
        text = key_file.strip().removeprefix("file:")
        if text and not text.startswith("~") and not Path(text).is_absolute():
            out["key_file"] = str((base / text).resolve())
    return out


M = TypeVar("M", bound=BaseModel)


def _validate(state: _State, model: type[M], entry: _Entry, raw: Any | None = None) -> M | None:
    data = entry.raw if raw is None else raw
    data = {} if data is None else data
    return validate_at(model, data, entry.doc, entry.path, state.diagnostics)


@cache
def _list_adapter(model: type[M]) -> TypeAdapter[list[M]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _build(state: _State) -> tuple[Inventory, _Terminals, list[_CsvRef]]:
    specs: dict[str, dict[str, Any]] = {}
    device_fields: dict[str, dict[str, Any]] = {}
    for section, model in NAMED_SECTIONS.items():
        specs[section] = {}
        named = state.named[section]
        if section != "credentials" and section != "snmp_profiles":
            try:  # every name at once (one C call per name); else each, to report it
                good = all(map(NAME_RE.match, named))
            except TypeError:  # a number as a name
                good = False
            if not good:
                named = {n: e for n, e in named.items() if _validate_name(state, e, n)}
        if section == "devices":
            device_fields = dict(
                zip(named, map(_plain_device, [e.raw for e in named.values()]), strict=True)
            )
            named = {n: e for n, e in named.items() if device_fields[n] is _UNCHECKED}
        try:  # the whole section in one call (50,000 devices: no Python call per entry)
            specs[section] = dict(
                zip(
                    named,
                    _list_adapter(model).validate_python(
                        [{} if e.raw is None else e.raw for e in named.values()]
                    ),
                    strict=True,
                )
            )
            continue
        except ValidationError:
            pass  # entry by entry, to place each error
        for name, entry in named.items():
            spec = _validate(state, model, entry)
            if spec is not None:
                specs[section][name] = spec
    defaults = _validate_defaults(state)
    _check_secret_vars(state)

    zones = _build_zones(state, specs["zones"])
    sites = _build_sites(state, specs["sites"], zones)
    units = _build_units(state, specs["units"], sites, zones)
    for name, profile in specs["snmp_profiles"].items():
        entry = state.named["snmp_profiles"][name]
        for key, message in profile.problems():
            state.error(entry.doc, (*entry.path, key), message)
    groups: dict[str, GroupSpec] = specs["groups"]
    refs = _Refs(zones, sites, units, specs["credentials"], specs["snmp_profiles"], state.named)
    for name, group in groups.items():
        _check_refs(state, state.named["groups"][name], group, refs)
    if defaults is not None and state.defaults:
        first = next(iter(state.defaults.values()))
        _check_refs(state, _Entry(first.doc, ("defaults",), None), defaults, refs)
    bastions = _build_bastions(state, specs["bastions"], specs["credentials"])
    jumps = _Jumps(specs["zones"], specs["sites"], bastions)
    for name, spec in specs["devices"].items():  # the ones the model checked
        device_fields[name] = spec.__dict__
    devices = _build_devices(
        state,
        {n: f for n, f in device_fields.items() if f is not _UNCHECKED},
        groups,
        defaults or DeviceValues(),
        refs,
        jumps,
    )
    book, csv_refs = _build_terminals(state, zones, units)
    links = _build_links(state, devices)
    services = _build_services(state, specs["services"], zones, units)
    maintenance = _build_maintenance(state, services, units, sites)
    inventory = Inventory(
        zones=zones,
        sites=sites,
        units=units,
        devices=devices,
        terminals={},
        links=links,
        services=services,
        maintenance=maintenance,
    )
    return inventory, book, csv_refs


# A ``vars`` key whose last word is one of these holds a secret: its value must be a reference.
SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "community",
        "key",
        "token",
        "psk",
        "passphrase",
        "credential",
        "cipher",
    }
)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")


def is_secret_key(key: object) -> bool:
    """``auth_key``, ``enable-secret``, ``ro_community``, ``password`` — not ``key_length``."""
    words = [w for w in _WORD_SPLIT.split(str(key).lower()) if w]
    return bool(words) and (words[-1] in SECRET_WORDS or words[-1].rstrip("s") in SECRET_WORDS)


def _check_secret_vars(state: _State) -> None:
    """Secrets in ``vars`` (defaults, groups, devices) must be references, like credentials:
    ``inventory show`` prints vars, and a plain-text key would sit in every copy of the file."""
    entries = [e for section in ("groups", "devices") for e in state.named[section].values()]
    if "vars" in state.defaults:
        entries.append(state.defaults["vars"])
    defaults_vars = state.defaults.get("vars")
    for entry in entries:
        raw, path = entry.raw, entry.path
        if entry is not defaults_vars:
            raw = raw.get("vars") if type(raw) is dict else None
            if raw is None:  # nothing to walk (most devices)
                continue
            path = (*path, "vars")
        _walk_secret_vars(state, entry.doc, path, raw, secret=False)


def _walk_secret_vars(state: _State, doc: SourceDoc, path: Path_, value: Any, secret: bool) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _walk_secret_vars(state, doc, (*path, key), item, secret or is_secret_key(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk_secret_vars(state, doc, (*path, i), item, secret)
    elif secret and value is not None and not isinstance(value, bool):
        try:
            SecretRef.parse(value) if isinstance(value, str) else SecretRef.parse("")
        except ValueError:
            state.error(
                doc,
                path,
                _(
                    "plain-text secret: use a reference (env:NAME, file:PATH, cmd:COMMAND, "
                    "keyring:SERVICE/USER or prompt), as credentials do"
                ),
            )


def _validate_name(state: _State, entry: _Entry, name: str) -> bool:
    if not NAME_RE.match(str(name)):
        state.error(
            entry.doc,
            entry.path,
            _(
                "bad name {name!r}: use ASCII letters, digits, '-', '_', '.' "
                "(put zh text in label)",
                name=name,
            ),
        )
        return False
    return True


def _validate_defaults(state: _State) -> DeviceValues | None:
    if not state.defaults:
        return DeviceValues()
    first = next(iter(state.defaults.values()))
    raw = {k: e.raw for k, e in state.defaults.items()}
    return _validate(state, DeviceValues, _Entry(first.doc, ("defaults",), raw))


@dataclass
class _Refs:
    zones: dict[str, Zone]
    sites: dict[str, Any]
    units: dict[str, Any]
    credentials: dict[str, CredentialSpec]
    snmp_profiles: dict[str, SnmpProfileSpec]
    defined: dict[str, dict[str, _Entry]]

    def __post_init__(self) -> None:
        known = platforms()
        self._tables: dict[str, Iterable[str]] = {
            "zone": self.defined["zones"],
            "site": self.defined["sites"],
            "unit": self.defined["units"],
            "credentials": self.defined["credentials"],
            "snmp_profile": self.defined["snmp_profiles"],
            "platform": known,
        }
        self._valid: dict[str, Any] = {
            "zone": self.zones,
            "site": self.sites,
            "unit": self.units,
            "credentials": self.credentials,
            "snmp_profile": self.snmp_profiles,
            "platform": known,
        }

    def table(self, key: str) -> Iterable[str] | None:
        """Names that exist (valid or not: an invalid entry is reported once, where it is)."""
        return self._tables.get(key)

    def valid(self, key: str, value: str) -> bool:
        return value in self._valid[key]

    def valid_names(self, key: str) -> Any:
        """The names of valid entries (``in`` works on it)."""
        return self._valid[key]


_REF_LABEL = {
    "snmp_profile": N_("SNMP profile"),
    "credentials": N_("credentials"),
    "platform": N_("platform"),
}


_REF_KEYS = ("zone", "site", "unit", "credentials", "snmp_profile", "platform")


def _check_refs(state: _State, entry: _Entry, values: DeviceValues, refs: _Refs) -> None:
    for key in _REF_KEYS:
        value = getattr(values, key)
        if value is None:
            continue
        known = refs.table(key)
        if known is not None and value not in known:
            state.error(
                entry.doc,
                (*entry.path, key),
                _("unknown {what} {value!r}", what=_(_REF_LABEL.get(key, key)), value=value)
                + suggest(value, known),
            )


def _build_zones(state: _State, specs: dict[str, ZoneSpec]) -> dict[str, Zone]:
    isolated: dict[str, set[str]] = {name: set() for name in specs}
    for name, spec in specs.items():
        entry = state.named["zones"][name]
        for i, other in enumerate(spec.isolated_from):
            if other not in specs:
                state.error(
                    entry.doc,
                    (*entry.path, "isolated_from", i),
                    _("unknown {what} {value!r}", what=_("zone"), value=other)
                    + suggest(other, specs),
                )
            elif other == name:
                state.error(
                    entry.doc,
                    (*entry.path, "isolated_from", i),
                    _("a zone cannot be isolated from itself"),
                )
            else:  # isolation is symmetric: declaring it on one side is enough
                isolated[name].add(other)
                isolated[other].add(name)
    return {
        name: Zone(name, spec.label, frozenset(isolated[name]), spec.pools, tuple(spec.canaries))
        for name, spec in specs.items()
    }


def _build_sites(
    state: _State, specs: dict[str, SiteSpec], zones: dict[str, Zone]
) -> dict[str, Any]:
    from govnet.inventory.model import Site

    sites: dict[str, Site] = {}
    for name, spec in specs.items():
        entry = state.named["sites"][name]
        parent = spec.parent
        if parent is not None and parent not in specs:
            state.error(
                entry.doc,
                (*entry.path, "parent"),
                _("unknown {what} {value!r}", what=_("site"), value=parent)
                + suggest(parent, specs),
            )
            parent = None
        sites[name] = Site(name, spec.label, spec.level, parent)
    reported: set[str] = set()
    for name in sites:
        seen: list[str] = []
        current: str | None = name
        while current is not None and current not in seen:
            seen.append(current)
            current = sites[current].parent
        if current is not None and current == name and name not in reported:
            cycle = [*seen[seen.index(current) :], current]
            reported.update(cycle)
            entry = state.named["sites"][name]
            state.error(
                entry.doc,
                (*entry.path, "parent"),
                _("site parents form a cycle: {cycle}", cycle=" → ".join(cycle)),
            )
    return sites


def _build_units(
    state: _State, specs: dict[str, UnitSpec], sites: dict[str, Any], zones: dict[str, Zone]
) -> dict[str, Any]:
    from govnet.inventory.model import Unit

    units = {}
    for name, spec in specs.items():
        entry = state.named["units"][name]
        if spec.site not in sites:
            state.error(
                entry.doc,
                (*entry.path, "site"),
                _("unknown {what} {value!r}", what=_("site"), value=spec.site)
                + suggest(spec.site, sites),
            )
        for i, zone in enumerate(spec.zones):
            if zone not in zones:
                state.error(
                    entry.doc,
                    (*entry.path, "zones", i),
                    _("unknown {what} {value!r}", what=_("zone"), value=zone)
                    + suggest(zone, zones),
                )
        units[name] = Unit(name, spec.label, spec.site, tuple(spec.zones), spec.contact)
    return units


_INHERITED = (
    "platform",
    "role",
    "zone",
    "site",
    "unit",
    "port",
    "credentials",
    "snmp_profile",
    "snmp_port",
    "timeout",
    "host_key_policy",
    "transport",
    "allow_insecure",
)
_REQUIRED = ("platform", "role", "zone", "site")


_UNCHECKED: dict[str, Any] = {}  # "let the model check it" (compared by identity)
_NO_NAMES: list[str] = []
_NAME_ONLY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")  # NAME_RE without its "\n" at the end
_PLAIN_NAMES = frozenset({"zone", "site", "unit", "credentials", "snmp_profile"})
_PLAIN_TEXTS = frozenset({"platform", "description"})
_PLAIN_LISTS = frozenset({"groups", "tags"})
_ROLE_SET = frozenset(ROLES)


def _plain_device(raw: Any) -> dict[str, Any]:
    """``raw`` as :class:`DeviceSpec`'s fields, without the model, when it is written the plain
    way (names, text without surrounding blanks, a role, an IPv4 address, lists of names): the
    values the model would make of it, for the keys given (the others take the model's
    defaults: None, or empty for groups, tags and vars). Anything else — another key, another
    type, a value the model would change or refuse — gives ``_UNCHECKED``: the model checks
    and explains it.
    """
    if type(raw) is not dict:
        return _UNCHECKED
    out: dict[str, Any] = {}  # the keys given; the others take the model's defaults
    name_only = _NAME_ONLY.match
    for key, value in raw.items():
        if type(value) is str:
            if key in _PLAIN_NAMES:
                if name_only(value) is None:
                    return _UNCHECKED
            elif key == "address":
                try:  # what the model's address validator does with text
                    value = IPv4Address(int.from_bytes(inet_pton(AF_INET, value)))
                except (OSError, UnicodeError):
                    return _UNCHECKED
            elif key == "role":
                if value not in _ROLE_SET:
                    return _UNCHECKED
            elif key not in _PLAIN_TEXTS or value != value.strip():
                return _UNCHECKED
        elif key in _PLAIN_LISTS and type(value) is list:
            for item in value:
                if type(item) is not str or name_only(item) is None:
                    return _UNCHECKED
            value = list(value)
        else:
            return _UNCHECKED
        out[key] = value
    return out


def _build_devices(
    state: _State,
    specs: dict[str, dict[str, Any]],
    groups: dict[str, GroupSpec],
    defaults: DeviceValues,
    refs: _Refs,
    jumps: _Jumps | None = None,
) -> dict[str, Device]:
    """Devices from their checked fields (:class:`DeviceSpec`'s, as a dict), with what they
    inherit from their groups and the defaults."""
    jumps = jumps or _Jumps({}, {}, {})
    devices: dict[str, Device] = {}
    endpoints: dict[tuple[str, int], str] = {}
    inherited: dict[tuple[str, ...], tuple[dict[str, Any], frozenset[str], dict[str, Any]]] = {}
    tables = {key: (refs.table(key), refs.valid_names(key)) for key in _REF_KEYS}
    unusable: dict[tuple[str, ...], list[str]] = {}  # group list → inherited invalid references
    pools = {  # zone → its IPv4 pools as (netmask, network), or None to ask the zone
        name: [(int(n.netmask), int(n.network_address)) for n in zone.pools.prefixes]
        if all(n.version == 4 for n in zone.pools.prefixes)
        else None
        for name, zone in refs.zones.items()
    }
    chains: dict[tuple[Any, ...], tuple[tuple[JumpHost, ...], bool]] = {}
    configs: dict[tuple[Any, ...], bool | str | None] = {}
    for name, own in specs.items():
        entry = state.named["devices"][name]
        ok = True
        get = own.get  # a plain device's dict holds only the keys it was given
        spec_groups: list[str] = get("groups") or _NO_NAMES
        known_groups = spec_groups
        for i, group in enumerate(spec_groups):
            if group not in groups:
                state.error(
                    entry.doc,
                    (*entry.path, "groups", i),
                    _("unknown {what} {value!r}", what=_("group"), value=group)
                    + suggest(group, groups),
                )
                ok = False
        if not ok:
            known_groups = [g for g in spec_groups if g in groups]
        key_groups = tuple(known_groups)
        base = inherited.get(key_groups)
        if base is None:  # devices share a few group lists: inherit once per list
            base = inherited[key_groups] = _inherit([groups[g] for g in key_groups] + [defaults])
            unusable[key_groups] = [
                key
                for key, (_known, good) in tables.items()
                if base[0][key] is not None and base[0][key] not in good
            ]
        base_values, base_tags, base_vars = base
        values = base_values.copy()
        valid = True  # every reference names a valid entry
        unknown: list[str] | None = None  # own references to nothing at all
        for key, value in own.items():
            if value is not None and key in values:  # the keys it inherits
                values[key] = value
                check = tables.get(key)
                if check is not None:  # a reference (inherited ones were checked where set)
                    known, good = check
                    if value not in good:
                        valid = False
                        if known is not None and value not in known:
                            unknown = [*(unknown or ()), key]
        for key in unusable[key_groups]:  # an inherited reference to an invalid entry
            if get(key) is None:
                valid = False
        for key in _REF_KEYS if unknown is not None else ():  # reported in this order
            known, _good = tables[key]
            if key in unknown and known is not None:  # type: ignore[operator]
                value = own[key]
                state.error(
                    entry.doc,
                    (*entry.path, key),
                    _("unknown {what} {value!r}", what=_(_REF_LABEL.get(key, key)), value=value)
                    + suggest(value, known),
                )
        for key in _REQUIRED:
            if values[key] is None:
                state.error(
                    entry.doc,
                    (*entry.path, key),
                    _("no {key}: set it on the device, one of its groups or defaults", key=key),
                )
                ok = False
        address = get("address")
        host = get("host")
        if host is None and address is not None:
            host = str(address) if type(address) is not IPv4Address else inet_ntoa(address.packed)
        if host is None:
            state.error(entry.doc, entry.path, _("needs host (where to connect) or address"))
            ok = False
        if not ok or not valid:
            continue
        own_jump = get("jump")
        chain_key = (key_groups, values["site"], values["zone"])
        found_chain = chains.get(chain_key) if own_jump is None else None
        if found_chain is not None:
            chain, jumps.inherited = found_chain
        else:
            group_specs = [groups[g] for g in key_groups]
            made = jumps.chain(state, entry, own_jump, group_specs, values, defaults)
            if made is None:
                continue
            chain = made
            if own_jump is None:
                chains[chain_key] = (chain, jumps.inherited)
        transport: Transport = values["transport"] or "ssh"
        if transport == "telnet" and not values["allow_insecure"]:
            state.error(
                entry.doc,
                (*entry.path, "transport"),
                _(
                    "telnet sends passwords in clear text; add allow_insecure: true to the "
                    "device if this is intended (e.g. a last backup before replacement), or "
                    "enable SSH"
                ),
            )
            continue
        if transport == "telnet" and chain:
            state.error(
                entry.doc,
                (*entry.path, "jump"),
                _("telnet devices cannot be reached via a bastion"),
            )
            continue
        creds = refs.credentials.get(values["credentials"]) if values["credentials"] else None
        port: int | None = values["port"]
        assert host is not None
        cfg_path: str | None = None
        cfg_value = get("ssh_config")
        if cfg_value is None:
            config_key = (key_groups, values["zone"])
            if config_key in configs:
                cfg_value = configs[config_key]
            else:
                cfg_value = configs[config_key] = jumps.ssh_config(
                    None, [groups[g] for g in key_groups], values, defaults
                )
        if cfg_value not in (None, False) and transport == "ssh":
            reached = _apply_ssh_config(
                state, entry, cfg_value, host, port, creds, own_jump, chain, jumps, values
            )
            if reached is None:
                continue
            host, port, creds, chain, cfg_path = reached
        if creds is not None and (creds.username is None or not creds.way_in()):
            missing = "username" if creds.username is None else "password, key_file or agent"
            state.error(
                entry.doc,
                (*entry.path, "credentials"),
                _(
                    "credentials {credentials!r} name no {missing} for {host}; add it, or "
                    "ssh_config: with a User and IdentityFile for this host",
                    credentials=values["credentials"],
                    missing=missing,
                    host=host,
                ),
            )
            continue
        own_tags, own_vars = get("tags"), get("vars")
        tags = base_tags.union(own_tags) if own_tags else base_tags
        merged_vars = {**base_vars, **own_vars} if own_vars else dict(base_vars)
        profile = refs.snmp_profiles.get(values["snmp_profile"]) if values["snmp_profile"] else None
        zone_name = values["zone"]
        if address is not None and refs.zones[zone_name].pools.prefixes:
            v4 = pools[zone_name]
            if v4 is not None and type(address) is IPv4Address:
                inside = any(int(address) & mask == net for mask, net in v4)
            else:
                inside = refs.zones[zone_name].pools.contains(address)
            if not inside:
                zone = refs.zones[zone_name]
                nets = ", ".join(str(n) for n in zone.pools.prefixes)
                state.warn(
                    entry.doc,
                    (*entry.path, "address"),
                    _(
                        "{address} is outside zone {name}'s pools ({nets})",
                        address=address,
                        name=zone.name,
                        nets=nets,
                    ),
                )
        port = port or 22
        if get("port") is not None or values["platform"] != "snmp":
            other = endpoints.get((host, port))
            if other and values["platform"] != "snmp":
                state.warn(
                    entry.doc,
                    (*entry.path, "port"),
                    _("same host and port as device {other!r}", other=other),
                )
            endpoints[(host, port)] = name
        devices[name] = _device(
            name=name,
            host=host,
            platform=values["platform"],
            role=values["role"],
            zone=zone_name,
            site=values["site"],
            unit=values["unit"],
            address=address,
            mac=get("mac"),
            port=port,
            credentials=creds,
            snmp=profile,
            snmp_port=values["snmp_port"] or (profile.port if profile else 161),
            tags=tags,
            groups=tuple(spec_groups),
            vars=merged_vars,
            timeout=values["timeout"] or DEFAULT_TIMEOUT,
            description=get("description"),
            host_key_policy=values["host_key_policy"] or "tofu",
            jump=chain,
            transport=transport,
            ssh_config=cfg_path,
        )
    return devices


def _apply_ssh_config(
    state: _State,
    entry: _Entry,
    value: bool | str,
    host: str,
    port: int | None,
    creds: CredentialSpec | None,
    own_jump: list[str] | None,
    chain: tuple[JumpHost, ...],
    jumps: _Jumps,
    values: dict[str, Any],
) -> tuple[str, int | None, CredentialSpec | None, tuple[JumpHost, ...], str] | None:
    """A device's host, port, credentials and jump chain with its ssh_config Host block
    applied (govnet/inventory/sshconfig.py): what the inventory sets wins."""
    from govnet.inventory.sshconfig import SshConfigError, SshConfigFile, config_path

    path = config_path(value)
    where: Path_ = (*entry.path, "ssh_config")
    parsed = state.ssh_configs.get(path)
    if parsed is None:
        try:
            parsed = SshConfigFile(path)
        except SshConfigError as exc:
            parsed = exc
        state.ssh_configs[path] = parsed
    try:
        if isinstance(parsed, SshConfigError):
            raise parsed
        found = parsed.lookup(host)
        hops = None
        if found.proxy_jump and not chain and own_jump is None and not jumps.inherited:
            hops = parsed.chain(found.proxy_jump, (host,))
    except SshConfigError as exc:
        state.error(entry.doc, where, str(exc))
        return None
    for setting in found.ignored:
        state.warn(
            entry.doc,
            where,
            _(
                "{path}: {setting} for {host} is ignored: govnet checks host keys by its "
                "host_key_policy ({policy}), never weaker",
                path=path,
                setting=setting,
                host=host,
                policy=values["host_key_policy"] or "tofu",
            ),
        )
    if creds is not None:
        update: dict[str, Any] = {}
        if creds.username is None and found.user:
            update["username"] = found.user
        if creds.key_file is None and found.key_file:
            update["key_file"] = found.key_file
        if update:
            creds = creds.model_copy(update=update)
    if hops:
        built: list[JumpHost] = []
        for hop in hops:
            known = jumps.bastions.get(hop.alias)
            if known is not None:
                built.append(known)
                continue
            if not hop.user:
                state.error(
                    entry.doc,
                    where,
                    _(
                        "{path}: ProxyJump hop {alias} of {host} has no user; add User to its Host "
                        "block, or define it under bastions:",
                        path=path,
                        alias=hop.alias,
                        host=host,
                    ),
                )
                return None
            hop_creds = CredentialSpec(
                username=hop.user, key_file=hop.key_file, agent=hop.key_file is None
            )
            built.append(
                JumpHost(
                    name=hop.alias,
                    host=hop.host,
                    port=hop.port,
                    credentials=hop_creds,
                    host_key_policy=values["host_key_policy"] or "tofu",
                )
            )
        chain = tuple(built)
    return found.host, port or found.port, creds, chain, str(path)


def _build_bastions(
    state: _State, specs: dict[str, BastionSpec], credentials: dict[str, CredentialSpec]
) -> dict[str, JumpHost]:
    out: dict[str, JumpHost] = {}
    for name, spec in specs.items():
        creds = credentials.get(spec.credentials)
        if creds is None:
            entry = state.named["bastions"][name]
            if spec.credentials not in state.named["credentials"]:
                state.error(
                    entry.doc,
                    (*entry.path, "credentials"),
                    _("unknown credentials {credentials!r}", credentials=spec.credentials)
                    + suggest(spec.credentials, state.named["credentials"]),
                )
            continue
        if creds.username is None or not creds.way_in():
            entry = state.named["bastions"][name]
            state.error(
                entry.doc,
                (*entry.path, "credentials"),
                _(
                    "credentials {credentials!r} need a username and a password, key_file or "
                    "agent for a bastion",
                    credentials=spec.credentials,
                ),
            )
            continue
        out[name] = JumpHost(
            name=name,
            host=spec.host,
            port=spec.port,
            credentials=creds,
            host_key_policy=spec.host_key_policy,
            max_channels=spec.max_channels,
            timeout=spec.timeout,
        )
    return out


@dataclass
class _Jumps:
    """Which bastions a device is reached through: its own ``jump``, its groups', its site's,
    its zone's, then the defaults' (the first one set; ``[]`` means direct)."""

    zones: dict[str, ZoneSpec]
    sites: dict[str, SiteSpec]
    bastions: dict[str, JumpHost]
    _cache: dict[tuple[str, ...], tuple[JumpHost, ...]] = field(default_factory=dict)
    inherited: bool = False  # the last chain() found a jump set somewhere (even [])

    def ssh_config(
        self,
        own: bool | str | None,
        groups: list[GroupSpec],
        values: dict[str, Any],
        defaults: DeviceValues,
    ) -> bool | str | None:
        """``ssh_config`` from the device (``own``), its groups, its zone, then the defaults."""
        if own is not None:
            return own
        for source in (*groups, self.zones.get(values["zone"]), defaults):
            found = source.ssh_config if source is not None else None
            if found is not None:
                return found
        return None

    def chain(
        self,
        state: _State,
        entry: _Entry,
        own: list[str] | None,
        groups: list[GroupSpec],
        values: dict[str, Any],
        defaults: DeviceValues,
    ) -> tuple[JumpHost, ...] | None:
        """The chain of the device whose own ``jump`` is ``own``; None after an error."""
        names: list[str] | None = own
        where: Path_ = (*entry.path, "jump")
        for source in (*groups, self.sites.get(values["site"]), self.zones.get(values["zone"])):
            if names is not None:
                break
            names = source.jump if source is not None else None
        if names is None:
            names = defaults.jump
        self.inherited = names is not None
        if not names:
            return ()
        key = tuple(names)
        if key in self._cache:
            return self._cache[key]
        unknown = [n for n in names if n not in self.bastions]
        if unknown:
            known = state.named["bastions"]
            if any(n not in known for n in unknown):  # an invalid entry was reported already
                bad = next(n for n in unknown if n not in known)
                state.error(
                    entry.doc, where, _("unknown bastion {bad!r}", bad=bad) + suggest(bad, known)
                )
            return None
        if len(set(names)) != len(names):
            state.error(entry.doc, where, _("a bastion appears twice in the jump chain"))
            return None
        hops = self._cache[key] = tuple(self.bastions[n] for n in names)
        return hops


def _device(**values: Any) -> Device:
    """``Device(**values)`` with every field given, without the frozen dataclass's
    ``object.__setattr__`` per field (50,000 devices: ~0.1 s)."""
    device: Device = object.__new__(Device)
    device.__dict__.update(values)
    return device


def _inherit(
    chain: list[DeviceValues],
) -> tuple[dict[str, Any], frozenset[str], dict[str, Any]]:
    """What a device inherits from ``chain`` (its groups in order, then defaults): for each
    inherited key the first value set, the union of tags, vars merged (earlier wins)."""
    values = {
        key: next((getattr(v, key) for v in chain if getattr(v, key) is not None), None)
        for key in _INHERITED
    }
    tags: set[str] = set()
    merged_vars: dict[str, Any] = {}
    for v in reversed(chain):
        tags.update(v.tags)
        merged_vars.update(v.vars)
    return values, frozenset(tags), merged_vars


def _lookup(value: str, table: dict[str, Any]) -> str | None:
    """A zone or unit by name, or by its zh/en label (CSV exports carry Chinese names)."""
    return _label_index(table).get(value)


def _label_index(table: dict[str, Any]) -> dict[str, str]:
    """name → name, then zh/en label → the first name carrying it (what :func:`_lookup` finds)."""
    index = {name: name for name in table}
    for name, item in table.items():
        label: Label = item.label
        for text in (label.zh, label.en):
            if text is not None:
                index.setdefault(text, name)
    return index


# A terminal's validated values (TerminalSpec's fields), without a model instance:
# (name, mac, ip, unit, zone, kind, owner, os); ip packed as PackedTerminals keeps it
# (an IPv4 address as its int, an IPv6 address as text, or None).
_Row = tuple[str, str, int | str | None, str, str, str, str | None, str | None]


def _row_of(spec: TerminalSpec) -> _Row:
    return (
        spec.name,
        spec.mac,
        _pack_ip(spec.ip),
        spec.unit,
        spec.zone,
        spec.kind,
        spec.owner,
        spec.os,
    )


def _pack_ip(ip: IPAddress | None) -> int | str | None:
    return None if ip is None else int(ip) if ip.version == 4 else str(ip)


_NO_PROBLEMS: list[tuple[str, str]] = []


class _Terminals:
    """Terminals from YAML lists and CSV files, cross-checked as they are added and kept as
    :class:`PackedTerminals` columns (objects are made when a command uses them)."""

    def __init__(self, zones: dict[str, Zone], units: dict[str, Any]) -> None:
        self.zones = zones
        self.units = units
        self.zone_index = _label_index(zones)
        self.unit_index = _label_index(units)
        self.nets = {  # zone → (version, netmask, network) of its pools: a cheap contains()
            name: [(n.version, int(n.netmask), int(n.network_address)) for n in z.pools.prefixes]
            for name, z in zones.items()
        }
        self.v4 = {  # zone → [(netmask, network)] of its IPv4 pools, for the common case
            name: [(m, n) for v, m, n in nets if v == 4] for name, nets in self.nets.items()
        }
        # columns in PackedTerminals.FIELDS order (name, mac, unit, zone, ip, kind, owner, os,
        # source): no tuple per terminal, and what the cache and PackedTerminals keep
        self.cols: tuple[list[Any], ...] = tuple([] for _ in PackedTerminals.FIELDS)
        # name → where it was first defined, MAC → name: for the rows of ``cols`` up to
        # ``indexed`` (bulk chunks append without them: see :meth:`sync`, :func:`_bulk_columns`)
        self.source: dict[str, str] = {}
        self.by_mac: dict[str, str] = {}
        self.indexed = 0

    @property
    def columns(self) -> tuple[list[Any], ...]:
        return self.cols

    @property
    def terminals(self) -> PackedTerminals:
        return PackedTerminals(self.columns)

    def snapshot(self) -> tuple[list[Any], ...]:
        return tuple(list(c) for c in self.cols)

    def seed(self, columns: tuple[list[Any], ...]) -> None:
        """Start from terminals already checked (the YAML ones of a cached inventory)."""
        for mine, theirs in zip(self.cols, columns, strict=True):
            mine.extend(theirs)

    def sync(self) -> None:
        """Index the rows appended without ``source``/``by_mac`` (bulk chunks, seed)."""
        start, names = self.indexed, self.cols[0]
        if start < len(names):
            fresh = names[start:]
            self.source.update(zip(fresh, self.cols[8][start:], strict=True))
            self.by_mac.update(zip(self.cols[1][start:], fresh, strict=True))
            self.indexed = len(names)

    def unique(self) -> bool:
        """No name and no MAC twice among all rows (what :meth:`add` alone guarantees)."""
        names, macs = self.cols[0], self.cols[1]
        return len(set(names)) == len(names) and len(set(macs)) == len(macs)

    def truncate(self, rows: int) -> None:
        """Back to the first ``rows`` rows (a CSV read again the careful way)."""
        for column in self.cols:
            del column[rows:]
        self.source.clear()
        self.by_mac.clear()
        self.indexed = 0

    def add(self, row: _Row, where: str) -> list[tuple[str, str]]:
        """Add one terminal; the (key, message) problems, ``"warning: …"`` for warnings."""
        if self.indexed != len(self.cols[0]):
            self.sync()
        name, mac, ip, unit_text, zone_text, kind, owner, os_ = row
        zone = self.zone_index.get(zone_text)
        unit = self.unit_index.get(unit_text)
        problems = _NO_PROBLEMS
        if zone is None or unit is None or name in self.source or mac in self.by_mac:
            problems = []
            if zone is None:
                problems.append(
                    (
                        "zone",
                        _("unknown zone {zone!r}", zone=zone_text) + suggest(zone_text, self.zones),
                    )
                )
            if unit is None:
                problems.append(
                    (
                        "unit",
                        _("unknown unit {unit!r}", unit=unit_text) + suggest(unit_text, self.units),
                    )
                )
            if name in self.source:
                first = self.source[name]
                problems.append(
                    (
                        "name",
                        _(
                            "terminal {name!r} is defined twice (first at {first})",
                            name=name,
                            first=first,
                        ),
                    )
                )
                return problems
            if mac in self.by_mac:
                problems.append(
                    (
                        "mac",
                        _(
                            "MAC {mac} is already terminal {other!r}",
                            mac=mac,
                            other=self.by_mac[mac],
                        ),
                    )
                )
                return problems
            if zone is None or unit is None:
                return problems
        assert zone is not None and unit is not None
        if ip is not None and self.nets[zone]:
            if type(ip) is int:
                for mask, net in self.v4[zone]:
                    if ip & mask == net:
                        break
                else:
                    problems = [*problems, self._outside(ip, zone)]
            else:
                value = int(IPv6Address(ip))
                if not any(v == 6 and value & m == n for v, m, n in self.nets[zone]):
                    problems = [*problems, self._outside(ip, zone)]
        for column, cell in zip(
            self.cols, (name, mac, unit, zone, ip, kind, owner, os_, where), strict=True
        ):
            column.append(cell)
        self.source[name] = where
        self.by_mac[mac] = name
        self.indexed += 1
        return problems

    @staticmethod
    def _outside(ip: int | str, zone: str) -> tuple[str, str]:
        shown = IPv4Address(ip) if isinstance(ip, int) else ip
        # "warning: " marks the severity (add's callers strip it); the text is the reader's
        return (
            "ip",
            "warning: " + _("{address} is outside zone {zone}'s pools", address=shown, zone=zone),
        )


def _build_terminals(
    state: _State, zones: dict[str, Zone], units: dict[str, Any]
) -> tuple[_Terminals, list[_CsvRef]]:
    """The YAML terminals, checked; the CSV files to read (now or when first needed)."""
    book = _Terminals(zones, units)
    for entry in state.lists["terminals"]:
        spec = _validate(state, TerminalSpec, entry)
        if spec is not None:
            line = entry.doc.where(entry.path)[0]
            for key, message in book.add(_row_of(spec), f"{entry.doc.file}:{line}"):
                if message.startswith("warning: "):
                    state.warn(entry.doc, (*entry.path, key), message.removeprefix("warning: "))
                else:
                    state.error(entry.doc, (*entry.path, key), message)
    refs: list[_CsvRef] = []
    for entry in state.lists["terminals_csv"]:
        if not isinstance(entry.raw, str):
            state.error(entry.doc, entry.path, _("must be a CSV file path"))
            continue
        csv_path = Path(entry.raw)
        if not csv_path.is_absolute():
            csv_path = Path(entry.doc.file).parent / csv_path
        line, column = entry.doc.where(entry.path)
        refs.append(_CsvRef(entry.doc.file, line, column, dotted(entry.path), csv_path))
    return book, refs


def _read_csv_terminals(
    diagnostics: list[Diagnostic], book: _Terminals, refs: list[_CsvRef]
) -> None:
    for ref in refs:
        data = _read_csv_bytes(diagnostics, ref)
        if data is not None:
            _parse_terminal_csv(diagnostics, ref, data, book)


def _read_csv_bytes(diagnostics: list[Diagnostic], ref: _CsvRef) -> bytes | None:
    try:
        return input_limits.read_input(ref.path, "terminals")
    except input_limits.LimitError as exc:
        diagnostics.append(
            ref.diag(_("terminals CSV {path}: {message}", path=ref.path, message=exc.message))
        )
    return None


def text_encoding(raw: bytes) -> str | None:
    """What :func:`decode_text` would decode ``raw`` as, found without building the text."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(raw), 1 << 20):
                decoder.decode(raw[start : start + (1 << 20)])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, what consoles export)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


_KINDS = {k: k for k in ("pc", "laptop", "printer", "phone", "camera", "server", "other")}
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(r"\.".join([_OCTET] * 4))
_MAC17 = re.compile(r"[0-9a-f]{2}([:\-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}")


def _fast_row(values: dict[str, str]) -> _Row | None:
    """``values`` validated as :class:`TerminalSpec` would, or None to let it explain why."""
    return _fast_fields(
        values.get("name", ""),
        values.get("mac", ""),
        values.get("ip", ""),
        values.get("unit", ""),
        values.get("zone", ""),
        values.get("kind", ""),
        values.get("owner"),
        values.get("os"),
    )


def _fast_fields(
    name: str,
    mac: str,
    ip_text: str,
    unit: str,
    zone: str,
    kind: str,
    owner: str | None,
    os_: str | None,
) -> _Row | None:
    """Stripped cells ("" = empty) validated as :class:`TerminalSpec` would, or None.

    Accepts only what the model accepts, with the same result; anything unusual (or wrong)
    goes through the model so the messages stay the model's.
    """
    if not (name and mac and unit and zone) or not NAME_RE.match(name):
        return None
    mac = mac.lower()
    if len(mac) == 17 and _MAC17.fullmatch(mac):
        mac = mac.replace("-", ":")
    else:
        try:
            mac = normalize_mac(mac)
        except ValueError:
            return None
    ip: int | str | None = None
    if ip_text:
        if _IPV4.fullmatch(ip_text):  # what IPv4Address(text) accepts, parsed ~5x faster
            ip = int.from_bytes(inet_aton(ip_text))  # canonical dotted quad: checked above
        else:
            try:
                ip = _pack_ip(ipaddress.ip_address(ip_text))
            except ValueError:
                return None
    known_kind = _KINDS.get(kind or "pc")  # one str object per kind (memory, cache)
    if known_kind is None:
        return None
    return (name, mac, ip, unit, zone, known_kind, owner or None, os_ or None)


def _parse_terminal_csv(
    diagnostics: list[Diagnostic],
    ref: _CsvRef,
    data: bytes,
    book: _Terminals,
    careful: bool = False,
) -> None:
    """Check and add the terminals of one CSV file.

    Chunks taken column by column are checked for names and MACs seen before only at the end
    (one set of each instead of a dict lookup and insert per row); if one was, the file is read
    again with that check per chunk (``careful``), which places every error as before.
    """
    since = len(diagnostics), len(book.cols[0])
    _parse_csv_rows(diagnostics, ref, data, book, careful)
    if not careful and len(book.cols[0]) > since[1] and not book.unique():
        del diagnostics[since[0] :]
        book.truncate(since[1])
        _parse_csv_rows(diagnostics, ref, data, book, careful=True)


def _parse_csv_rows(
    diagnostics: list[Diagnostic], ref: _CsvRef, data: bytes, book: _Terminals, careful: bool
) -> None:
    name = str(ref.path)
    encoding = text_encoding(data)
    if encoding is None:
        diagnostics.append(ref.diag(_("{name} is neither UTF-8 nor GBK text", name=name)))
        return
    # decoded as it is read: a 24 MB CSV as one str (and StringIO's copy) cost ~140 MB
    reader_stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(reader_stream)
    try:
        header = next(reader)
    except StopIteration:
        diagnostics.append(Diagnostic(name, 1, 1, "", _("empty CSV: expected a header row")))
        return
    except csv.Error as exc:
        diagnostics.append(
            Diagnostic(name, reader.line_num or 1, 1, "", _("bad CSV: {exc}", exc=exc))
        )
        return
    columns: list[str | None] = []
    for i, col in enumerate(header, start=1):
        key = CSV_ALIASES.get(col.strip().lower().replace(" ", ""))
        if key is None and col.strip():
            diagnostics.append(
                Diagnostic(
                    name,
                    1,
                    i,
                    "header",
                    _("unknown column {col!r}", col=col) + suggest(col, set(CSV_ALIASES.values())),
                )
            )
        columns.append(key)
    missing = [c for c in CSV_REQUIRED if c not in columns]
    if missing:
        diagnostics.append(
            Diagnostic(
                name, 1, 1, "header", _("missing column(s): {missing}", missing=", ".join(missing))
            )
        )
        return
    keyed = [(i, k) for i, k in enumerate(columns) if k]
    colno = {k: i + 1 for i, k in reversed(keyed)}  # a key's first column
    width = max(i for i, _ in keyed) + 1
    simple = len({k for _, k in keyed}) == len(keyed)  # no key in two columns
    at = {k: i for i, k in keyed}
    i_name, i_mac, i_ip, i_unit, i_zone, i_kind, i_owner, i_os = (
        at.get(k, -1) for k in ("name", "mac", "ip", "unit", "zone", "kind", "owner", "os")
    )

    def report(line: int, problems: list[tuple[str, str]]) -> None:
        for key, message in problems:
            severity = "warning" if message.startswith("warning: ") else "error"
            diagnostics.append(
                Diagnostic(
                    name, line, colno.get(key, 1), key, message.removeprefix("warning: "), severity
                )
            )

    def one(row: list[str], line: int) -> None:
        """A row on its own: the general path, with the model's messages."""
        if simple and len(row) >= width:
            quick = _fast_fields(
                row[i_name].strip(),
                row[i_mac].strip(),
                row[i_ip].strip() if i_ip >= 0 else "",
                row[i_unit].strip(),
                row[i_zone].strip(),
                row[i_kind].strip() if i_kind >= 0 else "",
                row[i_owner].strip() if i_owner >= 0 else None,
                row[i_os].strip() if i_os >= 0 else None,
            )
            if quick is not None:
                report(line, book.add(quick, f"{name}:{line}"))
                return
        if len(row) >= width:
            values = {key: v for i, key in keyed if (v := row[i].strip())}
        else:  # a short row: the missing cells are empty
            values = {key: v for i, key in keyed if i < len(row) and (v := row[i].strip())}
        if not values and not any(cell.strip() for cell in row):
            return
        parsed = _fast_row(values)
        if parsed is None:
            try:
                parsed = _row_of(TerminalSpec.model_validate(values))
            except ValidationError as exc:
                for d in diagnostics_from(exc, SourceDoc(name, None), model=TerminalSpec):
                    col = d.path.split(".")[0]  # one CSV cell: its column is the key
                    diagnostics.append(Diagnostic(name, line, colno.get(col, 1), col, d.message))
                return
        report(line, book.add(parsed, f"{name}:{line}"))

    # Without quotes (or NULs, or a lone CR) a record is one line and its cells are what lies
    # between commas, so a chunk of lines is split by str.split and checked column by column
    # (_bulk_columns): a few C calls per column instead of a call, a dict or a model per row.
    # A chunk with anything unusual goes row by row through one() (the csv module, the
    # model's messages), as every row of a quoted CSV does.
    ncols = len(header)
    cols = (i_name, i_mac, i_ip, i_unit, i_zone, i_kind, i_owner, i_os)
    if not (
        simple
        and b'"' not in data
        and b"\0" not in data
        and data.count(b"\r") == data.count(b"\r\n")
    ):
        try:
            for row in reader:
                one(row, reader.line_num)
        except csv.Error as exc:  # a cell over the field limit, …
            diagnostics.append(
                Diagnostic(name, reader.line_num, 1, "", _("bad CSV: {exc}; fix this row", exc=exc))
            )
        return
    stream = reader_stream
    first = 2
    limit = csv.field_size_limit()
    while block := stream.read(1 << 16):  # ~1,000 rows: the working set stays in cache
        block += stream.readline()  # to the end of a line
        body = block.replace("\r\n", "\n").removesuffix("\n")
        n = body.count("\n") + 1
        if body.count(",") != n * (ncols - 1) or not _bulk_columns(
            name, body, n, ncols, first, cols, book, limit, careful
        ):
            chunk = csv.reader(io.StringIO(body))
            try:
                for k, row in enumerate(chunk):
                    one(row, first + k)
            except csv.Error as exc:  # a cell over the field limit
                line = first + chunk.line_num - 1
                diagnostics.append(
                    Diagnostic(name, line, 1, "", _("bad CSV: {exc}; fix this row", exc=exc))
                )
                return
        first += n


_NAME_CHARS = str.maketrans(dict.fromkeys(string.ascii_letters + string.digits + "_.-\n"))
_MAC_CHARS = {sep: str.maketrans(dict.fromkeys("0123456789abcdef\n" + sep)) for sep in "-:"}
_KINDS_OR_PC = {**_KINDS, "": "pc"}


_PTON4 = partial(inet_pton, AF_INET)


def _v4_column(texts: list[str], zones: list[str], book: _Terminals) -> list[int | None] | None:
    """A column of IP texts as ints (None where empty) if every one is a dotted quad inside
    its zone's pools; else None, for the row-by-row path to explain (an IPv6 address too).

    inet_pton takes what IPv4Address takes (four decimal octets, no leading zero); all of
    them packed into one byte string and read back as one array; a zone's addresses lie in
    its only pool if their least and greatest do (a pool is one contiguous range)."""
    all_given = "" not in texts
    given = texts if all_given else [t for t in texts if t]
    at = zones if all_given else [z for t, z in zip(texts, zones, strict=True) if t]
    try:
        packed = array("I", b"".join(map(_PTON4, given)))
    except (OSError, UnicodeError, ValueError):  # not a dotted quad
        return None
    if packed.itemsize != 4:  # pragma: no cover - no such platform here
        return None
    if sys.byteorder == "little":
        packed.byteswap()
    ints: list[int] = packed.tolist()
    kinds = set(at)
    for zone in kinds:
        if not book.nets[zone]:
            continue
        pools = book.v4[zone]
        mine = ints if len(kinds) == 1 else list(compress(ints, map(zone.__eq__, at)))
        if len(pools) == 1:
            mask, net = pools[0]
            if min(mine) & mask != net or max(mine) & mask != net:
                return None  # a warning to give: the row path words it
        elif not all(any(ip & m == n for m, n in pools) for ip in mine):
            return None
    if all_given:
        return ints  # type: ignore[return-value]
    values = iter(ints)
    return [next(values) if t else None for t in texts]


def _bulk_columns(
    file: str,
    body: str,
    n: int,
    ncols: int,
    first: int,
    cols: tuple[int, ...],
    book: _Terminals,
    limit: int,
    careful: bool = True,
) -> bool:
    """Add the ``n`` rows of ``body`` (lines ``first``…, ``ncols`` cells each, no quotes) if
    every one is a plain valid terminal with nothing to warn about, checked column by column;
    else add nothing and return False, for the row-by-row path to explain.

    Not ``careful``: names and MACs are checked within the chunk only, the caller checks them
    across all rows at the end (:meth:`_Terminals.unique`)."""
    i_name, i_mac, i_ip, i_unit, i_zone, i_kind, i_owner, i_os = cols
    cells = body.replace("\n", ",\n").split(",")
    # n lines of ncols cells each: every row but the first starts at a cell that starts with
    # the line break, and there are only n - 1 breaks (that "\n" goes with the cell's blanks)
    if len(cells) != n * ncols or not all(map(str.startswith, cells[ncols::ncols], repeat("\n"))):
        return False
    if len(body) >= limit and max(map(len, cells)) >= limit:  # the csv module's cell limit
        return False
    strip = str.strip
    if careful:
        book.sync()
    source, by_mac = book.source, book.by_mac
    names = list(map(strip, cells[i_name::ncols]))
    text = "\n" + "\n".join(names) + "\n"  # NAME_RE, for every name at once:
    if (
        text.translate(_NAME_CHARS)  # only letters, digits, _ . -
        or any(f"\n{c}" in text for c in "\n_.-")  # not empty, starting with a letter or digit
        or len(set(names)) != n
        or (careful and not source.keys().isdisjoint(names))
    ):
        return False
    text = "\n".join(map(strip, cells[i_mac::ncols])).lower() + "\n"  # _MAC17, for all:
    sep = text[2:3]
    if (
        len(text) != 18 * n
        or text[17::18].count("\n") != n  # each 17 characters
        or sep not in _MAC_CHARS
        or text.count(sep) != 5 * n
        or any(text[i::18].count(sep) != n for i in (2, 5, 8, 11, 14))
        or text.translate(_MAC_CHARS[sep])  # hex digits between
    ):
        return False
    macs = text.replace("-", ":").split("\n", n)[:n]
    if len(set(macs)) != n or (careful and not by_mac.keys().isdisjoint(macs)):
        return False
    zones = list(map(book.zone_index.get, map(strip, cells[i_zone::ncols])))
    units = list(map(book.unit_index.get, map(strip, cells[i_unit::ncols])))
    if None in zones or None in units:
        return False
    kinds: list[str | None] = (
        list(map(_KINDS_OR_PC.get, map(strip, cells[i_kind::ncols]))) if i_kind >= 0 else ["pc"] * n
    )
    if None in kinds:
        return False
    ips: list[int | None] = [None] * n
    if i_ip >= 0:
        found = _v4_column(list(map(strip, cells[i_ip::ncols])), zones, book)  # type: ignore[arg-type]
        if found is None:
            return False
        ips = found
    none = [None] * n
    owners = [t or None for t in map(strip, cells[i_owner::ncols])] if i_owner >= 0 else none
    oses = [t or None for t in map(strip, cells[i_os::ncols])] if i_os >= 0 else none
    wheres = [f"{file}:{line}" for line in range(first, first + n)]
    for column, values in zip(
        book.cols, (names, macs, units, zones, ips, kinds, owners, oses, wheres), strict=True
    ):
        column.extend(values)
    if careful:
        book.sync()
    return True


def _build_links(state: _State, devices: dict[str, Device]) -> list[Link]:
    links: list[Link] = []
    known = set(state.named["devices"])
    for entry in state.lists["links"]:
        spec = _validate(state, LinkSpec, entry)
        if spec is None:
            continue
        ends = []
        for key, value in (("a", spec.a), ("b", spec.b)):
            dev, port = value.split(":", 1)
            if dev not in known:
                state.error(
                    entry.doc,
                    (*entry.path, key),
                    _("unknown device {dev!r}", dev=dev) + suggest(dev, known),
                )
            ends.append((dev, port))
        links.append(Link(ends[0][0], ends[0][1], ends[1][0], ends[1][1], spec.description))
    return links


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def _build_services(
    state: _State, specs: dict[str, ServiceSpec], zones: dict[str, Zone], units: dict[str, Any]
) -> dict[str, Service]:
    """Services: zone, owner unit and host device must exist."""
    devices = state.named["devices"]
    services: dict[str, Service] = {}
    for name, spec in specs.items():
        entry = state.named["services"][name]
        ok = True
        for key, value, known, what in (
            ("zone", spec.zone, zones, "zone"),
            ("unit", spec.unit, units, "unit"),
            ("host", spec.host, devices, "device"),
        ):
            if value is not None and value not in known:
                state.error(
                    entry.doc,
                    (*entry.path, key),
                    _("unknown {what} {value!r}", what=what, value=value) + suggest(value, known),
                )
                ok = False
        if not ok:
            continue
        counts: dict[str, int] = {}
        probes: list[Probe] = []
        for probe in spec.probes:
            counts[probe.kind] = counts.get(probe.kind, 0) + 1
            n = counts[probe.kind]
            probes.append(Probe(probe.kind if n == 1 else f"{probe.kind}-{n}", probe))
        services[name] = Service(
            name=name,
            label=spec.label,
            zone=spec.zone,
            unit=spec.unit,
            site=units[spec.unit].site,
            host=spec.host,
            interval=spec.interval,
            probes=tuple(probes),
            alerts=spec.alerts,
            tags=frozenset(spec.tags),
        )
    return services


def _build_maintenance(
    state: _State, services: dict[str, Service], units: dict[str, Any], sites: dict[str, Any]
) -> list[MaintenanceWindow]:
    """Maintenance windows: every service, device, unit and site named must exist."""
    windows: list[MaintenanceWindow] = []
    tables: dict[str, tuple[Iterable[str], str]] = {
        "services": (state.named["services"], "service"),
        "devices": (state.named["devices"], "device"),
        "units": (units, "unit"),
        "sites": (sites, "site"),
    }
    for entry in state.lists["maintenance"]:
        spec = _validate(state, MaintenanceSpec, entry)
        if spec is None:
            continue
        ok = True
        for key, (known, what) in tables.items():
            for i, value in enumerate(getattr(spec, key)):
                if value not in known:
                    state.error(
                        entry.doc,
                        (*entry.path, key, i),
                        _("unknown {what} {value!r}", what=what, value=value)
                        + suggest(value, known),
                    )
                    ok = False
        if ok:
            line = entry.doc.where(entry.path)[0]
            name = spec.name or f"maintenance[{entry.path[-1]}]"
            windows.append(MaintenanceWindow(name, spec, f"{entry.doc.file}:{line}"))
    return windows
