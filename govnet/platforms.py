"""The platform table: vendor differences as data (govnet/data/platforms.yaml)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml
from pydantic import Field

from govnet.validation import Strict
from govnet.yamlsrc import SAFE_LOADER


class Platform(Strict):
    name: str
    label: str
    netmiko: str | None
    templates: str | None
    hier_config: str | None
    comment: str
    commands: dict[str, str]
    config_enter: str | None
    config_exit: str | None
    logout: str = "exit"
    save: str | None
    errors: str | None = None  # regex matching the vendor's error text in command output
    volatile: list[str] = Field(default_factory=list)

    def command(self, what: str) -> str | None:
        """The command that fetches ``what`` (running_config, arp, mac, …) or None."""
        return self.commands.get(what)

    @property
    def volatile_re(self) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{v})" for v in self.volatile)) if self.volatile else None


@cache
def platforms() -> dict[str, Platform]:
    text = resources.files("govnet").joinpath("data/platforms.yaml").read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=SAFE_LOADER)["platforms"]  # libyaml's: ~10x faster at start-up
    return {name: Platform(name=name, **row) for name, row in raw.items()}


def get_platform(name: str) -> Platform:
    try:
        return platforms()[name]
    except KeyError:
        known = ", ".join(sorted(platforms()))
        raise KeyError(f"unknown platform {name!r} (known: {known})") from None


PLATFORM_NAMES: tuple[str, ...] = tuple(platforms())
