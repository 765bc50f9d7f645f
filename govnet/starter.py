"""``govnet init DIR``: a starter inventory, the shipped playbooks and a config file.

What it writes is meant to be edited: two zones (政务内网/政务外网), one site, one unit and
one device per platform, credentials read from environment variables, and ``govnet.yaml``
pointing at them with paths relative to itself (so the folder can be moved or copied to
``/etc/govnet``). Existing files are never overwritten unless ``force``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from govnet.errors import GovnetError
from govnet.i18n import _
from govnet.settings import CONFIG_NAME, shipped_playbooks

INVENTORY_NAME = "inventory.yaml"
PLAYBOOKS_NAME = "playbooks"

CONFIG_TEXT = """\
# govnet config file (written by 'govnet init'). govnet reads the first of
#   $GOVNET_CONFIG, ~/.config/govnet/govnet.yaml, /etc/govnet/govnet.yaml
# Command-line options and GOVNET_* environment variables override these keys.
# Relative paths (and a relative sqlite:/// path) are relative to this file's folder.
inventory: inventory.yaml          # file or folder of inventory YAML
db: sqlite:///govnet.sqlite        # or postgresql+psycopg://govnet@db.example/govnet
lang: zh                           # zh | en
timezone: Asia/Shanghai            # for report periods (govnet report --period month)
playbooks: playbooks               # audit baselines, antivirus policy, alerts, AV source maps
templates: playbooks/templates     # provisioning templates
"""

INVENTORY_TEXT = """\
# Starter inventory (written by 'govnet init'): edit names, addresses and units, then
# 'govnet inventory validate'. Secrets are never written here in plain text: set
# GOVNET_SSH_PASSWORD and GOVNET_SNMP_COMMUNITY (e.g. in a systemd EnvironmentFile), or use
# file:PATH references.

zones:
  internal:
    label: {zh: 政务内网, en: Internal e-gov network}
    isolated_from: [external]
    pools: {prefixes: [10.10.0.0/16], vlans: [100-199]}
  external:
    label: {zh: 政务外网, en: External e-gov network}
    isolated_from: [internal]
    pools: {prefixes: [172.20.0.0/16], vlans: [200-299]}

sites:
  city: {label: {zh: 市本级, en: City}, level: city}

units:
  it-center:
    label: {zh: 市大数据中心, en: City Big Data Center}
    site: city
    zones: [internal, external]

credentials:
  admin:
    username: govnet
    password: env:GOVNET_SSH_PASSWORD

snmp_profiles:
  v2c:
    version: "2c"
    community: env:GOVNET_SNMP_COMMUNITY

defaults:
  credentials: admin
  snmp_profile: v2c
  site: city
  unit: it-center

groups:
  internal-net: {zone: internal, tags: [mlps-l3]}
  external-net: {zone: external, tags: [mlps-l3]}

devices:  # one per platform; host is where govnet connects (defaults to address)
  int-core-1:  {address: 10.10.0.1,  platform: huawei,     role: core,   groups: [internal-net]}
  ext-core-1:  {address: 172.20.0.1, platform: hp_comware, role: core,   groups: [external-net]}
  int-acc-1:   {address: 10.10.0.2,  platform: ruijie_os,  role: access, groups: [internal-net]}
  ext-acc-1:   {address: 172.20.0.2, platform: cisco_ios,  role: access, groups: [external-net]}
  srv-int-1:   {address: 10.10.0.10, platform: linux,      role: server, groups: [internal-net]}
  ups-1:       {address: 10.10.0.20, platform: snmp,       role: ups,    groups: [internal-net]}
"""


@dataclass(frozen=True)
class Planned:
    """One file ``govnet init`` writes: its path under DIR and where its text comes from."""

    relative: Path
    text: str | None = None  # literal text, or
    source: Path | None = None  # a shipped file copied as it is


def plan(playbooks: Path | None = None) -> list[Planned]:
    """Every file, config first, then the inventory, then the playbooks (sorted)."""
    src = playbooks or shipped_playbooks()
    files = [Planned(Path(CONFIG_NAME), CONFIG_TEXT), Planned(Path(INVENTORY_NAME), INVENTORY_TEXT)]
    for path in sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        files.append(Planned(Path(PLAYBOOKS_NAME) / path.relative_to(src), source=path))
    return files


def write_starter(directory: Path, force: bool = False) -> list[Path]:
    """Write the starter files into ``directory`` (created); the paths written.

    Without ``force``, nothing is written when any target exists (GovnetError, exit 2)."""
    files = plan()
    if directory.exists() and not directory.is_dir():
        raise GovnetError(_("{directory}: exists and is not a directory", directory=directory))
    existing = [directory / f.relative for f in files if (directory / f.relative).exists()]
    if existing and not force:
        shown = ", ".join(str(p) for p in existing[:3]) + (", …" if len(existing) > 3 else "")
        raise GovnetError(
            _(
                "{n_existing} file(s) already exist ({shown}); nothing written. Pass --force to "
                "overwrite them, or choose another directory",
                n_existing=len(existing),
                shown=shown,
            )
        )
    written: list[Path] = []
    try:
        for f in files:
            target = directory / f.relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.source is not None:
                shutil.copyfile(f.source, target)
            else:
                target.write_text(f.text or "", encoding="utf-8")
            written.append(target)
    except OSError as exc:
        raise GovnetError(
            _(
                "{path}: cannot write: {strerror}",
                path=exc.filename or directory,
                strerror=exc.strerror,
            )
        ) from exc
    return written
