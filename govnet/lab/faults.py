"""Fault modes of lab devices: slow, garbled, dropping, wrong password, hung, lossy SNMP.

A device's ``lab.yaml`` may carry ``faults:`` (validated strictly: an unknown key is an
error naming the device folder)::

    faults:
      seed: 7                     # random faults replay identically for the same seed
      slow: {line_delay: 0.05}    # seconds before each line of SSH output
      garbled: {rate: 0.3}        # share of output characters replaced by line noise; the
                                  # prompt's last character is always mangled
      drop: {after_bytes: 1500}   # cut the TCP connection once this much output was sent
      wrong_password: true        # the device refuses every password
      no_banner: true             # accepts TCP, never sends the SSH banner (= ``silent``)
      snmp:
        loss: 10                  # percent of requests dropped
        delay: 0.2                # seconds before each reply
        flap: {period: 60, down: 30, offset: 0}   # silent ``down`` s of every ``period``

The SSH faults sit between the device shell and the SSH channel (:class:`FaultyChannel`);
the SNMP ones decide per datagram (:class:`SnmpFaultGate`). Nothing here knows a vendor.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

from pydantic import Field, field_validator, model_validator

from govnet import i18n
from govnet.validation import Strict

log = logging.getLogger("govnet.lab.faults")

# Line noise as from a baud-rate mismatch: C0 controls (never CR/LF/ESC/BS/TAB, so lines and
# terminals stay as they are; about a third of the noise) and Latin-1/Latin Extended letters;
# never a prompt terminator.
_CONTROLS = [chr(c) for c in (*range(0x01, 0x07), 0x0E, 0x0F, *range(0x10, 0x1A))]
_NOISE = [c for c in _CONTROLS for _ in range(4)]
_NOISE += [chr(c) for c in range(0xA1, 0x180) if chr(c).isprintable()]
_PROMPT_ENDS = ">#]$%:"


def _true_is_empty(v: Any) -> Any:
    """``garbled: true`` means the defaults, ``false`` means off."""
    if v is True:
        return {}
    if v is False:
        return None
    return v


class SlowFault(Strict):
    line_delay: float = Field(gt=0, le=10)


class GarbleFault(Strict):
    rate: float = Field(default=0.3, gt=0, le=1)


class DropFault(Strict):
    after_bytes: int = Field(default=1500, ge=0)


class FlapFault(Strict):
    period: float = Field(gt=0)
    down: float | None = None  # default: half the period
    offset: float = 0.0

    @model_validator(mode="after")
    def _fits(self) -> FlapFault:
        if self.down is not None and not 0 < self.down < self.period:
            raise ValueError(i18n._("flap.down must be between 0 and flap.period"))
        return self

    @property
    def down_seconds(self) -> float:
        return self.down if self.down is not None else self.period / 2

    def is_down(self, elapsed: float) -> bool:
        """Up first: answering for ``period - down`` s, then silent for ``down`` s."""
        phase = (elapsed + self.offset) % self.period
        return phase >= self.period - self.down_seconds


class SnmpFaults(Strict):
    loss: float = Field(default=0.0, ge=0, le=100)
    delay: float = Field(default=0.0, ge=0, le=60)
    flap: FlapFault | None = None


class LabFaults(Strict):
    seed: int = 0
    slow: SlowFault | None = None
    garbled: GarbleFault | None = None
    drop: DropFault | None = None
    wrong_password: bool = False
    no_banner: bool = False
    snmp: SnmpFaults | None = None

    _on = field_validator("garbled", "drop", mode="before")(_true_is_empty)

    @property
    def ssh(self) -> bool:
        """Whether any fault touches an SSH session's output."""
        return bool(self.slow or self.garbled or self.drop)

    def names(self) -> list[str]:
        """The active faults, for logs and ``ready.json``."""
        out = [n for n in ("slow", "garbled", "drop") if getattr(self, n) is not None]
        out += [n for n in ("wrong_password", "no_banner") if getattr(self, n)]
        if self.snmp is not None:
            snmp = self.snmp
            out += [f"snmp_{n}" for n in ("loss", "delay") if getattr(snmp, n)]
            out += ["snmp_flap"] if snmp.flap else []
        return out


