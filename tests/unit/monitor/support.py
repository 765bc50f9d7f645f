"""Fakes for the monitor's unit tests: an in-memory SNMP backend and devices."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from govnet.errors import DeviceTimeout
from govnet.inventory.model import Device, SnmpProfileSpec
from govnet.secrets import SecretRef
from govnet.transport.snmp import SnmpTarget, SnmpValue, oid_tuple

PROFILE = SnmpProfileSpec(version="2c", community=SecretRef.parse("env:GOVNET_TEST_COMMUNITY"))


def device(name: str = "sw1", role: str = "access", zone: str = "internal", **vars_: Any) -> Device:
    return Device(
        name=name,
        host="127.0.0.1",
        platform="huawei",
        role=role,
        zone=zone,
        site="city",
        snmp=PROFILE,
        snmp_port=161,
        vars=dict(vars_),
    )


class FakeSnmp:
    """Answers from a dict per device; ``silent`` devices time out; ``delay`` per device."""

    def __init__(self, mibs: dict[str, dict[str, SnmpValue]] | None = None) -> None:
        self.mibs: dict[str, dict[str, SnmpValue]] = dict(mibs or {})  # live: tests change them
        self.silent: set[str] = set()
        self.delay: dict[str, float] = {}
        self.requests: list[tuple[str, str]] = []

    async def _wait(self, target: SnmpTarget) -> None:
        await asyncio.sleep(self.delay.get(target.name, 0))
        if target.name in self.silent:
            raise DeviceTimeout(target.name, "no SNMP reply")

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> dict[str, SnmpValue]:
        self.requests.append((target.name, "get"))
        await self._wait(target)
        mib = self.mibs.get(target.name, {})
        return {o: mib.get(o) for o in oids}

    async def walk(self, target: SnmpTarget, oid: str) -> dict[str, SnmpValue]:
        return await self.bulkwalk(target, oid)

    async def bulkwalk(
        self, target: SnmpTarget, oid: str, max_repetitions: int = 25
    ) -> dict[str, SnmpValue]:
        self.requests.append((target.name, oid))
        await self._wait(target)
        mib = self.mibs.get(target.name, {})
        prefix = oid + "."
        found = {k: v for k, v in mib.items() if k.startswith(prefix)}
        return dict(sorted(found.items(), key=lambda kv: oid_tuple(kv[0])))

    async def bulkwalk_many(
        self, target: SnmpTarget, oids: Sequence[str], max_repetitions: int = 25
    ) -> list[dict[str, SnmpValue]]:
        return [await self.bulkwalk(target, oid, max_repetitions) for oid in oids]

    async def close(self) -> None:
        return None


def system_mib(uptime_ticks: int = 100_000, name: str = "sw1") -> dict[str, SnmpValue]:
    return {
        "1.3.6.1.2.1.1.3.0": uptime_ticks,
        "1.3.6.1.2.1.1.5.0": name,
        "1.3.6.1.2.1.1.1.0": "test switch",
        "1.3.6.1.2.1.1.2.0": "1.3.6.1.4.1.2011.2.23.625",
    }


def interfaces_mib(
    ports: Sequence[tuple[str, int, int, int]], hc: bool = True
) -> dict[str, SnmpValue]:
    """ports: (name, oper, in_octets, out_octets), 1 Gbit/s each."""
    mib: dict[str, SnmpValue] = {}
    for i, (name, oper, in_o, out_o) in enumerate(ports, start=1):
        mib[f"1.3.6.1.2.1.31.1.1.1.1.{i}"] = name
        mib[f"1.3.6.1.2.1.31.1.1.1.15.{i}"] = 1000
        mib[f"1.3.6.1.2.1.31.1.1.1.18.{i}"] = f"to {name}"
        mib[f"1.3.6.1.2.1.2.2.1.7.{i}"] = 1
        mib[f"1.3.6.1.2.1.2.2.1.8.{i}"] = oper
        mib[f"1.3.6.1.2.1.2.2.1.14.{i}"] = 0
        mib[f"1.3.6.1.2.1.2.2.1.20.{i}"] = 0
        mib[f"1.3.6.1.2.1.2.2.1.10.{i}"] = in_o % 2**32
        mib[f"1.3.6.1.2.1.2.2.1.16.{i}"] = out_o % 2**32
        if hc:
            mib[f"1.3.6.1.2.1.31.1.1.1.6.{i}"] = in_o
            mib[f"1.3.6.1.2.1.31.1.1.1.10.{i}"] = out_o
    return mib
