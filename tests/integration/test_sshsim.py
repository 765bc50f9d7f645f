"""The SSH device simulator driven by unmodified netmiko over real SSH on 127.0.0.1.

One simulator per module (module-scoped fixture, a background asyncio loop) serves one device
per platform plus a silent one; netmiko sessions are opened once per platform and reused,
because some netmiko drivers spend seconds in timing-based reads (see bench/lab_ssh_bench.py).
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import paramiko
import pytest
from netmiko import BaseConnection, ConnectHandler
from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
)
from ntc_templates.parse import parse_output

from govnet.inventory.model import normalize_mac
from govnet.lab.data import LabBehaviour, LabDeviceData, LabTables
from govnet.lab.sshsim import SimDevice, SshSimulator
from govnet.platforms import get_platform

pytestmark = pytest.mark.integration

T = TypeVar("T")
USER, PASSWORD = "admin", "Lab-pw-2024"


def server_key(conn: BaseConnection) -> str:
    """The base64 host key the SSH server showed this netmiko connection."""
    channel = conn.remote_conn
    assert isinstance(channel, paramiko.Channel)
    key: str = channel.get_transport().get_remote_server_key().get_base64()
    return key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopThread:
    """An asyncio loop in a daemon thread, so blocking netmiko can run in the test thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def _tables(gi1: str, gi2: str, svi: str) -> LabTables:
    return LabTables.model_validate(
        {
            "interfaces": [
                {"name": gi1, "description": "office-pc"},
                {"name": gi2, "admin": "down", "oper": "down"},
                {"name": svi, "ip": "10.20.0.1/24"},
            ],
            "arp": [{"ip": "10.20.0.31", "mac": "a4:bb:6d:01:02:03", "interface": svi, "vlan": 20}],
            "mac": [{"mac": "a4:bb:6d:01:02:03", "vlan": 20, "interface": gi1}],
        }
    )


TABLES = {
    "huawei": _tables("GigabitEthernet0/0/1", "GigabitEthernet0/0/2", "Vlanif20"),
    "hp_comware": _tables("GigabitEthernet1/0/1", "GigabitEthernet1/0/2", "Vlan-interface20"),
    "cisco_ios": _tables("GigabitEthernet1/0/1", "GigabitEthernet1/0/2", "Vlan20"),
}
# what ntc-templates must read back: (ARP interface, MAC port, interface names)
EXPECTED = {
    "huawei": ("Vlanif20", "GE0/0/1", ["GigabitEthernet0/0/1", "GigabitEthernet0/0/2", "Vlanif20"]),
    "hp_comware": ("Vlan20", "GE1/0/1", ["Vlan20", "GE1/0/1", "GE1/0/2"]),
    "cisco_ios": ("Vlan20", "Gi1/0/1", ["GigabitEthernet1/0/1", "GigabitEthernet1/0/2", "Vlan20"]),
}
NAMES = {"huawei": "HW1", "hp_comware": "H3C", "cisco_ios": "R1", "linux": "srv1"}
ERRORS = {p: get_platform(p).errors or "" for p in NAMES}


@dataclass
class Lab:
    loop: LoopThread
    sim: SshSimulator
    devices: dict[str, SimDevice]
    conns: dict[str, Any] = field(default_factory=dict)

    def connect(self, name: str, **extra: Any) -> Any:
        d = self.devices[name]
        return ConnectHandler(
            device_type=d.platform,
            host=d.host,
            port=d.port,
            username=USER,
            password=extra.pop("password", PASSWORD),
            **extra,
        )

    def conn(self, platform: str) -> Any:
        """One reused session per platform (closed when the module ends)."""
        if platform not in self.conns:
            self.conns[platform] = self.connect(NAMES[platform], secret=PASSWORD)
        return self.conns[platform]

    def state_file(self, name: str, which: str) -> str:
        return (self.devices[name].state_dir / which).read_text(encoding="utf-8")