def rng_for(faults: LabFaults, device: str, what: str) -> random.Random:
    """A generator seeded by (seed, device, what): same lab data, same faults."""
    return random.Random(f"{faults.seed}:{device}:{what}")


def garble(text: str, rate: float, rng: random.Random) -> str:
    """Replace a share ``rate`` of the characters with noise; mangle a trailing prompt."""
    chars = [rng.choice(_NOISE) if c not in "\r\n" and rng.random() < rate else c for c in text]
    end = len(text.rstrip(" ")) - 1
    if end >= 0 and text[end] in _PROMPT_ENDS:  # a burst of noise where the prompt ends
        chars[end] = "".join(rng.choice(_CONTROLS) for _ in range(3))
    return "".join(chars)


class FaultyChannel:
    """Stands in for an asyncssh server channel: what the shell writes passes the faults.

    Slow output is written line by line from one task (order kept, ``exit`` queued behind
    the output); garbled output is noise-mangled; a dropping device aborts the connection
    once ``after_bytes`` of output went out, in the middle of a reply.
    """

    def __init__(self, chan: Any, faults: LabFaults, device: str) -> None:
        self._chan = chan
        self._faults = faults
        self._device = device
        self._rng = rng_for(faults, device, "ssh")
        self._sent = 0
        self._dropped = False
        self._queue: asyncio.Queue[Callable[[], None] | str] | None = None
        self._task: asyncio.Task[None] | None = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._chan.get_extra_info(name, default)

    def write(self, text: str) -> None:
        if self._dropped or not text:
            return
        if self._faults.garbled is not None:
            text = garble(text, self._faults.garbled.rate, self._rng)
        if self._faults.slow is not None:
            self._enqueue(text)
        else:
            self._emit(text)

    def exit(self, status: int) -> None:
        if self._queue is not None:
            self._enqueue(lambda: self._chan.exit(status))
        elif not self._dropped:
            self._chan.exit(status)

    def _emit(self, text: str) -> None:
        drop = self._faults.drop
        if drop is not None and self._sent + len(text) > drop.after_bytes:
            keep = max(0, drop.after_bytes - self._sent)
            if keep:
                self._chan.write(text[:keep])
            self._drop()
            return
        self._sent += len(text)
        self._chan.write(text)

    def _drop(self) -> None:
        self._dropped = True
        log.info("%s: fault 'drop': connection cut after %d bytes", self._device, self._sent)
        conn = self._chan.get_extra_info("connection")
        if conn is not None:
            conn.abort()
        else:  # pragma: no cover - asyncssh always has one
            self._chan.abort()

    def _enqueue(self, item: Callable[[], None] | str) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._drain())
        self._queue.put_nowait(item)

    async def _drain(self) -> None:
        assert self._queue is not None and self._faults.slow is not None
        delay = self._faults.slow.line_delay
        while True:
            item = await self._queue.get()
            try:
                if callable(item):
                    item()
                    continue
                for line in item.splitlines(keepends=True):
                    if line.endswith("\n"):
                        await asyncio.sleep(delay)
                    if self._dropped or self._chan.is_closing():
                        return
                    self._emit(line)
            except (OSError, RuntimeError) as exc:  # the client went away meanwhile
                log.debug("%s: slow write stopped: %s", self._device, exc)
                return

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


class SnmpFaultGate:
    """Per datagram: drop it (loss, flapping) or answer after a delay."""

    def __init__(self, faults: SnmpFaults, device: str, seed: int) -> None:
        self.faults = faults
        self.device = device
        self._rng = random.Random(f"{seed}:{device}:snmp")

    def drop(self, elapsed: float) -> bool:
        flap = self.faults.flap
        if flap is not None and flap.is_down(elapsed):
            return True
        loss = self.faults.loss
        return bool(loss) and self._rng.random() * 100 < loss

    @property
    def delay(self) -> float:
        return self.faults.delay
