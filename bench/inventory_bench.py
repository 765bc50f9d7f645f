"""Inventory loading at province scale (issue 21): cold, warm (cached) and audit start-up.

    python bench/inventory_bench.py                  # 50,000 devices, 300,000 terminals
    python bench/inventory_bench.py --scale 0.1      # a tenth of it, for a quick look
    python bench/inventory_bench.py --scale 2        # the largest size measured (README)
    python bench/inventory_bench.py --city           # the old city figures (GBK CSV)
    python bench/inventory_bench.py --write inventory/city --counties 3 --towns 2 --pcs 8

The province (seeded, so figures compare across runs): one YAML with 20 cities, 100 counties,
500 units and 50,000 devices, and a UTF-8 terminals CSV with 300,000 rows. Each figure comes
from a fresh child process: CPU and wall seconds of ``load_inventory`` (with ``freeze=True``, as
commands load it) and its peak RSS; then ``govnet audit --limit sw-00001 --from-dir`` end to
end (imports included), warm and ``--no-cache``.

Third round: this code and the code before the round (git ``df1a54f``, run as
``PYTHONPATH=<its checkout> python bench/inventory_bench.py`` from outside the work tree)
interleaved, two runs each, on the shared 2-core build machine (CPU seconds grow ~20-40 % with
its load: compare within a block only).

    2026-12-06 07:17-07:18 UTC, load average 4-5 (it was 3-6 for the second-round figures)
    scale 1 (50,000 devices, 300,000 terminals)   CPU s, now   before     peak RSS now / before
      cold load (no cache)                          2.23-2.33    3.47-3.90  308 / 343-346 MiB
      first load (fills the cache)                  2.78-3.08    3.43-4.37  323 / 350-356 MiB
      warm load (cached)                            0.26-0.35    0.46-0.48  161 / 277 MiB
      warm load, every terminal made                1.22-1.31    1.89-2.46  308 / 304 MiB
      warm load, terminals not used                 0.18         0.29-0.41  154 / 158 MiB
      cold load, terminals not used                 1.77-1.78    2.42-3.03  211 / 333 MiB
      govnet audit --limit ONE --from-dir, warm     0.79-0.99    1.02-1.45  (end to end,
      govnet audit --limit ONE --from-dir, cold     2.30-2.65    2.73-4.51   imports included)

    2026-12-06 07:05-07:09 UTC, load average 9-11
      cold load (no cache)                          2.51-2.66    3.58-4.12  307 / 342-348 MiB
      first load (fills the cache)                  3.24-3.25    4.04-4.55  320 / 353-357 MiB
      warm load (cached)                            0.31-0.33    0.50-0.58  161 / 277 MiB
      warm load, every terminal made                1.33-1.49    2.09-2.21  326 / 304 MiB
      warm load, terminals not used                 0.17-0.25    0.27-0.33  154 / 158 MiB
      cold load, terminals not used                 1.56-2.58    2.97-3.70  210 / 333 MiB
      govnet audit --limit ONE --from-dir, warm     0.75-1.01    1.33-1.72
      govnet audit --limit ONE --from-dir, cold     2.11-3.39    3.60-4.57
    ("every terminal made": 326 MiB there, before each Terminal took its dataclass __init__
    again, which shares dict keys: 308 MiB since.)
    Cold and warm alone, four interleaved child processes each (07:03 and 07:13 UTC, load
    average 9-12), median (range): cold 2.64 (2.36-2.78) and 2.90 (2.53-3.27) CPU-s against
    3.97 (3.59-4.22) and 4.62 (4.59-5.71); warm 0.28-0.30 against 0.49-0.56: now is ~0.6-0.7
    of before in the same minutes.

Second round, 2026-12-06 02:08 UTC, load average 3-6 (the code before the third round):
cold 3.0-3.4 CPU-s / 335 MiB, warm 0.38-0.41 s / 255 MiB, audit --limit ONE warm 0.67-0.99 s,
cold 2.5-3.3 s; scale 2 (100,000 devices, 600,000 terminals, load average ~2): cold 7.0 s /
620 MiB, warm 0.85 s / 508 MiB, audit --limit ONE warm 0.9 s.

With ``--write DIR`` it writes a realistic example city inventory (several YAML files and a GBK
terminals CSV with Chinese headers) instead of measuring; that is how ``inventory/city/`` was
made. Figures only, no asserts.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml

COUNTY_NAMES = [
    "东城县",
    "西山县",
    "南湖区",
    "北岭县",
    "清河县",
    "云台县",
    "白沙县",
    "青峰区",
    "龙泉县",
    "石门县",
    "桃源县",
    "金川区",
]
TOWN_NAMES = ["城关镇", "青石镇", "柳林镇", "河口镇", "新桥镇", "长安镇", "石桥乡", "杨柳乡"]
UNIT_KINDS = [
    ("gov", "政府办"),
    ("fin", "财政局"),
    ("edu", "教育局"),
    ("hr", "人社局"),
    ("health", "卫健委"),
    ("police", "公安局"),
]


def _dump(path: Path, data: dict[str, Any], header: str) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(f"# {header}\n" + text, encoding="utf-8")


def generate(out: Path, counties: int, towns: int, pcs: int) -> tuple[int, int]:
    """Write a city: zones/sites/units, devices per site, terminals CSV. Returns counts."""
    out.mkdir(parents=True, exist_ok=True)
    base = {
        "zones": {
            "internal": {
                "label": {"zh": "政务内网", "en": "Internal e-gov network"},
                "isolated_from": ["external", "internet"],
                "pools": {"prefixes": ["10.0.0.0/8"], "vlans": ["100-1999"]},
            },
            "external": {
                "label": {"zh": "政务外网", "en": "External e-gov network"},
                "isolated_from": ["internal"],
                "pools": {"prefixes": ["172.16.0.0/12"], "vlans": ["2000-3999"]},
            },
            "internet": {
                "label": {"zh": "互联网", "en": "Internet"},
                "isolated_from": ["internal"],
            },
        },
        "credentials": {"netops": {"username": "netops", "password": "env:GOVNET_NETOPS_PASSWORD"}},
        "snmp_profiles": {
            "v3": {
                "version": "3",
                "user": "govnet",
                "auth_protocol": "sha",
                "auth_key": "file:/etc/govnet/snmp-auth",
                "priv_protocol": "aes128",
                "priv_key": "file:/etc/govnet/snmp-priv",
            }
        },
        "defaults": {"credentials": "netops", "snmp_profile": "v3", "timeout": 20},
        "groups": {
            "huawei-access": {"platform": "huawei", "role": "access"},
            "h3c-access": {"platform": "hp_comware", "role": "access"},
            "agg": {"platform": "huawei", "role": "aggregation"},
            "ext-agg": {"platform": "cisco_ios", "role": "aggregation"},
        },
    }
    _dump(out / "00-base.yaml", base, "Zones, credentials (by reference only), groups")
    sites: dict[str, Any] = {"city": {"label": {"zh": "市本级", "en": "City"}, "level": "city"}}
    units: dict[str, Any] = {}
    devices: dict[str, Any] = {}
    rows: list[list[str]] = []
    n_site = 0
    for c in range(counties):
        cname = f"county-{c + 1:02d}"
        sites[cname] = {
            "label": {"zh": COUNTY_NAMES[c % len(COUNTY_NAMES)]},
            "level": "county",
            "parent": "city",
        }
        site_list = [(cname, COUNTY_NAMES[c % len(COUNTY_NAMES)])]
        for t in range(towns):
            tname = f"{cname}-town-{t + 1:02d}"
            sites[tname] = {
                "label": {"zh": TOWN_NAMES[t % len(TOWN_NAMES)]},
                "level": "town",
                "parent": cname,
            }
            site_list.append((tname, TOWN_NAMES[t % len(TOWN_NAMES)]))
        for site, zh in site_list:
            n_site += 1
            kinds = UNIT_KINDS if site == cname else UNIT_KINDS[:1]
            for key, kzh in kinds:
                unit = f"{site}-{key}"
                units[unit] = {
                    "label": {"zh": f"{zh}{kzh}"},
                    "site": site,
                    "zones": ["internal", "external"],
                }
            a, b = divmod(n_site, 250)
            devices[f"int-acc-{site}"] = {
                "address": f"10.{a + 1}.{b}.2",
                "zone": "internal",
                "site": site,
                "unit": f"{site}-gov",
                "groups": ["huawei-access"],
            }
            devices[f"ext-acc-{site}"] = {
                "address": f"172.{16 + a}.{b}.2",
                "zone": "external",
                "site": site,
                "unit": f"{site}-gov",
                "groups": ["h3c-access"],
            }
            if site == cname:
                devices[f"int-agg-{site}"] = {
                    "address": f"10.{a + 1}.{b}.1",
                    "zone": "internal",
                    "site": site,
                    "groups": ["agg"],
                }
                devices[f"ext-agg-{site}"] = {
                    "address": f"172.{16 + a}.{b}.1",
                    "zone": "external",
                    "site": site,
                    "groups": ["ext-agg"],
                }
            for u, (key, _) in enumerate(kinds):
                for p in range(pcs):
                    i = len(rows)
                    zone, net = (
                        ("政务内网", f"10.{a + 1}.{b}")
                        if p % 3
                        else ("政务外网", f"172.{16 + a}.{b}")
                    )
                    rows.append(
                        [
                            f"pc-{site}-{key}-{p:03d}",
                            f"00-1A-2B-{i >> 16 & 255:02X}-{i >> 8 & 255:02X}-{i & 255:02X}",
                            f"{net}.{(u * pcs + p) % 250 + 3}" if (u * pcs + p) < 250 else "",
                            f"{site}-{key}",
                            zone,
                            "pc",
                            f"用户{i}",
                        ]
                    )
    _dump(out / "10-sites.yaml", {"sites": sites, "units": units}, "City → counties → towns; units")
    _dump(out / "20-devices.yaml", {"devices": devices}, "Switches; values inherited from groups")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["名称", "MAC地址", "IP地址", "单位", "所属网络", "类型", "使用人"])
    writer.writerows(rows)
    (out / "terminals.csv").write_bytes(buf.getvalue().encode("gbk"))
    _dump(
        out / "30-terminals.yaml",
        {"terminals_csv": ["terminals.csv"]},
        "Terminals exported from the asset spreadsheet (GBK, Chinese headers)",
    )
    return len(devices), len(rows)


PROVINCE_YAML_HEAD = """# A generated province (bench/inventory_bench.py): YAML + terminals CSV
zones:
  internal: {label: {zh: 政务内网, en: Internal e-gov network}, isolated_from: [external, internet],
             pools: {prefixes: [10.0.0.0/8], vlans: [100-1999]}}
  external: {label: {zh: 政务外网, en: External e-gov network}, isolated_from: [internal],
             pools: {prefixes: [172.16.0.0/12], vlans: [2000-3999]}}
  internet: {label: {zh: 互联网, en: Internet}, isolated_from: [internal]}
