"""``govnet hostkeys list|scan|accept|forget``: the SSH host keys govnet trusts.

Keys live in govnet's own known_hosts file (beside the store; see
govnet/transport/hostkeys.py for the file, the system files and the policies).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govnet.cli.common import App, exit_with, filter_options, filters_from, format_option, pass_app
from govnet.errors import ExitCode, GovnetError, TransportError
from govnet.i18n import _, tr
from govnet.inventory import select_devices
from govnet.inventory.model import Device
from govnet.report.tabular import Column, emit_rows, to_json
from govnet.transport.hostkeys import (
    HostKey,
    HostKeyError,
    KnownHosts,
    assess,
    host_pattern,
    refusal,
)

LIST_COLUMNS = [
    Column("device", "Device"),
    Column("host", "Host:port"),
    Column("type", "Key type"),
    Column("fingerprint", "Fingerprint"),
    Column("first_seen", "First seen"),
    Column("via", "Via"),
]
SCAN_COLUMNS = [
    Column("device", "Device"),
    Column("host", "Host:port"),
    Column("policy", "Policy"),
    Column("status", "Result"),
    Column("fingerprint", "Presented key"),
    Column("message", "Message"),
]
ACCEPT_COLUMNS = [
    Column("device", "Device"),
    Column("host", "Host:port"),
    Column("fingerprint", "Accepted key"),
    Column("replaced", "Replaced"),
]


def _ssh_devices(devices: list[Device]) -> list[Device]:
    from govnet.platforms import platforms

    return [d for d in devices if platforms()[d.platform].netmiko and d.credentials]


def _bastions(devices: Any) -> dict[str, Device]:
    """The bastions ``devices`` are reached through, as devices of their own: their keys are
    recorded under their names and scanned or accepted the same way, each through the hops
    before it in its chain (the first hop directly)."""
    out: dict[str, Device] = {}
    for d in devices:
        for i, hop in enumerate(d.jump):
            if hop.name not in out:
                out[hop.name] = Device(
                    name=hop.name,
                    host=hop.host,
                    port=hop.port,
                    platform="linux",
                    role="bastion",
                    zone=d.zone,
                    site=d.site,
                    credentials=hop.credentials,
                    timeout=hop.timeout,
                    host_key_policy=hop.host_key_policy,
                    jump=d.jump[:i],
                )
    return out


def _named(app: App, names: tuple[str, ...]) -> list[Device]:
    inv = app.inventory()
    known = {**_bastions(inv.devices.values()), **inv.devices}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GovnetError(
            _("{repr}: no such device in the inventory", repr=", ".join(map(repr, unknown)))
        )
    devices = [known[n] for n in names]
    no_ssh = [d.name for d in devices if not _ssh_devices([d])]
    if no_ssh:
        raise GovnetError(
            _("{no_ssh}: no SSH platform or credentials in the inventory", no_ssh=", ".join(no_ssh))
        )
    return devices


def _where(d: Device) -> str:
    return f"{d.host}:{d.port}"


@click.group()
def hostkeys() -> None:
    """SSH host keys govnet trusts: checked before any password is sent.

    host_key_policy (inventory defaults, group or device): strict, tofu (default) or
    accept-new. A changed key stops every command for that device (exit 3) until
    'govnet hostkeys accept DEVICE'."""


@hostkeys.command("list")
@filter_options
@format_option("table", "json", "csv")
@pass_app
def list_cmd(app: App, /, fmt: str, output: Path | None, **kwargs: Any) -> None:
    """The keys in govnet's known_hosts file (filters: only those devices' keys)."""
    store = app.host_keys()
    filters = filters_from(kwargs)
    by_name: dict[str, str] = {}
    wanted: set[str] | None = None
    try:
        inv = app.inventory()
        selected = select_devices(inv, filters)
        for d in inv.devices.values():
            by_name.setdefault(host_pattern(d.host, d.port), d.name)
        if any(getattr(filters, k) for k in filters.__dataclass_fields__):
            wanted = {host_pattern(d.host, d.port) for d in selected}
    except GovnetError:
        if any(getattr(filters, k) for k in filters.__dataclass_fields__):
            raise
    rows: list[dict[str, Any]] = []
    for e in store.own():
        meta = e.meta()
        if wanted is not None and e.hosts not in wanted:
            continue
        rows.append(
            {
                "device": by_name.get(e.hosts) or meta.get("device", ""),
                "host": e.hosts,
                "type": e.key.keytype,
                "fingerprint": e.key.fingerprint,
                "first_seen": meta.get("first-seen", ""),
                "via": meta.get("via", ""),
                "line": e.line,
            }
        )
    title = tr(app.lang, "host keys ({path})", path=store.path)
    text = emit_rows(
        app.console,
        rows,
        LIST_COLUMNS,
        fmt,
        app.lang,
        title,
        json_data={"file": str(store.path), "keys": rows},
    )
    if text is not None:
        app.write(text, output)


def _scan_one(store: KnownHosts, d: Device, timeout: float | None) -> dict[str, Any]:
    from govnet.transport.ssh import fetch_host_key

    row: dict[str, Any] = {"device": d.name, "host": _where(d), "policy": d.host_key_policy}
    try:
        key = fetch_host_key(d, store, timeout or 0)
    except TransportError as exc:
        return {**row, "status": "unreachable", "fingerprint": "", "message": exc.message}
    row["fingerprint"] = key.fingerprint
    row["type"] = key.keytype
    verdict = assess(store.lookup(d.host, d.port), key, d.host_key_policy)
    if verdict.status == "new" and d.host_key_policy != "strict":
        if store.learn(d.name, d.host, d.port, key, d.host_key_policy):
            return {**row, "status": "learned", "message": f"recorded in {store.path}"}
        verdict = assess(store.lookup(d.host, d.port), key, d.host_key_policy)
    if verdict.status == "known":
        return {**row, "status": "known", "message": verdict.matched[0].where}
    status = "unknown" if verdict.status == "new" else verdict.status
    message = refusal(d.name, d.host, d.port, verdict, store.path)
    return {**row, "status": status, "message": message}


@hostkeys.command()
@filter_options
@click.option("--workers", default=16, show_default=True, help="Devices scanned at once.")
@click.option("--timeout", type=float, help="Connect timeout per device (s) [inventory value].")
@format_option("table", "json", "csv")
@pass_app
def scan(
    app: App,
    /,
    workers: int,
    timeout: float | None,
    fmt: str,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Fetch each device's host key (key exchange only, no login) and apply its policy:
    known, learned (tofu, accept-new), unknown (strict: not recorded), changed.

    Devices behind bastions are reached through them: each bastion's own key is scanned
    first (a row of its own), then its login carries the devices' key exchanges.

    Exit 3 if a key changed or a device could not be reached, 1 if a key is unknown."""
    from govnet.collect.fleet import run_fleet

    store = app.host_keys()
    devices = _ssh_devices(select_devices(app.inventory(), filters_from(kwargs)))
    if not devices:
        raise GovnetError(_("no SSH device matches the filters"))
    # the bastions first, a chain's first hop before the next: a device behind them is
    # reached only through hops whose keys were checked (and learned, by their policy)
    bastions = list(_bastions(devices).values())
    waves = [
        [b for b in bastions if len(b.jump) == n] for n in range(max(len(d.jump) for d in devices))
    ]
    waves.append(devices)
    rows: list[dict[str, Any]] = []
    total = len(bastions) + len(devices)
    with app.progress(total, tr(app.lang, "scanning")) as advance:
        for wave in waves:
            fleet = run_fleet(wave, lambda d: _scan_one(store, d, timeout), workers, advance)
            rows += [r.result for r in fleet if r.result is not None]
            rows += [
                {"device": r.device, "status": "error", "message": str(r.error)}
                for r in fleet
                if r.error is not None
            ]
    title = tr(app.lang, "host key scan")
    text = emit_rows(
        app.console,
        rows,
        SCAN_COLUMNS,
        fmt,
        app.lang,
        title,
        json_data={"file": str(store.path), "results": rows},
    )
    if text is not None:
        app.write(text, output)
    statuses = {r["status"] for r in rows}
    if statuses & {"changed", "revoked", "unreachable", "error"}:
        exit_with(ExitCode.UNREACHABLE)
    if "unknown" in statuses:
        exit_with(ExitCode.FINDINGS)


