"""The SNMP transport's integration tests (test_snmp_lab.py), run again on the gufo backend.

Every test there makes its client with the ``new_backend`` fixture: here it makes
:class:`~govnet.transport.snmp_gufo.GufoBackend`, so the same lab agents, values, errors and
messages are checked for both clients.
"""

from __future__ import annotations

import asyncio

import pytest

from govnet.errors import DeviceTimeout
from govnet.transport import snmp
from govnet.transport.snmp_gufo import GufoBackend
from tests.integration import test_snmp_lab as base

pytestmark = pytest.mark.integration


@pytest.fixture
def new_backend() -> snmp.BackendFactory:
    return GufoBackend


profiles = base.profiles
SYS_NAME = "1.3.6.1.2.1.1.5.0"

_SKIP = {
    # net-snmp's own tools against the agents: nothing of govnet's client in it
    "test_net_snmp_get_and_walks",
    # builds a PysnmpBackend itself: the gufo version is below
    "test_concurrency_is_bounded_and_failures_stay_per_device",
}

for _name in dir(base):
    if _name.startswith("test_") and _name not in _SKIP:
        globals()[_name] = getattr(base, _name)


def test_concurrency_is_bounded_and_failures_stay_per_device(
    profiles: dict[str, base.SnmpProfileSpec],
) -> None:
    async def scenario() -> None:
        async with base.lab_running(GufoBackend) as (lab, _):
            backend = GufoBackend(max_concurrency=2, max_sessions=3)  # sessions get evicted too
            names = ["acc-1", "srv-1", "ups-1", "env-1", "hung-1"] * 3
            try:
                results = await asyncio.gather(
                    *(backend.get(base.target(lab, n, profiles["v2c"]), [SYS_NAME]) for n in names),
                    return_exceptions=True,
                )
            finally:
                await backend.close()
            for name, result in zip(names, results, strict=True):
                if name == "hung-1":
                    assert isinstance(result, DeviceTimeout)
                else:
                    assert result == {SYS_NAME: name}
            assert len(backend._sessions) <= 3

    base.run(scenario)


def test_v3_resynchronises_when_the_agent_clock_moves(
    profiles: dict[str, base.SnmpProfileSpec],
) -> None:
    """An agent whose engine time jumped (a restart, a long pause) rejects requests as outside
    its time window; the backend re-discovers boots/time and retries, once."""
    clock = base.Clock()

    async def scenario() -> None:
        async with base.lab_running(GufoBackend, clock) as (lab, client):
            t = base.target(lab, "acc-1", profiles["v3"])
            assert await client.get(t, [SYS_NAME]) == {SYS_NAME: "acc-1"}
            clock.now += 3600  # the agent's engine time is an hour ahead of what we know
            assert await client.get(t, [SYS_NAME]) == {SYS_NAME: "acc-1"}

    base.run(scenario)
