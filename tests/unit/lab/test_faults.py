"""Lab fault modes: validated as data, deterministic, and what they do to SNMP over real UDP."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from govnet.errors import LabError
from govnet.lab import snmpwire as w
from govnet.lab.data import LabBehaviour, LabDeviceData, load_device_data
from govnet.lab.faults import FlapFault, LabFaults, SnmpFaultGate, garble
from govnet.lab.snmpagent import AgentSpec, SnmpLab
from govnet.testing import FakeClock
from govnet.transport.ssh import looks_garbled

SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)


def test_faults_are_read_from_lab_yaml_and_unknown_keys_name_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "sw1"
    folder.mkdir()
    (folder / "lab.yaml").write_text(
        "faults: {seed: 3, slow: {line_delay: 0.1}, garbled: true, drop: {after_bytes: 10},\n"
        "         wrong_password: true, snmp: {loss: 10, delay: 0.5, flap: {period: 8}}}\n"
    )
    faults = load_device_data(tmp_path, "sw1").behaviour.faults
    assert faults.names() == [
        "slow",
        "garbled",
        "drop",
        "wrong_password",
        "snmp_loss",
        "snmp_delay",
        "snmp_flap",
    ]
    assert faults.garbled is not None and faults.garbled.rate == 0.3  # `true` = the defaults
    (folder / "lab.yaml").write_text("faults: {slow: {line_delay: 0.1}, laggy: true}\n")
    with pytest.raises(LabError, match=r"sw1/lab\.yaml:1:\d+: faults\.laggy: unknown key"):
        load_device_data(tmp_path, "sw1")
    (folder / "lab.yaml").write_text("faults: {snmp: {loss: 120}}\n")
    with pytest.raises(LabError, match=r"faults\.snmp\.loss"):
        load_device_data(tmp_path, "sw1")
    (folder / "lab.yaml").write_text("faults: {snmp: {flap: {period: 4, down: 5}}}\n")
    with pytest.raises(LabError, match=r"flap\.down must be between 0 and flap\.period"):
        load_device_data(tmp_path, "sw1")


def test_no_banner_fault_is_the_silent_device() -> None:
    assert LabBehaviour(faults=LabFaults(no_banner=True)).no_banner
    assert LabBehaviour(silent=True).no_banner
    assert not LabBehaviour().no_banner


def test_garble_is_seeded_mangles_the_prompt_and_is_recognised() -> None:
    import random

    text = "interface GigabitEthernet0/0/1\n description uplink\n<sw1>"
    a = garble(text, 0.3, random.Random("1:sw1:ssh"))
    b = garble(text, 0.3, random.Random("1:sw1:ssh"))
    assert a == b and a != text
    assert a.count("\n") == text.count("\n")  # lines stay lines
    assert not a.rstrip().endswith(">")  # a prompt no client can find
    assert looks_garbled(a) and not looks_garbled(text)
    assert not looks_garbled("sysname 城区核心交换机\n<int-core-1>")  # Chinese is no noise


def test_flap_is_up_first_then_down_each_period() -> None:
    flap = FlapFault(period=10, down=4)
    assert [flap.is_down(t) for t in (0, 5.9, 6.0, 9.9, 10.0, 16.5)] == [
        False,
        False,
        True,
        True,
        False,
        True,
    ]
    assert FlapFault(period=10).down_seconds == 5
    assert FlapFault(period=10, down=4, offset=6).is_down(0)


def test_loss_drops_about_its_share_and_replays_the_same() -> None:
    from govnet.lab.faults import SnmpFaults

    gate = SnmpFaultGate(SnmpFaults(loss=20), "sw1", 1)
    drops = [gate.drop(0) for _ in range(2000)]
    again = SnmpFaultGate(SnmpFaults(loss=20), "sw1", 1)
    assert drops == [again.drop(0) for _ in range(2000)]
    assert 0.16 < sum(drops) / 2000 < 0.24


def _get(request_id: int) -> bytes:
    oid = w.encode_oid_tlv(SYS_DESCR)
    pdu = w.tlv(
        0xA0,
        w.tlv(w.INTEGER, w.encode_signed(request_id))
        + w.tlv(w.INTEGER, w.encode_signed(0)) * 2
        + w.tlv(w.SEQUENCE, w.varbind(oid, b"\x05\x00")),
    )
    return w.encode_v2c(b"public", pdu)


def _agent(name: str, faults: LabFaults) -> AgentSpec:
    data = LabDeviceData(name, None, behaviour=LabBehaviour(faults=faults))
    return AgentSpec(
        name=name, role="access", platform="huawei", port=0, data=data, community="public"
    )


async def _ask(address: tuple[str, int], n: int, wait: float) -> list[float]:
    """Send ``n`` GETs, return how long each answered one took (unanswered: absent)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sent: dict[int, float] = {}
    got: list[float] = []
    try:
        for i in range(1, n + 1):
            sent[i] = time.monotonic()
            await loop.sock_sendto(sock, _get(i), address)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and len(got) < n:
            try:
                data = await asyncio.wait_for(
                    loop.sock_recv(sock, 65535), deadline - time.monotonic()
                )
            except TimeoutError:
                break
            start, stop = w.expect(data, 0, w.SEQUENCE)
            _, e = w.expect(data, start, w.INTEGER, stop)
            _, e = w.expect(data, e, w.OCTET_STRING, stop)
            s, _ = w.expect(data, e, 0xA2, stop)
            rs, re_ = w.expect(data, s, w.INTEGER, stop)
            got.append(time.monotonic() - sent[w.decode_int(data, rs, re_)])
    finally:
        sock.close()
    return got


def test_snmp_loss_delay_and_flap_over_udp() -> None:
    from govnet.lab.faults import SnmpFaults

    # The flap follows the lab's clock: a fake one puts the agent in its down phase (0.3-0.6 s of
    # every 0.6 s) for certain, however late a loaded machine wakes this test up.
    clock = FakeClock()

    async def scenario() -> tuple[list[float], ...]:
        specs = [
            _agent("healthy", LabFaults()),
            _agent("lossy", LabFaults(seed=2, snmp=SnmpFaults(loss=50))),
            _agent("late", LabFaults(snmp=SnmpFaults(delay=0.3))),
            _agent("flapping", LabFaults(snmp=SnmpFaults(flap=FlapFault(period=0.6, down=0.3)))),
        ]
        async with SnmpLab(specs, clock=clock.monotonic) as lab:
            healthy = await _ask(lab.address("healthy"), 40, 5.0)
            lossy = await _ask(lab.address("lossy"), 200, 1.5)  # the rest never come
            late = await _ask(lab.address("late"), 5, 2.0)
            clock.advance(0.45 - lab.agent("flapping").elapsed())
            flapping = await _ask(lab.address("flapping"), 5, 0.3)  # inside its down phase
            clock.advance(0.25)  # 0.7 s: 0.1 s into its next up phase
            back = await _ask(lab.address("flapping"), 5, 2.0)
        return healthy, lossy, late, flapping, back

    healthy, lossy, late, flapping, back = asyncio.run(scenario())
    assert len(healthy) == 40
    assert 70 < len(lossy) < 130  # 50 % of 200, seeded
    assert len(late) == 5 and min(late) >= 0.3
    assert flapping == []
    assert len(back) == 5
