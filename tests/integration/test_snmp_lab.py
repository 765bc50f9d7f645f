"""govnet's SNMP client against the lab's SNMP agents, over real UDP on 127.0.0.1.

Each test starts its own :class:`SnmpLab` on free ports (port 0) with agents built from the
small lab data below, and a fake clock so counters grow without sleeping. The net-snmp checks
need ``snmpget``/``snmpbulkwalk`` (Debian: ``apt-get install -y snmp``) and skip without them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest

from govnet.errors import AuthError, DeviceTimeout
from govnet.inventory.model import SnmpProfileSpec, normalize_mac
from govnet.lab.data import LabBehaviour, LabDeviceData, LabTables
from govnet.lab.snmpagent import AgentSpec, SnmpLab, system_identity
from govnet.secrets import SecretRef
from govnet.transport import snmp

pytestmark = pytest.mark.integration

COMMUNITY = "lab-ro-7f3a"
USER = "govnet-v3"
AUTH_KEY = "lab-auth-key-01"
PRIV_KEY = "lab-priv-key-01"
TIMEOUT = 0.4
# A timeout must cut the wait at the configured TIMEOUT: never before it, and never near what a
# hang, retries or the profile's default (2 s x 2 tries) would cost. The upper bound leaves room
# for a loaded CI machine (a 0.4 s timeout was once measured at 1.95 s there); the error message
# names the tries and timeout the client actually used.
TIMEOUT_SLACK = 3.0

SWITCH_TABLES: dict[str, list[dict[str, Any]]] = {
    "interfaces": [
        {"name": "GigabitEthernet0/0/1", "description": "pc-01", "speed": 1000},
        {"name": "GigabitEthernet0/0/2", "description": "pc-02", "speed": 100},
        {"name": "GigabitEthernet0/0/3", "oper": "down"},
        {"name": "GigabitEthernet0/0/24", "description": "uplink", "speed": 10000},
        {"name": "Vlanif100", "ip": "10.10.100.1/24", "mac": "70:7b:e8:00:00:01"},
    ],
    "arp": [
        {"ip": "10.10.100.1", "mac": "70:7b:e8:00:00:01", "interface": "Vlanif100"},
        {"ip": "10.10.100.11", "mac": "00:1a:2b:00:01:01", "interface": "Vlanif100"},
        {"ip": "10.10.100.12", "mac": "00:1a:2b:00:01:02", "interface": "Vlanif100"},
        {"ip": "10.10.101.7", "mac": "00:1a:2b:00:02:07", "interface": "Vlanif101"},
    ],
    "mac": [
        {"mac": "00:1a:2b:00:01:01", "vlan": 100, "interface": "GigabitEthernet0/0/1"},
        {"mac": "00:1a:2b:00:01:02", "vlan": 100, "interface": "GigabitEthernet0/0/2"},
        {"mac": "00:1a:2b:00:02:07", "vlan": 101, "interface": "GigabitEthernet0/0/24"},
        {"mac": "00:1a:2b:00:09:09", "vlan": 100, "interface": "Eth-Trunk1", "type": "static"},
    ],
}
INSTALLED = ["clamav-1.0.7-1.ky10.x86_64", "奇安信天擎 6.6.0", "WPS Office 11.8"]
RUNNING = ["systemd", "clamd", "QAXEntClient.exe"]


def data(name: str, tables: dict[str, Any] | None = None, **behaviour: Any) -> LabDeviceData:
    return LabDeviceData(
        name=name,
        running_config=None,
        tables=LabTables.model_validate(tables or {}),
        behaviour=LabBehaviour(**behaviour),
    )


V3 = {"v3_user": USER, "auth_key": AUTH_KEY, "priv_key": PRIV_KEY}
V3_PROTOCOLS = [("md5", "des"), ("sha", "aes128"), ("sha256", "aes192"), ("sha512", "aes256")]

AGENTS = [
    AgentSpec(
        "acc-1",
        "access",
        "huawei",
        0,
        data("acc-1", SWITCH_TABLES),
        community=COMMUNITY,
        auth_protocol="sha",
        priv_protocol="aes128",
        **V3,
    ),
    AgentSpec(
        "srv-1",
        "server",
        "linux",
        0,
        data("srv-1", snmp={"installed": INSTALLED, "running": RUNNING}),
        community=COMMUNITY,
    ),
    AgentSpec(
        "ups-1",
        "ups",
        "snmp",
        0,
        data(
            "ups-1",
            snmp={
                "battery_status": 2,
                "output_source": 5,
                "charge": 87,
                "minutes_remaining": 31,
                "output_load": [40],
            },
        ),
        community=COMMUNITY,
    ),
    AgentSpec(
        "env-1",
        "env",
        "snmp",
        0,
        data(
            "env-1",
            snmp={
                "sensors": [
                    {"name": "Inlet temperature", "type": "celsius", "value": 24.5, "precision": 1},
                    {"name": "Water leak", "type": "truthvalue", "value": 1},
                ]
            },
        ),
        community=COMMUNITY,
    ),
    AgentSpec(
        "hung-1", "access", "hp_comware", 0, data("hung-1", silent=True), community=COMMUNITY
    ),
    *(
        AgentSpec(
            f"v3-{a}-{p}",
            "core",
            "cisco_ios",
            0,
            data(f"v3-{a}-{p}"),
            auth_protocol=a,
            priv_protocol=p,
            **V3,
        )
        for a, p in V3_PROTOCOLS
    ),
]

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT = "1.3.6.1.2.1.31.1.1.1.10"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def profiles(monkeypatch: pytest.MonkeyPatch) -> dict[str, SnmpProfileSpec]:
    monkeypatch.setenv("T_COMMUNITY", COMMUNITY)
    monkeypatch.setenv("T_BAD_COMMUNITY", "public")
    monkeypatch.setenv("T_AUTH", AUTH_KEY)
    monkeypatch.setenv("T_PRIV", PRIV_KEY)
    monkeypatch.setenv("T_BAD", "not-the-key-99")
    ref = SecretRef.parse
    common: dict[str, Any] = {"timeout": TIMEOUT, "retries": 0}

    def v3(auth: str = "sha", priv: str = "aes128", **refs: str) -> SnmpProfileSpec:
        keys = {"auth_key": "env:T_AUTH", "priv_key": "env:T_PRIV", **refs}
        return SnmpProfileSpec(
            version="3",
            user=keys.pop("user", USER),
            auth_protocol=auth,  # type: ignore[arg-type]
            priv_protocol=priv,  # type: ignore[arg-type]
            auth_key=ref(keys["auth_key"]),
            priv_key=ref(keys["priv_key"]),
            **common,
        )

    out = {
        "v2c": SnmpProfileSpec(version="2c", community=ref("env:T_COMMUNITY"), **common),
        "bad-community": SnmpProfileSpec(
            version="2c", community=ref("env:T_BAD_COMMUNITY"), **common
        ),
        "v3": v3(),
        "bad-auth": v3(auth_key="env:T_BAD"),
        "bad-priv": v3(priv_key="env:T_BAD"),
        "bad-user": v3(user="nobody"),
    }
    for auth, priv in V3_PROTOCOLS:
        out[f"{auth}-{priv}"] = v3(auth, priv)
    return out


@pytest.fixture
def new_backend() -> snmp.BackendFactory:
    """How the tests make their SNMP client (test_snmp_gufo.py overrides it)."""
    return snmp.snmp_backend


@asynccontextmanager
async def lab_running(
    new_backend: snmp.BackendFactory, clock: Clock | None = None
) -> AsyncIterator[tuple[SnmpLab, snmp.SnmpBackend]]:
    """The lab's agents, and a client made on this event loop (closed at the end)."""
    started = time.monotonic()
    async with SnmpLab(AGENTS, clock=clock or time.monotonic) as lab:
        assert time.monotonic() - started < 30  # not stuck (its speed: bench/lab_bench.py)
        client = new_backend()
        try:
            yield lab, client
        finally:
            await client.close()