def _device(base: Path, name: str, platform: str, **behaviour: Any) -> SimDevice:
    return SimDevice(
        name=name,
        platform=platform,
        port=free_port(),
        username=USER,
        password=PASSWORD,
        state_dir=base / name,
        data=LabDeviceData(
            name=name,
            running_config=None,
            tables=TABLES.get(platform, LabTables()),
            behaviour=LabBehaviour(**behaviour),
        ),
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("sshsim")
    devices = [
        _device(base, "HW1", "huawei", reject=[r"^snmp-agent community .*private"]),
        _device(base, "H3C", "hp_comware"),
        _device(base, "R1", "cisco_ios"),
        _device(
            base,
            "srv1",
            "linux",
            commands={"clamscan --version": "ClamAV 1.0.5/27263/Tue Apr 30 08:20:26 2024"},
        ),
        _device(base, "mute", "huawei", silent=True),
    ]
    loop = LoopThread()
    sim = SshSimulator(devices, host_key=base / "ssh_host_ed25519_key")
    loop.run(sim.start())
    lab = Lab(loop, sim, {d.name: d for d in devices})
    try:
        yield lab
    finally:
        for conn in lab.conns.values():
            conn.disconnect()
        loop.run(sim.stop())
        loop.close()


# ------------------------------------------------------------------------------- prompts
def test_huawei_prompts_in_user_system_and_interface_views(lab: Lab) -> None:
    c = lab.conn("huawei")
    assert c.find_prompt() == "<HW1>"
    c.send_command("system-view", expect_string=r"\]")
    assert c.find_prompt() == "[HW1]"
    c.send_command("interface GigabitEthernet0/0/1", expect_string=r"\]")
    assert c.find_prompt() == "[HW1-GigabitEthernet0/0/1]"
    c.send_command("user-interface vty 0 4", expect_string=r"\]")
    assert c.find_prompt() == "[HW1-ui-vty0-4]"
    c.send_command("return", expect_string=r">")
    assert c.find_prompt() == "<HW1>"


def test_h3c_prompts(lab: Lab) -> None:
    c = lab.conn("hp_comware")
    assert c.find_prompt() == "<H3C>"
    c.config_mode()
    assert c.find_prompt() == "[H3C]"
    c.send_command("interface GigabitEthernet1/0/1", expect_string=r"\]")
    assert c.find_prompt() == "[H3C-GigabitEthernet1/0/1]"
    c.exit_config_mode()
    assert c.find_prompt() == "<H3C>"


def test_cisco_prompts(lab: Lab) -> None:
    c = lab.conn("cisco_ios")
    assert c.find_prompt() == "R1#"
    c.config_mode()
    assert c.find_prompt() == "R1(config)#"
    c.send_command("interface GigabitEthernet1/0/1", expect_string=r"#")
    assert c.find_prompt() == "R1(config-if)#"
    c.exit_config_mode()
    assert c.find_prompt() == "R1#"


# ------------------------------------------------------------------------------- tables
@pytest.mark.parametrize("platform", ["huawei", "hp_comware", "cisco_ios"])
def test_tables_parse_back_with_ntc_templates(lab: Lab, platform: str) -> None:
    c = lab.conn(platform)
    p = get_platform(platform)
    arp_if, mac_port, if_names = EXPECTED[platform]

    def parsed(what: str) -> list[dict[str, Any]]:
        command = p.command(what)
        assert command and p.templates
        result: list[dict[str, Any]] = parse_output(
            platform=p.templates, command=command, data=c.send_command(command)
        )
        return result

    arp = parsed("arp")
    assert [(r["ip_address"], normalize_mac(r["mac_address"]), r["interface"]) for r in arp] == [
        ("10.20.0.31", "a4:bb:6d:01:02:03", arp_if)
    ]
    mac = parsed("mac")
    assert len(mac) == 1
    row = mac[0]
    port = row.get("destination_port") or row["interface"]
    assert normalize_mac(row.get("destination_address") or row["mac_address"]) == (
        "a4:bb:6d:01:02:03"
    )
    assert (port[0] if isinstance(port, list) else port) == mac_port
    assert row["vlan_id"] == "20"
    assert [r["interface"] for r in parsed("interfaces")] == if_names


def test_version_commands(lab: Lab) -> None:
    hw = parse_output(
        platform="huawei_vrp",
        command="display version",
        data=lab.conn("huawei").send_command("display version"),
    )
    assert hw[0]["vrp_version"] == "5.170"
    ios = parse_output(
        platform="cisco_ios",
        command="show version",
        data=lab.conn("cisco_ios").send_command("show version"),
    )
    assert ios[0]["hostname"] == "R1" and ios[0]["version"] == "15.2(7)E4"


# ------------------------------------------------------------------------------- config
def test_cisco_send_config_set_changes_running_config_and_state_dir(lab: Lab) -> None:
    c = lab.conn("cisco_ios")
    lines = [
        "interface GigabitEthernet1/0/2",
        "description uplink-to-core",
        "shutdown",
        "exit",
        "no ip http server",
        "line vty 0 4",
        "transport input ssh",
        "exec-timeout 10 0",
    ]
    c.send_config_set(lines, error_pattern=ERRORS["cisco_ios"])
    running = c.send_command("show running-config")
    assert running.startswith("Building configuration...")
    assert re.search(r"^Current configuration : \d+ bytes$", running, re.M)
    assert (
        "interface GigabitEthernet1/0/2\n switchport access vlan 10\n switchport mode access\n"
        " description uplink-to-core\n shutdown\n!\n"
    ) in running
    assert "\nno ip http server\nip http secure-server\n" in running
    assert "line vty 0 4\n login local\n transport input ssh\n exec-timeout 10 0\n" in running
    on_disk = lab.state_file("R1", "running.cfg")
    assert " description uplink-to-core\n" in on_disk


def test_huawei_send_config_set_with_netmiko_defaults(lab: Lab) -> None:
    """The full default path (netmiko's Huawei driver spends ~9 s in timing reads here)."""
    c = lab.conn("huawei")
    out = c.send_config_set(
        [
            "undo telnet server enable",
            "info-center loghost 10.9.9.9",
            "user-interface vty 0 4",
            "protocol inbound ssh",
            "idle-timeout 5 0",
        ],
        error_pattern=ERRORS["huawei"],
    )
    assert "[HW1-ui-vty0-4]" in out
    assert c.find_prompt() == "<HW1>"
    running = c.send_command("display current-configuration")
    assert "\n telnet server enable\n" not in running
    assert "\n undo telnet server enable\n" in running
    assert "\n info-center loghost 10.9.9.9\n" in running
    assert "user-interface vty 0 4\n authentication-mode aaa\n protocol inbound ssh\n" in running
    assert " idle-timeout 5 0\n" in running
    assert running.rstrip().endswith("#\nreturn")


def test_h3c_send_config_set_with_netmiko_defaults(lab: Lab) -> None:
    c = lab.conn("hp_comware")
    c.send_config_set(["line vty 0 63", "authentication-mode scheme", "idle-timeout 10 0"])
    running = c.send_command("display current-configuration")
    assert "line vty 0 63\n authentication-mode scheme\n user-role network-operator\n" in running
    assert " idle-timeout 10 0\n" in running


@pytest.mark.parametrize("platform", ["huawei", "hp_comware", "cisco_ios"])
def test_unknown_config_lines_raise_through_error_pattern(lab: Lab, platform: str) -> None:
    c = lab.conn(platform)
    before = c.send_command(get_platform(platform).command("running_config") or "")
    huawei = platform == "huawei"
    if huawei:  # enter system-view ourselves: netmiko's Huawei mode checks are timing reads
        c.send_command("system-view", expect_string=r"\]")
    with pytest.raises(ConfigInvalidException, match=r"Unrecognized|Invalid input"):
        c.send_config_set(
            ["frobnicate the network"],
            error_pattern=ERRORS[platform],
            enter_config_mode=not huawei,
            exit_config_mode=False,
        )
    c.send_command(get_platform(platform).config_exit or "", expect_string=r"[>#]")
    after = c.send_command(get_platform(platform).command("running_config") or "")
    strip = re.compile(r"^Current configuration : \d+ bytes$", re.M)
    assert strip.sub("", after) == strip.sub("", before)


def test_reject_regex_refuses_the_line_with_the_vendor_error(lab: Lab) -> None:
    c = lab.conn("huawei")
    c.send_command("system-view", expect_string=r"\]")
    with pytest.raises(ConfigInvalidException, match="snmp-agent community write private"):
        c.send_config_set(
            ["snmp-agent community write private"],
            error_pattern=ERRORS["huawei"],
            enter_config_mode=False,
            exit_config_mode=False,
        )
    reply = c.send_command("snmp-agent community read private", expect_string=r"\]")
    assert reply.splitlines()[-1] == "Error: Unrecognized command found at '^' position."
    c.send_command("return", expect_string=r">")
    assert "community write private" not in c.send_command("display current-configuration")


def test_unknown_exec_commands_print_the_vendor_error(lab: Lab) -> None:
    hw = lab.conn("huawei").send_command("display nothing-here")
    assert hw.splitlines()[-1] == "Error: Unrecognized command found at '^' position."
    assert hw.splitlines()[-2].endswith("^")
    h3c = lab.conn("hp_comware").send_command("frob")
    assert "% Unrecognized command found at '^' position." in h3c
    ios = lab.conn("cisco_ios").send_command("frob")
    assert "% Invalid input detected at '^' marker." in ios


# ------------------------------------------------------------------------------- save
@pytest.mark.parametrize("platform", ["huawei", "hp_comware", "cisco_ios"])
def test_save_config_copies_running_to_startup(lab: Lab, platform: str) -> None:
    c = lab.conn(platform)
    name = NAMES[platform]
    out = c.save_config()
    assert re.search(r"successfully|\[OK\]", out)
    startup = lab.state_file(name, "startup.cfg")
    assert startup == lab.state_file(name, "running.cfg")
    if platform == "hp_comware":
        c.exit_config_mode()  # netmiko's Comware save_config leaves system-view
    shown = c.send_command(
        "display saved-configuration" if platform != "cisco_ios" else "show startup-config"
    )
    assert startup.rstrip().splitlines()[-3] in shown


# ------------------------------------------------------------------------------- linux
def test_linux_commands(lab: Lab) -> None:
    c = lab.conn("linux")
    assert c.find_prompt() == "admin@srv1:~$"
    assert c.send_command("uname -a").startswith("Linux srv1 ")
    assert c.send_command("hostname") == "srv1"
    assert "PermitRootLogin no" in c.send_command(get_platform("linux").command("running_config"))
    assert c.send_command("clamscan --version").startswith("ClamAV 1.0.5/27263")
    assert c.send_command("nmap -sS 10.0.0.0/8") == "bash: nmap: command not found"


# ------------------------------------------------------------------------------- failures
def test_wrong_password_is_an_authentication_failure(lab: Lab) -> None:
    with pytest.raises(NetmikoAuthenticationException):
        lab.connect("R1", password="not-the-password")


def test_silent_device_accepts_tcp_but_never_sends_a_banner(lab: Lab) -> None:
    d = lab.devices["mute"]
    with socket.create_connection((d.host, d.port), timeout=2) as s:  # TCP is accepted
        s.settimeout(0.3)
        with pytest.raises(TimeoutError):
            s.recv(100)
    started = time.monotonic()
    with pytest.raises(NetmikoTimeoutException):
        lab.connect("mute", banner_timeout=1, conn_timeout=2, auth_timeout=2)
    assert time.monotonic() - started < 10


# ------------------------------------------------------------------------------- restart
def test_restart_keeps_config_and_host_key_and_stop_closes_sessions(tmp_path: Path) -> None:
    devices = [
        _device(tmp_path, "R9", "cisco_ios"),
        _device(tmp_path, "dead", "linux", silent=True),
    ]
    key = tmp_path / "hostkey"
    loop = LoopThread()
    try:
        sim = SshSimulator(devices, host_key=key)
        loop.run(sim.start())
        c = ConnectHandler(
            device_type="cisco_ios",
            host="127.0.0.1",
            port=devices[0].port,
            username=USER,
            password=PASSWORD,
        )
        fingerprint = server_key(c)
        c.send_config_set(["hostname EDGE9", "logging host 10.9.9.9"])
        hung = socket.create_connection(("127.0.0.1", devices[1].port), timeout=2)
        loop.run(sim.stop())
        hung.settimeout(2)
        assert hung.recv(100) == b""  # the silent device's connection was closed
        hung.close()
        with pytest.raises(OSError):
            c.send_command("show clock", read_timeout=2)
        c.disconnect()

        again = SshSimulator(devices, host_key=key)
        loop.run(again.start())
        try:
            c = ConnectHandler(
                device_type="cisco_ios",
                host="127.0.0.1",
                port=devices[0].port,
                username=USER,
                password=PASSWORD,
            )
            assert c.find_prompt() == "EDGE9#"
            assert "logging host 10.9.9.9" in c.send_command("show running-config")
            assert server_key(c) == fingerprint
            c.disconnect()
        finally:
            loop.run(again.stop())
    finally:
        loop.close()
