"""The compliance controls rules refer to (govnet/data/controls.yaml): id → labels and clause.

Ids are stable: reports and history key on them, so they are never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from govnet.core.vocabulary import Text


@dataclass(frozen=True)
class Control:
    id: str
    label: Text  # what the control requires, zh and en
    clause: str  # GB/T 28448-2019 test unit, e.g. L3-CES1-03

    @property
    def en(self) -> str:
        return self.label.en or self.id

    @property
    def zh(self) -> str:
        return self.label.zh or self.id


@cache
def controls() -> dict[str, Control]:
    """Every known control by id (read once from the package data)."""
    text = resources.files("govnet").joinpath("data/controls.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)["controls"]
    return {
        cid: Control(cid, Text(en=row["en"], zh=row["zh"]), str(row["clause"]))
        for cid, row in raw.items()
    }


def get_control(cid: str) -> Control | None:
    return controls().get(cid)
