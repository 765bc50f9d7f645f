"""The canary's operator-facing pieces: event lines, the summary, stopping on a signal."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from govnet.isolation.probe.canary import event_line, run_until_signalled, summary
from govnet.isolation.probe.results import canary_address, verdict_label


def test_event_lines() -> None:
    assert event_line("unsigned", "ping") is None
    leak = event_line("accepted", "LEAK: icmp probe from 10.0.0.5")
    assert leak is not None and leak.accepted and leak.style == "bold red"
    assert leak.text == "LEAK: icmp probe from 10.0.0.5"
    replay = event_line("replayed", "token abc seen before")
    assert replay is not None and not replay.accepted
    assert (replay.text, replay.style) == ("rejected (replayed): token abc seen before", "yellow")


def test_summary_leaves_out_packets_that_were_not_probes() -> None:
    assert summary({"accepted": 1, "ignored": 40, "replayed": 2}) == "accepted=1 replayed=2"
    assert summary({"ignored": 3}) == "nothing"


def test_verdict_labels_and_canary_addresses() -> None:
    assert verdict_label("pass (stale)", "zh") == "通过 过期"
    assert verdict_label("pass (stale)", "en") == "pass (stale)"
    assert canary_address("10.0.0.9", 53, "dns") == "10.0.0.9:53"
    assert canary_address("10.0.0.9", 53, "icmp") == "10.0.0.9"
    assert canary_address(None, None, None) == ""


class _SignalledService:
    """Stands in for the capture: sends itself SIGTERM, then waits to be stopped."""

    def __init__(self) -> None:
        self.stopped = False

    def run(self, stop: threading.Event, duration: float | None = None) -> dict[str, int]:
        os.kill(os.getpid(), signal.SIGTERM)
        self.stopped = stop.wait(5)
        return {"accepted": 0}


def test_sigterm_stops_the_canary_and_the_old_handlers_come_back() -> None:
    calls: list[int] = []

    def mine(signum: int, _frame: Any) -> None:
        calls.append(signum)

    before = signal.signal(signal.SIGTERM, mine)
    try:
        service: Any = _SignalledService()
        assert run_until_signalled(service) == {"accepted": 0}
        assert service.stopped and calls == []  # the canary's handler took the signal
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)
