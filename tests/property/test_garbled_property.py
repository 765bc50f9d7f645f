"""Garbled device output (the lab's ``garbled`` fault) never crashes a parser.

The SSH transport refuses output full of line noise (``ProtocolError``), but a line with a
few flipped characters gets through: the config reader, the table parsers and the audit's
config checks must take any amount of it and answer (or raise ``ProtocolError``), never crash.
"""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.collect.interfaces import read_config
from govnet.collect.tables import entries_from_rows, parse_rows
from govnet.core.configtext import parse_config
from govnet.errors import ProtocolError
from govnet.inventory.model import Device
from govnet.lab.faults import garble

ROOT = Path(__file__).resolve().parents[2]
SEEDS = {
    p.stem: p.read_text(encoding="utf-8")
    for p in (ROOT / "govnet/lab/seeds/defaults").glob("*.cfg")
}
OUTPUTS = ROOT / "tests" / "fixtures" / "outputs"
TABLES = [  # (platform, command, table, captured output)
    ("huawei", "display arp all", "arp", OUTPUTS / "huawei_vrp_display_arp_all.raw"),
    ("hp_comware", "display arp", "arp", OUTPUTS / "hp_comware_display_arp.raw"),
    ("hp_comware", "display mac-address", "mac", OUTPUTS / "hp_comware_display_mac-address.raw"),
    ("cisco_ios", "show ip arp", "arp", OUTPUTS / "cisco_ios_show_ip_arp.raw"),
]
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60)
rates = st.floats(min_value=0.001, max_value=1.0)


@RELAXED
@given(seed=st.integers(0, 2**32), rate=rates, platform=st.sampled_from(sorted(SEEDS)))
def test_config_readers_take_garbled_configs(seed: int, rate: float, platform: str) -> None:
    text = garble(SEEDS[platform], rate, random.Random(seed))
    parsed = parse_config(text)
    assert parsed is not None
    read_config(parsed, platform)


@RELAXED
@given(seed=st.integers(0, 2**32), rate=rates, which=st.integers(0, len(TABLES) - 1))
def test_table_parsers_take_garbled_tables(seed: int, rate: float, which: int) -> None:
    platform, command, what, path = TABLES[which]
    text = garble(path.read_text(encoding="utf-8"), rate, random.Random(seed))
    try:
        rows = parse_rows("sw1", platform, command, text)
    except ProtocolError:
        return
    device = Device(
        name="sw1", host="127.0.0.1", platform=platform, role="access", zone="z", site="s"
    )
    entries_from_rows(device, what, rows)  # type: ignore[arg-type]
