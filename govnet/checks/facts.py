"""What a collector gathered from one device: the input of every check kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class DeviceFacts:
    """Raw facts about one device.

    ``config`` is the running configuration as the device printed it (None when it was not
    collected); ``outputs`` maps each command line sent to its raw output. When the device
    could not be read at all, ``error`` says why and ``error_kind`` names the failure
    (``auth``, ``timeout``, ``connect``, … as in :mod:`govnet.errors`); every rule that
    applies to the device then reports ``error``.

    ``cache`` is for check kinds: derived data (a parsed configuration, parsed tables) is
    computed once per device and shared by every rule; :func:`govnet.checks.engine.evaluate`
    drops what the kinds added once it is done with the device (entries put there before the
    call, such as a fleet context, stay).
    """

    device: str
    config: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    error_kind: str | None = None
    collected_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def readable(self) -> bool:
        return self.error is None
