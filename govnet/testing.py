"""Helpers for tests and benches; production code never imports this module."""

from __future__ import annotations

import asyncio


class FakeClock:
    """A :class:`~govnet.monitor.model.Clock` that moves only when told to (tests, golden
    renderings): ``sleep`` advances it instead of waiting."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self._mono = 1000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)
