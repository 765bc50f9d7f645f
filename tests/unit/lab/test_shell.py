"""The device shell without SSH: prompts, config mode, errors, persistence, pipes, linux."""

from __future__ import annotations

from pathlib import Path

import pytest

from govnet.lab.data import LabBehaviour, LabDeviceData
from govnet.lab.shell import RUNNING, STARTUP, DeviceState, Shell


def _state(
    tmp_path: Path,
    platform: str,
    *,
    config: str | None = None,
    behaviour: LabBehaviour | None = None,
    name: str = "D1",
) -> DeviceState:
    data = LabDeviceData(name=name, running_config=config, behaviour=behaviour or LabBehaviour())
    return DeviceState.load(name, platform, data, tmp_path / name, password="pw")


def _session(shell: Shell, lines: list[str]) -> str:
    """What a terminal shows: greeting, then every typed line echoed after its prompt."""
    out = shell.greeting()
    for line in lines:
        out += line + "\n" + shell.handle(line)
    return out


def test_huawei_views_and_prompts(tmp_path: Path) -> None:
    shell = Shell(_state(tmp_path, "huawei"), "admin")
    assert shell.prompt == "<D1>"
    shell.handle("system-view")
    assert shell.prompt == "[D1]"
    shell.handle("interface g0/0/1")
    assert shell.prompt == "[D1-GigabitEthernet0/0/1]"
    shell.handle("user-interface vty 0 4")  # another top-level section switches view
    assert shell.prompt == "[D1-ui-vty0-4]"
    shell.handle("quit")
    shell.handle("ospf 1")
    shell.handle("area 0.0.0.0")
    assert shell.prompt == "[D1-ospf-1-area-0.0.0.0]"
    shell.handle("quit")
    assert shell.prompt == "[D1-ospf-1]"
    assert shell.handle("return") == "<D1>"
    assert shell.handle("quit") == ""  # logged out: no prompt follows
    assert shell.closed


def test_cisco_modes_and_prompts(tmp_path: Path) -> None:
    shell = Shell(_state(tmp_path, "cisco_ios"), "admin")
    assert shell.prompt == "D1#"
    assert shell.handle("conf t").startswith("Enter configuration commands")
    assert shell.prompt == "D1(config)#"
    shell.handle("int gi1/0/1")
    assert shell.prompt == "D1(config-if)#"
    shell.handle("line vty 0 4")
    assert shell.prompt == "D1(config-line)#"
    shell.handle("exit")
    assert shell.prompt == "D1(config)#"
    shell.handle("exit")
    assert shell.prompt == "D1#"
    shell.handle("disable")
    assert shell.prompt == "D1>"
    assert "% Invalid input" in shell.handle("configure terminal")
    shell.handle("enable")
    assert shell.prompt == "D1#"


def test_huawei_unknown_command_error_has_caret_under_the_bad_word(tmp_path: Path) -> None:
    shell = Shell(_state(tmp_path, "huawei"), "admin")
    shell.handle("system-view")
    reply = shell.handle("foo bar")
    caret = " " * len("[D1]") + "^"
    assert reply == f"{caret}\nError: Unrecognized command found at '^' position.\n[D1]"
    reply = shell.handle("display foo")
    assert reply.splitlines()[0] == " " * len("[D1]display ") + "^"


def test_h3c_and_cisco_error_texts(tmp_path: Path) -> None:
    h3c = Shell(_state(tmp_path, "hp_comware", name="H1"), "admin")
    assert " % Unrecognized command found at '^' position." in h3c.handle("foo")
    cisco = Shell(_state(tmp_path, "cisco_ios", name="C1"), "admin")
    cisco.handle("configure terminal")
    reply = cisco.handle("frobnicate now")
    assert reply.splitlines()[:2] == [
        " " * len("C1(config)#") + "^",
        "% Invalid input detected at '^' marker.",
    ]
    assert '% Ambiguous command:  "e"' in Shell(cisco.state, "admin").handle("e")  # enable/exit


def test_config_edits_show_in_running_config_and_persist(tmp_path: Path) -> None:
    state = _state(tmp_path, "huawei")
    shell = Shell(state, "admin")
    _session(
        shell,
        [
            "system-view",
            "undo telnet server enable",
            "undo ftp server enable",
            "user-interface vty 0 4",
            "protocol inbound ssh",
            "idle-timeout 5 0",
            "return",
        ],
    )
    running = shell.handle("display current-configuration")
    assert "\n telnet server enable\n" not in running  # replaced by its negation:
    assert "\n undo telnet server enable\n" in running  # telnet is on by default
    assert "\n undo ftp server enable\n" in running  # nothing to remove: recorded
    assert "user-interface vty 0 4\n authentication-mode aaa\n protocol inbound ssh\n" in running
    assert " idle-timeout 5 0\n" in running
    on_disk = (tmp_path / "D1" / RUNNING).read_text()
    assert "protocol inbound ssh" in on_disk
    assert not (tmp_path / "D1" / STARTUP).exists()  # not saved yet

    reloaded = Shell(_state(tmp_path, "huawei"), "admin")  # a restart
    assert reloaded.handle("display current-configuration") == running


def test_rejected_lines_fail_and_change_nothing(tmp_path: Path) -> None:
    state = _state(
        tmp_path, "cisco_ios", behaviour=LabBehaviour(reject=[r"^snmp-server community"])
    )
    shell = Shell(state, "admin")
    shell.handle("configure terminal")
    before = state.running_text()
    reply = shell.handle("snmp-server community private RW")
    assert "% Invalid input detected at '^' marker." in reply
    assert state.running_text() == before
    assert not (tmp_path / "D1" / RUNNING).exists()


