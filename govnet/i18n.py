"""zh/en labels. Identifiers stay ASCII; what people read comes in their language."""

from __future__ import annotations

import os
from typing import Literal

Lang = Literal["zh", "en"]


def default_lang() -> Lang:
    """From GOVNET_LANG, then LC_ALL / LC_MESSAGES / LANG (zh_CN.UTF-8 → zh); English otherwise."""
    for var in ("GOVNET_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def pick(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en
