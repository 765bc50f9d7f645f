"""The SNMP transport's integration tests (test_snmp_lab.py), run again on the gufo backend.

Every test there makes its client with the ``new_backend`` fixture: here it makes
:class:`~govnet.transport.snmp_gufo.GufoBackend`, so the same lab agents, values, errors and
messages are checked for both clients.
"""

from __future__ import annotations

import asyncio

import pytest

from govnet.errors import DeviceTimeout
from govnet.inventory.model import SnmpProfileSpec
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
    profiles: dict[str, SnmpProfileSpec],
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
    profiles: dict[str, SnmpProfileSpec],
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


class _LoopingAgent(asyncio.DatagramProtocol):
    """Answers every GETBULK with the same two varbinds under the walked column (an agent
    whose OIDs stop increasing), GETs with sysName."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        from govnet.lab import snmpwire as w

        req = w.decode_v2c(data)
        pdu = req.pdu
        if pdu.tag == 0xA5:  # GETBULK: .1 and .2 under the column, again and again
            root = pdu.oids[0][:10]  # the walked column (1.3.6.1.2.1.2.2.1.N)
            binds = [
                w.varbind(w.encode_oid_tlv((*root, i)), w.encode_value(w.INTEGER, i))
                for i in (1, 2)
            ]
        else:
            binds = [
                w.varbind(w.encode_oid_tlv(o), w.encode_value(w.OCTET_STRING, b"loop"))
                for o in pdu.oids
            ]
        reply = w.encode_v2c(req.community, w.encode_response(pdu.request_id, 0, 0, binds))
        self.transport.sendto(reply, addr)


def test_an_agent_repeating_oids_is_refused_and_the_session_keeps_working() -> None:
    """The page-at-a-time GETBULK walk: a reply repeating OIDs is a ProtocolError naming one,
    and the socket watch ends with the walk (the next request on the session is answered)."""
    from govnet.errors import ProtocolError
    from govnet.inventory.model import SnmpProfileSpec
    from govnet.secrets import SecretRef
    from govnet.transport.snmp import SnmpTarget

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            _LoopingAgent, local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        profile = SnmpProfileSpec(
            version="2c", community=SecretRef.parse("env:GOVNET_T_LOOP"), timeout=1.0, retries=0
        )
        target = SnmpTarget("127.0.0.1", port, profile, "looper")
        backend = GufoBackend()
        try:
            with pytest.raises(
                ProtocolError, match=r"returned 1\.3\.6\.1\.2\.1\.2\.2\.1\.8\.1 twice"
            ):
                await backend.bulkwalk(target, "1.3.6.1.2.1.2.2.1.8")
            with pytest.raises(ProtocolError, match="twice"):
                await backend.bulkwalk_many(target, ["1.3.6.1.2.1.2.2.1.7"])
            got = await backend.get(target, [SYS_NAME])
            assert got == {SYS_NAME: "loop"}
        finally:
            await backend.close()
            transport.close()

    import os

    os.environ["GOVNET_T_LOOP"] = "public"
    try:
        asyncio.run(scenario())
    finally:
        del os.environ["GOVNET_T_LOOP"]