@hostkeys.command()
@click.argument("devices", nargs=-1, required=True)
@click.option(
    "--expect",
    metavar="SHA256:…",
    help="Accept only if the device presents this fingerprint (read on its console).",
)
@click.option("--timeout", type=float, help="Connect timeout (s) [inventory value].")
@format_option("table", "json")
@pass_app
def accept(
    app: App,
    devices: tuple[str, ...],
    expect: str | None,
    timeout: float | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Trust the key each DEVICE presents now, replacing what govnet had for it (after a
    legitimate change: device replaced, key regenerated). Compare the fingerprint shown
    with the device's own ('display ssh server-key', 'show crypto key mypubkey')."""
    from govnet.transport.ssh import fetch_host_key

    store = app.host_keys()
    targets = _named(app, devices)
    if expect and len(targets) > 1:
        raise click.UsageError(_("--expect names one key: give one DEVICE with it"))
    rows: list[dict[str, Any]] = []
    problems: list[TransportError] = []
    for d in targets:
        try:
            key: HostKey = fetch_host_key(d, store, timeout or 0)
        except TransportError as exc:  # the others are still accepted
            problems.append(exc)
            continue
        if expect and key.fingerprint != expect.strip():
            raise HostKeyError(
                d.name,
                _(
                    "{d} presents {key}, not {expect}; nothing recorded. Is this the device "
                    "whose console you read?",
                    d=_where(d),
                    key=key,
                    expect=expect,
                ),
            )
        removed = store.record(d.name, d.host, d.port, key, via="accept", replace=True)
        replaced = [e.key.fingerprint for e in removed if e.key != key]
        rows.append(
            {
                "device": d.name,
                "host": _where(d),
                "type": key.keytype,
                "fingerprint": key.fingerprint,
                "replaced": replaced,
            }
        )
        verdict = assess(store.lookup(d.host, d.port), key, d.host_key_policy)
        if verdict.status != "known":  # a system known_hosts file still disagrees
            problems.append(
                HostKeyError(d.name, refusal(d.name, d.host, d.port, verdict, store.path))
            )
    if fmt == "json":
        app.write(to_json({"file": str(store.path), "accepted": rows}), output)
    else:
        for r in rows:
            was = ", ".join(r["replaced"]) or tr(app.lang, "nothing else")
            app.console.print(
                tr(
                    app.lang,
                    "{device}: trusting {type} {fingerprint} (replaced: {was})",
                    device=r["device"],
                    type=r["type"],
                    fingerprint=r["fingerprint"],
                    was=was,
                ),
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if problems:
        if len(problems) > 1:
            for p in problems[:-1]:
                app.err.print(f"govnet: {p}", style="red", markup=False, soft_wrap=True)
        raise problems[-1]


@hostkeys.command()
@click.argument("devices", nargs=-1, required=True)
@pass_app
def forget(app: App, devices: tuple[str, ...]) -> None:
    """Remove what govnet recorded for each DEVICE (tofu learns it again on next contact;
    strict refuses it until 'accept')."""
    store = app.host_keys()
    for d in _named(app, devices):
        removed = store.forget(d.host, d.port)
        keys = ", ".join(e.key.fingerprint for e in removed)
        if removed:
            said = tr(
                app.lang,
                "{name}: forgot {n} key(s) for {where}: {keys}",
                name=d.name,
                n=len(removed),
                where=_where(d),
                keys=keys,
            )
        else:
            said = tr(
                app.lang,
                "{name}: nothing on record for {where} in {path}",
                name=d.name,
                where=_where(d),
                path=store.path,
            )
        app.console.print(said, markup=False, highlight=False, soft_wrap=True)
