"""Names only, fast: the device, zone, site, unit and service names of an inventory, read
without validating it — for shell completion, which must answer within a keystroke.

A full load of a 2,000-device city (sites, units, terminals CSV, validation) takes seconds;
completion needs only the keys of a few top-level mappings. Block-style YAML, which govnet's
inventories use, is scanned line by line; a file in another layout (flow mappings, several
documents, tabs) is parsed with the C YAML loader instead. A file that cannot be read or parsed
contributes no names: completion never fails, ``govnet inventory validate`` says what is wrong.

It lives outside :mod:`govnet.inventory` on purpose: importing that package loads the validating
model (pydantic), which alone costs more than a keystroke allows. Imports: PyYAML and yamlsrc.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from govnet.yamlsrc import SAFE_LOADER, yaml_files

SECTIONS = ("devices", "zones", "sites", "units", "services")
_TOP = re.compile(r"([A-Za-z_][\w-]*)\s*:\s*(?:#.*)?$")
_TOP_INLINE = re.compile(r"([A-Za-z_][\w-]*)\s*:\s*\S")
_KEY = re.compile(r"""(?:'([^']+)'|"([^"]+)"|([^\s'"#:][^:#]*?))\s*:(?:\s|$)""")

Names = dict[str, list[str]]


def inventory_names(path: Path) -> Names:
    """``{"devices": [...], "zones": [...], ...}`` in file order; missing path → empty."""
    out: Names = {s: [] for s in SECTIONS}
    try:
        files = yaml_files(path) if path.exists() else []
    except OSError:
        return out
    for file in files:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        found = scan(text)
        if found is None:
            found = _parsed(text)
        for section, names in found.items():
            out[section].extend(names)
    return out


def scan(text: str) -> Names | None:
    """The names of block-style YAML; None when the layout needs a real parser."""
    out: Names = {s: [] for s in SECTIONS}
    section: str | None = None
    child: int | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.lstrip().startswith("#"):
            continue
        if "\t" in raw[: len(raw) - len(raw.lstrip())] or line.startswith(("---", "...", "%")):
            return None
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            top = _TOP.match(line)
            if top:
                section, child = (top[1] if top[1] in SECTIONS else None), None
                continue
            inline = _TOP_INLINE.match(line)
            if inline and inline[1] in SECTIONS:
                return None  # `devices: {…}` or `devices: []`
            section = None
            continue
        if section is None:
            continue
        if child is None:
            child = indent
        if indent != child:
            continue
        body = line[indent:]
        if body.startswith(("- ", "-\n", "? ", "{", "[")) or body == "-":
            return None
        key = _KEY.match(body)
        if key is None:
            return None
        out[section].append(next(g for g in key.groups() if g is not None).strip())
    return out


def _parsed(text: str) -> Names:
    out: Names = {s: [] for s in SECTIONS}
    try:
        docs = list(yaml.load_all(text, Loader=SAFE_LOADER))
    except yaml.YAMLError:
        return out
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        for section in SECTIONS:
            body = doc.get(section)
            if isinstance(body, dict):
                out[section].extend(str(k) for k in body)
    return out
