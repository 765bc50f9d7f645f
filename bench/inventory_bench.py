"""Inventory loading at city scale: load time and memory for a generated city.

    python bench/inventory_bench.py                 # 240 devices, 4,704 terminals (GBK CSV)
    python bench/inventory_bench.py --counties 12 --towns 20 --pcs 60   # ~500 devices, 30k
    python bench/inventory_bench.py --write inventory/city --counties 3 --towns 2 --pcs 8

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

COUNTY_NAMES = ["东城县", "西山县", "南湖区", "北岭县", "清河县", "云台县", "白沙县", "青峰区",
                "龙泉县", "石门县", "桃源县", "金川区"]  # fmt: skip
TOWN_NAMES = ["城关镇", "青石镇", "柳林镇", "河口镇", "新桥镇", "长安镇", "石桥乡", "杨柳乡"]
UNIT_KINDS = [("gov", "政府办"), ("fin", "财政局"), ("edu", "教育局"), ("hr", "人社局"),
              ("health", "卫健委"), ("police", "公安局")]  # fmt: skip


def _dump(path: Path, data: dict[str, Any], header: str) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(f"# {header}\n" + text, encoding="utf-8")


def generate(out: Path, counties: int, towns: int, pcs: int) -> tuple[int, int]:
    """Write a city: zones/sites/units, devices per site, terminals CSV. Returns counts."""
    out.mkdir(parents=True, exist_ok=True)
    base = {
        "zones": {
            "internal": {"label": {"zh": "政务内网", "en": "Internal e-gov network"},
                         "isolated_from": ["external", "internet"],
                         "pools": {"prefixes": ["10.0.0.0/8"], "vlans": ["100-1999"]}},
            "external": {"label": {"zh": "政务外网", "en": "External e-gov network"},
                         "isolated_from": ["internal"],
                         "pools": {"prefixes": ["172.16.0.0/12"], "vlans": ["2000-3999"]}},
            "internet": {"label": {"zh": "互联网", "en": "Internet"},
                         "isolated_from": ["internal"]},
        },
        "credentials": {"netops": {"username": "netops", "password": "env:GOVNET_NETOPS_PASSWORD"}},
        "snmp_profiles": {"v3": {"version": "3", "user": "govnet", "auth_protocol": "sha",
                                 "auth_key": "file:/etc/govnet/snmp-auth",
                                 "priv_protocol": "aes128",
                                 "priv_key": "file:/etc/govnet/snmp-priv"}},
        "defaults": {"credentials": "netops", "snmp_profile": "v3", "timeout": 20},
        "groups": {
            "huawei-access": {"platform": "huawei", "role": "access"},
            "h3c-access": {"platform": "hp_comware", "role": "access"},
            "agg": {"platform": "huawei", "role": "aggregation"},
            "ext-agg": {"platform": "cisco_ios", "role": "aggregation"},
        },
    }  # fmt: skip
    _dump(out / "00-base.yaml", base, "Zones, credentials (by reference only), groups")
    sites: dict[str, Any] = {"city": {"label": {"zh": "市本级", "en": "City"}, "level": "city"}}
    units: dict[str, Any] = {}
    devices: dict[str, Any] = {}
    rows: list[list[str]] = []
    n_site = 0
    for c in range(counties):
        cname = f"county-{c + 1:02d}"
        sites[cname] = {"label": {"zh": COUNTY_NAMES[c % len(COUNTY_NAMES)]}, "level": "county",
                        "parent": "city"}  # fmt: skip
        site_list = [(cname, COUNTY_NAMES[c % len(COUNTY_NAMES)])]
        for t in range(towns):
            tname = f"{cname}-town-{t + 1:02d}"
            sites[tname] = {"label": {"zh": TOWN_NAMES[t % len(TOWN_NAMES)]}, "level": "town",
                            "parent": cname}  # fmt: skip
            site_list.append((tname, TOWN_NAMES[t % len(TOWN_NAMES)]))
        for site, zh in site_list:
            n_site += 1
            kinds = UNIT_KINDS if site == cname else UNIT_KINDS[:1]
            for key, kzh in kinds:
                unit = f"{site}-{key}"
                units[unit] = {"label": {"zh": f"{zh}{kzh}"}, "site": site,
                               "zones": ["internal", "external"]}  # fmt: skip
            a, b = divmod(n_site, 250)
            devices[f"int-acc-{site}"] = {"address": f"10.{a + 1}.{b}.2", "zone": "internal",
                                          "site": site, "unit": f"{site}-gov",
                                          "groups": ["huawei-access"]}  # fmt: skip
            devices[f"ext-acc-{site}"] = {"address": f"172.{16 + a}.{b}.2", "zone": "external",
                                          "site": site, "unit": f"{site}-gov",
                                          "groups": ["h3c-access"]}  # fmt: skip
            if site == cname:
                devices[f"int-agg-{site}"] = {"address": f"10.{a + 1}.{b}.1", "zone": "internal",
                                              "site": site, "groups": ["agg"]}  # fmt: skip
                devices[f"ext-agg-{site}"] = {"address": f"172.{16 + a}.{b}.1",
                                              "zone": "external", "site": site,
                                              "groups": ["ext-agg"]}  # fmt: skip
            for u, (key, _) in enumerate(kinds):
                for p in range(pcs):
                    i = len(rows)
                    zone, net = (
                        ("政务内网", f"10.{a + 1}.{b}")
                        if p % 3
                        else ("政务外网", f"172.{16 + a}.{b}")
                    )
                    rows.append([f"pc-{site}-{key}-{p:03d}",
                                 f"00-1A-2B-{i >> 16 & 255:02X}-{i >> 8 & 255:02X}-{i & 255:02X}",
                                 f"{net}.{(u * pcs + p) % 250 + 3}" if (u * pcs + p) < 250 else "",
                                 f"{site}-{key}", zone, "pc", f"用户{i}"])  # fmt: skip
    _dump(out / "10-sites.yaml", {"sites": sites, "units": units}, "City → counties → towns; units")
    _dump(out / "20-devices.yaml", {"devices": devices}, "Switches; values inherited from groups")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["名称", "MAC地址", "IP地址", "单位", "所属网络", "类型", "使用人"])
    writer.writerows(rows)
    (out / "terminals.csv").write_bytes(buf.getvalue().encode("gbk"))
    _dump(out / "30-terminals.yaml", {"terminals_csv": ["terminals.csv"]},
          "Terminals exported from the asset spreadsheet (GBK, Chinese headers)")  # fmt: skip
    return len(devices), len(rows)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    parser.add_argument("--counties", type=int, default=12)
    parser.add_argument("--towns", type=int, default=8)
    parser.add_argument("--pcs", type=int, default=28)
    args = parser.parse_args()
    if args.write:
        n_dev, n_term = generate(args.write, args.counties, args.towns, args.pcs)
        print(f"wrote {args.write}: {n_dev} devices, {n_term} terminals")
        return 0
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
