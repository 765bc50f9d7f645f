"""Bounded reading of input files (issue 12): regular files only, a size cap per kind.

An inventory, a terminals CSV or a playbook comes from an admin's hand or an export; none of
them is ever gigabytes. ``-i /dev/zero`` or ``terminals_csv: [/dev/zero]`` must fail at once
with a one-line message, not read forever. Each kind of file has a documented default cap,
overridable per kind by an environment variable (whole MiB)::

    GOVNET_MAX_INVENTORY_MB   YAML inventory file          default 64
    GOVNET_MAX_TERMINALS_MB   terminals CSV                default 256
    GOVNET_MAX_PLAYBOOK_MB    playbook / alert rules YAML  default 16
    GOVNET_MAX_YAML_MB        any other YAML govnet reads  default 16
    GOVNET_MAX_YAML_ALIAS_NODES  nodes that aliases may expand to, per file, default 1000000
    GOVNET_MAX_YAML_DEPTH     nesting depth of a YAML document  default 64
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MiB = 1 << 20
DEFAULT_MB = {"inventory": 64, "terminals": 256, "playbook": 16, "yaml": 16}
DEFAULT_ALIAS_NODES = 1_000_000
DEFAULT_DEPTH = 64


class LimitError(Exception):
    """An input is over a limit or not a regular file; the message names the file."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if value > 0 else default


def max_bytes(kind: str) -> int:
    """The size cap of a kind of input file, in bytes."""
    default = DEFAULT_MB.get(kind, DEFAULT_MB["yaml"])
    return _env_int(f"GOVNET_MAX_{kind.upper()}_MB", default) * MiB


def max_alias_nodes() -> int:
    return _env_int("GOVNET_MAX_YAML_ALIAS_NODES", DEFAULT_ALIAS_NODES)


def max_depth() -> int:
    return _env_int("GOVNET_MAX_YAML_DEPTH", DEFAULT_DEPTH)


def read_bounded(path: Path, kind: str) -> bytes:
    """The bytes of a regular file of at most ``max_bytes(kind)``; else :class:`LimitError`.

    Raises :class:`OSError` as ``open`` does for a missing or unreadable file.
    """
    cap = max_bytes(kind)
    with open(path, "rb") as fh:  # open first, then judge what was opened (no race)
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise LimitError(
                f"not a regular file (a device, pipe or directory); give a {kind} file"
            )
        if info.st_size > cap:
            raise LimitError(_too_big(kind, info.st_size, cap))
        data = fh.read(cap + 1)  # a file growing while we read is still cut at the cap
    if len(data) > cap:
        raise LimitError(_too_big(kind, len(data), cap))
    return data


def _too_big(kind: str, size: int, cap: int) -> str:
    return (
        f"{kind} file is {size / MiB:.1f} MiB, over the {cap // MiB} MiB limit "
        f"(split it, or raise GOVNET_MAX_{kind.upper()}_MB)"
    )