credentials:
  netops: {username: netops, password: env:GOVNET_NETOPS_PASSWORD}
snmp_profiles:
  v3: {version: "3", user: govnet, auth_protocol: sha, auth_key: file:/etc/govnet/snmp-auth,
       priv_protocol: aes128, priv_key: file:/etc/govnet/snmp-priv}
defaults: {credentials: netops, snmp_profile: v3, timeout: 20}
groups:
  huawei-access: {platform: huawei, role: access}
  h3c-access: {platform: hp_comware, role: access}
  agg: {platform: huawei, role: aggregation}
  ext-agg: {platform: cisco_ios, role: aggregation}
terminals_csv: [terminals.csv]
"""


def generate_province(
    out: Path,
    cities: int = 20,
    counties: int = 100,
    units: int = 500,
    devices: int = 50_000,
    terminals: int = 300_000,
    seed: int = 21,
) -> tuple[int, int]:
    """Issue 21's province: one YAML (sites, units, devices) and one UTF-8 terminals CSV.

    Seeded: the same arguments write the same bytes, so figures compare across runs.
    """
    import random

    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        PROVINCE_YAML_HEAD,
        "sites:\n  province: {label: {zh: 本省, en: Province}, level: province}\n",
    ]
    for c in range(cities):
        lines.append(f"  city-{c:02d}: {{label: {{zh: 市{c}}}, level: city, parent: province}}\n")
    for k in range(counties):
        lines.append(
            f"  county-{k:03d}: {{label: {{zh: 县{k}}}, level: county, "
            f"parent: city-{k % cities:02d}}}\n"
        )
    lines.append("units:\n")
    for u in range(units):
        lines.append(
            f"  unit-{u:03d}: {{label: {{zh: 单位{u}}}, site: county-{u % counties:03d}, "
            "zones: [internal, external]}\n"
        )
    lines.append("devices:\n")
    groups = ("huawei-access", "h3c-access", "agg", "ext-agg")
    for d in range(devices):
        u = d % units
        internal = rng.random() < 0.7
        zone, addr = (
            ("internal", f"10.{d >> 16}.{d >> 8 & 255}.{d & 255}")
            if internal
            else ("external", f"172.{16 + (d >> 16)}.{d >> 8 & 255}.{d & 255}")
        )
        group = groups[(0 if internal else 1) + (2 if d % 50 == 0 else 0)]
        lines.append(
            f"  sw-{d:05d}: {{address: {addr}, zone: {zone}, site: county-{u % counties:03d}, "
            f"unit: unit-{u:03d}, groups: [{group}]}}\n"
        )
    (out / "province.yaml").write_text("".join(lines), encoding="utf-8")
    rows = ["名称,MAC地址,IP地址,单位,所属网络,类型,使用人\n"]
    kinds = ("pc", "pc", "pc", "laptop", "printer")
    for t in range(terminals):
        internal = rng.random() < 0.6
        ip = (
            f"10.{128 + (t >> 16)}.{t >> 8 & 255}.{t & 255}"
            if internal
            else f"172.{24 + (t >> 16)}.{t >> 8 & 255}.{t & 255}"
        )
        mac = f"00-1A-2B-{t >> 16 & 255:02X}-{t >> 8 & 255:02X}-{t & 255:02X}"
        rows.append(
            f"pc-{t:06d},{mac},{ip},unit-{t % units:03d},{'政务内网' if internal else '政务外网'},"
            f"{rng.choice(kinds)},用户{t}\n"
        )
    (out / "terminals.csv").write_text("".join(rows), encoding="utf-8")
    return devices, terminals


CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from pathlib import Path
from govnet.inventory import load_inventory
t1 = time.perf_counter()
c1 = time.process_time()
options = json.loads(sys.argv[2])
touch = options.pop("touch_terminals", True)
inv = load_inventory(Path(sys.argv[1]), lazy_terminals=True, freeze=True, **options)
n_terminals = len(inv.terminals) if touch else None
if touch == "all":  # every Terminal object made, every column read
    n_terminals = sum(1 for t in inv.terminals.values() if t.mac)
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "devices": len(inv.devices),
                  "terminals": n_terminals, "cpu": time.process_time() - c1,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(folder: Path, **options: Any) -> dict[str, Any]:
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), json.dumps(options)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def province(args: argparse.Namespace) -> int:
    import os
    import resource
    import subprocess

    s = args.scale
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "province"
        t0 = time.perf_counter()
        n_dev, n_term = generate_province(
            folder, devices=int(50_000 * s), terminals=int(300_000 * s), seed=args.seed
        )
        gen = time.perf_counter() - t0
        size_yaml = (folder / "province.yaml").stat().st_size / 1e6
        size_csv = (folder / "terminals.csv").stat().st_size / 1e6
        print(
            f"province: {n_dev:,} devices, {n_term:,} terminals; YAML {size_yaml:.1f} MB, "
            f"CSV {size_csv:.1f} MB (generated in {gen:.1f} s)"
        )
        env = dict(os.environ, GOVNET_CACHE_DIR=str(Path(tmp) / "cache"))
        os.environ.update(env)
        print(
            "(CPU: the process's own CPU seconds, what one idle core takes; wall time grows "
            "with the machine's load)"
        )
        for label, options in (
            ("cold load (no cache)", {"cache": False}),
            ("first load (fills the cache)", {"cache": True}),
            ("warm load (cached)", {"cache": True}),
            ("warm load, every terminal made", {"cache": True, "touch_terminals": "all"}),
            ("warm load, terminals not used", {"cache": True, "touch_terminals": False}),
            ("cold load, terminals not used", {"cache": False, "touch_terminals": False}),
        ):
            r = _child(folder, **options)
            print(
                f"{label + ':':32} CPU {r['cpu']:5.2f} s  wall {r['load']:5.2f} s  "
                f"peak RSS {r['rss_mib']:4.0f} MiB  (+ imports {r['import']:.2f} s)"
            )
        configs = Path(tmp) / "configs"
        configs.mkdir()
        (configs / "sw-00001.cfg").write_text("sysname sw-00001\nstelnet server enable\n")
        for label, extra in (("warm", []), ("cold", ["--no-cache"])):
            cmd = [
                str(Path(sys.executable).parent / "govnet"),
                "-q",
                "-i",
                str(folder),
                *extra,
                "audit",
                "--limit",
                "sw-00001",
                "--from-dir",
                str(configs),
                "--no-store",
                "-f",
                "json",
                "-o",
                os.devnull,
            ]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            print(
                f"govnet audit --limit sw-00001 --from-dir ({label}): CPU {cpu:.2f} s, "
                f"wall {wall:.2f} s end to end, exit {proc.returncode}"
            )
            if proc.returncode not in (0, 1):
                print(proc.stderr.strip()[-500:])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    parser.add_argument("--city", action="store_true", help="the old city-size figures")
    parser.add_argument("--scale", type=float, default=1.0, help="province size factor")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--counties", type=int, default=12)
    parser.add_argument("--towns", type=int, default=8)
    parser.add_argument("--pcs", type=int, default=28)
    args = parser.parse_args()
    if args.write:
        n_dev, n_term = generate(args.write, args.counties, args.towns, args.pcs)
        print(f"wrote {args.write}: {n_dev} devices, {n_term} terminals")
        return 0
    if not args.city:
        return province(args)
    from govnet.inventory import load_inventory

    with tempfile.TemporaryDirectory() as tmp:
        n_dev, n_term = generate(Path(tmp), args.counties, args.towns, args.pcs)
        t0 = time.perf_counter()
        inv = load_inventory(Path(tmp))
        elapsed = time.perf_counter() - t0
        tracemalloc.start()  # a second load, traced: tracing slows loading ~3x
        load_inventory(Path(tmp))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(inv.terminals) == n_term
    print(f"inventory: {n_dev} devices, {n_term} terminals (GBK CSV), {len(inv.units)} units")
    print(f"load + validate: {elapsed:.2f} s  ({n_term / elapsed:,.0f} terminals/s)")
    print(f"peak traced memory while loading: {peak / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