def target(lab: SnmpLab, name: str, profile: SnmpProfileSpec) -> snmp.SnmpTarget:
    host, port = lab.address(name)
    return snmp.SnmpTarget(host, port, profile, name)


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def column(values: dict[str, snmp.SnmpValue], prefix: str) -> dict[str, snmp.SnmpValue]:
    """{index: value} of one table column."""
    n = len(prefix) + 1
    return {k[n:]: v for k, v in values.items() if k.startswith(prefix + ".")}


def mac_from_index(index: str) -> str:
    return ":".join(f"{int(x):02x}" for x in index.split(".")[-6:])


# --- GET over v2c and v3 ---------------------------------------------------------------------


def test_get_sys_descr_v2c_and_v3(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    expected = system_identity("huawei", "access", "acc-1")[0]

    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            for kind in ("v2c", "v3"):
                got = await client.get(
                    target(lab, "acc-1", profiles[kind]), [SYS_DESCR, "1.3.6.1.2.1.1.5.0"]
                )
                assert got == {SYS_DESCR: expected, "1.3.6.1.2.1.1.5.0": "acc-1"}, kind

    run(scenario)


def test_v3_auth_and_priv_protocols(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            for auth, priv in V3_PROTOCOLS:
                name = f"v3-{auth}-{priv}"
                got = await client.get(
                    target(lab, name, profiles[f"{auth}-{priv}"]), ["1.3.6.1.2.1.1.5.0"]
                )
                assert got == {"1.3.6.1.2.1.1.5.0": name}

    run(scenario)


def test_get_missing_objects_are_none(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            got = await client.get(
                target(lab, "acc-1", profiles["v2c"]), ["1.3.6.1.2.1.1.9.0", "1.3.6.1.2.1.1.5.1"]
            )
            assert got == {"1.3.6.1.2.1.1.9.0": None, "1.3.6.1.2.1.1.5.1": None}

    run(scenario)


# --- tables --------------------------------------------------------------------------------


def test_if_counters_grow_between_polls(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    clock = Clock()

    async def scenario() -> None:
        async with lab_running(new_backend, clock) as (lab, client):
            t = target(lab, "acc-1", profiles["v2c"])
            first = await client.bulkwalk(t, "1.3.6.1.2.1.31.1.1.1")
            clock.now += 30
            second = await client.bulkwalk(t, "1.3.6.1.2.1.31.1.1.1")
            names = column(first, IF_NAME)
            assert list(names.values())[:5] == [i["name"] for i in SWITCH_TABLES["interfaces"]]
            for column_oid in (IF_HC_IN, IF_HC_OUT):
                before, after = column(first, column_oid), column(second, column_oid)
                for index, name in names.items():
                    a, b = before[index], after[index]
                    assert isinstance(a, int) and isinstance(b, int)
                    if name == "GigabitEthernet0/0/3":  # oper down
                        assert b == a
                    else:
                        assert b > a, name
            # a 10G uplink at 2 % for 30 s moves at least 0.5 GB
            uplink = next(i for i, n in names.items() if n == "GigabitEthernet0/0/24")
            delta = column(second, IF_HC_IN)[uplink] - column(first, IF_HC_IN)[uplink]  # type: ignore[operator]
            assert delta > 10_000_000_000 / 8 * 0.02 * 30 * 0.5

    run(scenario)


def test_walk_and_bulkwalk_agree(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend, Clock()) as (lab, client):
            t = target(lab, "acc-1", profiles["v3"])
            walked = await client.walk(t, "1.3.6.1.2.1.2.2")
            bulked = await client.bulkwalk(t, "1.3.6.1.2.1.2.2", max_repetitions=7)
            assert walked == bulked
            assert len(walked) == 18 * 7  # 18 columns × (5 listed + Vlanif101 + Eth-Trunk1)
            assert list(walked) == sorted(walked, key=snmp.oid_tuple)

    run(scenario)


def test_arp_table_maps_back_to_lab_entries(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            t = target(lab, "acc-1", profiles["v2c"])
            arp = await client.bulkwalk(t, "1.3.6.1.2.1.4.22.1")
            names = column(await client.bulkwalk(t, IF_NAME), IF_NAME)
            seen = {
                str(ip): (
                    snmp.mac_address(column(arp, "1.3.6.1.2.1.4.22.1.2")[index]),
                    names[str(if_index)],
                )
                for index, ip in column(arp, "1.3.6.1.2.1.4.22.1.3").items()
                for if_index in [column(arp, "1.3.6.1.2.1.4.22.1.1")[index]]
            }
            expected = {
                a["ip"]: (normalize_mac(a["mac"]), a["interface"]) for a in SWITCH_TABLES["arp"]
            }
            assert seen == expected
            for index, ip in column(arp, "1.3.6.1.2.1.4.22.1.3").items():
                assert index.endswith(str(ipaddress.IPv4Address(str(ip))))

    run(scenario)


def test_fdb_maps_back_to_lab_entries(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            t = target(lab, "acc-1", profiles["v3"])
            fdb_port = column(
                await client.bulkwalk(t, "1.3.6.1.2.1.17.4.3.1.2"), "1.3.6.1.2.1.17.4.3.1.2"
            )
            port_if = column(
                await client.bulkwalk(t, "1.3.6.1.2.1.17.1.4.1.2"), "1.3.6.1.2.1.17.1.4.1.2"
            )
            names = column(await client.bulkwalk(t, IF_NAME), IF_NAME)
            seen = {mac_from_index(i): names[str(port_if[str(p)])] for i, p in fdb_port.items()}
            expected = {normalize_mac(m["mac"]): m["interface"] for m in SWITCH_TABLES["mac"]}
            assert seen == expected
            q = column(
                await client.bulkwalk(t, "1.3.6.1.2.1.17.7.1.2.2.1.2"), "1.3.6.1.2.1.17.7.1.2.2.1.2"
            )
            seen_q = {
                (int(i.split(".")[0]), mac_from_index(i)): names[str(port_if[str(p)])]
                for i, p in q.items()
            }
            assert seen_q == {
                (m["vlan"], normalize_mac(m["mac"])): m["interface"] for m in SWITCH_TABLES["mac"]
            }

    run(scenario)


def test_server_ups_and_sensors(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            srv = target(lab, "srv-1", profiles["v2c"])
            installed = await client.bulkwalk(srv, "1.3.6.1.2.1.25.6.3.1.2")
            assert list(installed.values()) == INSTALLED
            running = await client.walk(srv, "1.3.6.1.2.1.25.4.2.1.2")
            assert list(running.values()) == RUNNING
            ups = await client.get(
                target(lab, "ups-1", profiles["v2c"]),
                [
                    "1.3.6.1.2.1.33.1.2.1.0",
                    "1.3.6.1.2.1.33.1.4.1.0",
                    "1.3.6.1.2.1.33.1.2.4.0",
                    "1.3.6.1.2.1.33.1.2.3.0",
                    "1.3.6.1.2.1.33.1.4.4.1.5.1",
                ],
            )
            assert list(ups.values()) == [2, 5, 87, 31, 40]
            env = target(lab, "env-1", profiles["v2c"])
            names = await client.bulkwalk(env, "1.3.6.1.2.1.47.1.1.1.1.7")
            values = await client.bulkwalk(env, "1.3.6.1.2.1.99.1.1.1.4")
            sensors = {
                names[f"1.3.6.1.2.1.47.1.1.1.1.7.{k.rsplit('.', 1)[1]}"]: v
                for k, v in values.items()
            }
            assert sensors == {"Inlet temperature": 245, "Water leak": 1}

    run(scenario)


# --- failures ------------------------------------------------------------------------------


def test_wrong_community_times_out(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            await client.get(target(lab, "acc-1", profiles["v2c"]), [SYS_DESCR])  # warm: engine
            started = time.monotonic()
            with pytest.raises(DeviceTimeout, match=r"^acc-1: no SNMP reply") as info:
                await client.get(target(lab, "acc-1", profiles["bad-community"]), [SYS_DESCR])
            elapsed = time.monotonic() - started
            assert TIMEOUT * 0.9 < elapsed < TIMEOUT + TIMEOUT_SLACK
            assert f"(1 tries of {TIMEOUT:g} s)" in str(info.value)
            assert info.value.host == "acc-1"

    run(scenario)


@pytest.mark.parametrize("kind", ["bad-auth", "bad-priv", "bad-user"])
def test_wrong_v3_credentials_are_auth_errors(
    profiles: dict[str, SnmpProfileSpec], kind: str, new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            with pytest.raises(AuthError, match=r"^acc-1: SNMP v3 authentication failed at udp "):
                await client.get(target(lab, "acc-1", profiles[kind]), [SYS_DESCR])

    run(scenario)


def test_silent_agent_times_out_within_the_timeout(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            await client.get(target(lab, "acc-1", profiles["v2c"]), [SYS_DESCR])  # warm: engine
            started = time.monotonic()
            with pytest.raises(DeviceTimeout) as info:
                await client.bulkwalk(target(lab, "hung-1", profiles["v2c"]), "1.3.6.1.2.1.2")
            elapsed = time.monotonic() - started
            assert TIMEOUT * 0.9 < elapsed < TIMEOUT + TIMEOUT_SLACK
            assert f"(1 tries of {TIMEOUT:g} s)" in str(info.value)

    run(scenario)


def test_concurrency_is_bounded_and_failures_stay_per_device(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, _):
            bounded = snmp.snmp_backend("pysnmp", concurrency=2)
            names = ["acc-1", "srv-1", "ups-1", "env-1", "hung-1"] * 3
            try:
                results = await asyncio.gather(
                    *(
                        bounded.get(target(lab, n, profiles["v2c"]), ["1.3.6.1.2.1.1.5.0"])
                        for n in names
                    ),
                    return_exceptions=True,
                )
            finally:
                await bounded.close()
            for name, result in zip(names, results, strict=True):
                if name == "hung-1":
                    assert isinstance(result, DeviceTimeout)
                else:
                    assert result == {"1.3.6.1.2.1.1.5.0": name}

    run(scenario)


# --- net-snmp tools --------------------------------------------------------------------------

NET_SNMP = shutil.which("snmpget") and shutil.which("snmpbulkwalk") and shutil.which("snmpwalk")
needs_net_snmp = pytest.mark.skipif(
    not NET_SNMP, reason="net-snmp tools not on PATH (Debian/Ubuntu: apt-get install -y snmp)"
)


async def net_snmp(*args: str) -> list[str]:
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "MIBS": "", "SNMP_PERSISTENT_DIR": "/tmp/govnet-net-snmp"},
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode().splitlines()


@needs_net_snmp
def test_net_snmp_get_and_walks(
    profiles: dict[str, SnmpProfileSpec], new_backend: snmp.BackendFactory
) -> None:
    async def scenario() -> None:
        async with lab_running(new_backend) as (lab, client):
            host, port = lab.address("acc-1")
            where = f"udp:{host}:{port}"
            v2c = ["-v2c", "-c", COMMUNITY, "-On", "-t", "1", "-r", "0"]
            v3 = [
                "-v3",
                "-l",
                "authPriv",
                "-u",
                USER,
                "-a",
                "SHA",
                "-A",
                AUTH_KEY,
                "-x",
                "AES",
                "-X",
                PRIV_KEY,
                "-On",
                "-t",
                "1",
                "-r",
                "0",
            ]
            for version in (v2c, v3):
                lines = await net_snmp("snmpget", *version, where, "1.3.6.1.2.1.1.5.0")
                assert lines == ['.1.3.6.1.2.1.1.5.0 = STRING: "acc-1"']
            ours = await client.bulkwalk(
                target(lab, "acc-1", profiles["v2c"]), "1.3.6.1.2.1.31.1.1.1"
            )
            for version in (v2c, v3):
                lines = await net_snmp(
                    "snmpbulkwalk", *version, "-Cr25", where, "1.3.6.1.2.1.31.1.1.1"
                )
                assert [line.split(" = ")[0].lstrip(".") for line in lines] == list(ours)
            lines = await net_snmp("snmpwalk", *v2c, where, "1.3.6.1.2.1.4.22.1.3")
            assert [line.split(": ")[-1] for line in lines] == [
                a["ip"] for a in SWITCH_TABLES["arp"]
            ]
            whole = await net_snmp("snmpbulkwalk", *v2c, where, ".1")
            assert len(whole) > 200

    run(scenario)