def test_save_asks_on_huawei_and_writes_startup(tmp_path: Path) -> None:
    state = _state(tmp_path, "huawei")
    shell = Shell(state, "admin")
    _session(shell, ["system-view", "sysname CORE1", "return"])
    assert shell.prompt == "<CORE1>"
    question = shell.handle("save")
    assert question.endswith("Are you sure to continue?[Y/N]:")
    assert shell.handle("y").endswith("Save the configuration successfully.\n<CORE1>")
    saved = (tmp_path / "D1" / STARTUP).read_text()
    assert " sysname CORE1\n" in saved
    assert " sysname CORE1" in shell.handle("display saved-configuration")


def test_save_can_be_declined(tmp_path: Path) -> None:
    shell = Shell(_state(tmp_path, "huawei"), "admin")
    shell.handle("save")
    assert shell.handle("n") == "<D1>"
    assert not (tmp_path / "D1" / STARTUP).exists()


def test_cisco_running_config_header_counts_bytes(tmp_path: Path) -> None:
    shell = Shell(_state(tmp_path, "cisco_ios"), "admin")
    out = shell.handle("show running-config").rsplit("\n", 1)[0]
    head, _, body = out.partition("\n\nCurrent configuration : ")
    assert head == "Building configuration..."
    size, _, config = body.partition(" bytes\n")
    assert int(size) == len(config) + 1
    assert config.startswith("!\nversion 15.2\n") and config.endswith("\nend")


def test_cisco_global_lines_leave_the_section_but_huawei_refuses_them(tmp_path: Path) -> None:
    cisco = Shell(_state(tmp_path, "cisco_ios", name="C1"), "admin")
    _session(cisco, ["configure terminal", "interface gi1/0/1", "hostname EDGE1"])
    assert cisco.prompt == "EDGE1(config)#"
    huawei = Shell(_state(tmp_path, "huawei", name="H1"), "admin")
    _session(huawei, ["system-view", "interface g0/0/1"])
    assert "Error: Unrecognized command" in huawei.handle("sysname X")
    assert huawei.prompt == "[H1-GigabitEthernet0/0/1]"


def test_pipes_filter_output(tmp_path: Path) -> None:
    cisco = Shell(_state(tmp_path, "cisco_ios"), "admin")
    assert cisco.handle("show running-config | include ^hostname") == "hostname D1\nD1#"
    section = cisco.handle("sh run | section line vty")
    assert section.startswith("line vty 0 4\n login local\n transport input ssh telnet\n")


def test_do_runs_exec_commands_in_config_mode(tmp_path: Path) -> None:
    cisco = Shell(_state(tmp_path, "cisco_ios"), "admin")
    cisco.handle("configure terminal")
    assert cisco.handle("do show run | i ^hostname") == "hostname D1\nD1(config)#"
    huawei = Shell(_state(tmp_path, "huawei", name="H1"), "admin")
    huawei.handle("system-view")
    assert huawei.handle("dis cur | i ^ sysname") == " sysname H1\n[H1]"


def test_behaviour_version_and_literal_commands(tmp_path: Path) -> None:
    behaviour = LabBehaviour(
        version="Linux srv 6.1.0 x86_64 GNU/Linux",
        commands={"clamscan --version": "ClamAV 1.0.5/27263/Tue Apr 30 2024"},
    )
    shell = Shell(_state(tmp_path, "linux", behaviour=behaviour, name="srv"), "admin")
    assert shell.prompt == "admin@srv:~$ "
    assert shell.handle("uname -a") == "Linux srv 6.1.0 x86_64 GNU/Linux\nadmin@srv:~$ "
    assert shell.handle("clamscan --version").startswith("ClamAV 1.0.5/27263")
    assert shell.handle("hostname") == "srv\nadmin@srv:~$ "
    assert shell.handle("frob -x") == "bash: frob: command not found\nadmin@srv:~$ "


def test_linux_cat_and_sudo(tmp_path: Path) -> None:
    shell = Shell(_state(tmp_path, "linux", name="srv"), "admin")
    out = shell.handle("cat /etc/hostname /nope")
    assert out == "srv\ncat: /nope: No such file or directory\nadmin@srv:~$ "
    quiet = shell.handle("cat /etc/network/interfaces /etc/ssh/sshd_config /nope 2>/dev/null")
    assert "iface eth0 inet static" in quiet and "PermitRootLogin no" in quiet
    assert "No such file" not in quiet
    assert shell.handle("sudo -s") == "[sudo] password for admin: "
    assert not shell.echo
    assert shell.handle("pw") == "root@srv:~# "
    assert shell.handle("exit") == "admin@srv:~$ "
    assert not shell.closed


@pytest.mark.parametrize(
    ("platform", "command"),
    [
        ("huawei", "screen-length 0 temporary"),
        ("huawei", "undo terminal monitor"),
        ("hp_comware", "screen-length disable"),
        ("cisco_ios", "terminal length 0"),
        ("cisco_ios", "terminal width 511"),
        ("ruijie_os", "terminal width 256"),
    ],
)
def test_session_preparation_commands_are_accepted(
    tmp_path: Path, platform: str, command: str
) -> None:
    shell = Shell(_state(tmp_path, platform), "admin")
    reply = shell.handle(command)
    assert reply.endswith(shell.prompt)
    assert "rror" not in reply and "%" not in reply
