"""Starting configurations a device could hold, generated from a platform's grammar.

A configuration is the platform's factory default (govnet/lab/seeds/defaults) plus a choice
per *slot*: each slot is one baseline setting (or an unrelated one) with the forms a county's
switch may show — the baseline's own line, its absence, its negation, another value. The
chosen lines are typed, in a drawn order, into a lab device of that platform, and what the
device then prints is the starting configuration: so only configurations the device itself
could print are generated (its order, its ``undo`` forms, its unprinted defaults).
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from govnet.lab.data import LabDeviceData
from govnet.lab.shell import DeviceState, Shell, default_config

Form = tuple[str, ...]  # typed lines; a section is its header then " child" lines
Slot = tuple[Form, ...]  # the alternatives; () = leave the default

_NONE: Form = ()

HUAWEI: tuple[Slot, ...] = (
    (_NONE, ("telnet server enable",), ("undo telnet server enable",)),
    (_NONE, ("http server enable",), ("undo http server enable",)),
    (_NONE, ("stelnet server enable",), ("undo stelnet server enable",)),
    (_NONE, ("info-center loghost 10.10.0.10",), ("info-center loghost 192.168.1.250",)),
    (_NONE, ("undo info-center enable",)),
    (_NONE, ("ntp-service unicast-server 10.10.0.10",), ("ntp-service unicast-server 1.2.3.4",)),
    (_NONE, ("snmp-agent community read public",), ("snmp-agent community read town-ro",)),
    (_NONE, ("snmp-agent community write private",)),
    (
        _NONE,
        ("snmp-agent sys-info version v3",),
        ("snmp-agent sys-info version all",),
        ("snmp-agent sys-info version v2c",),
    ),
    (
        _NONE,
        ("snmp-agent group v3 govnet-ro privacy read-view iso-view",),
        ("snmp-agent group v3 govnet-ro authentication",),
    ),
    (_NONE, ("snmp-agent mib-view included iso-view iso",)),
    (_NONE, ("snmp-agent usm-user v3 old-v3 authentication-mode md5 cipher OldAuthKey123",)),
    (
        _NONE,
        (
            "acl number 2001",
            " description mgmt-access",
            " rule 5 permit source 10.10.0.0 0.0.0.255",
            " rule 100 deny",
        ),
        ("acl number 2001", " rule 5 permit source 192.168.0.0 0.0.255.255"),
        ("acl number 2001", " description old", " rule 10 permit"),
    ),
    (
        _NONE,
        ("aaa", " undo local-aaa-user wrong-password"),
        ("aaa", " local-aaa-user wrong-password retry-interval 5 retry-time 3 block-time 15"),
        ("aaa", " local-aaa-user wrong-password retry-interval 5 retry-time 3 block-time 5"),
    ),
    (
        _NONE,
        ("aaa", " local-aaa-user password policy administrator", "  password expire 0"),
        (
            "aaa",
            " local-aaa-user password policy administrator",
            "  password expire 90",
            "  password history record number 5",
        ),
        (
            "aaa",
            " local-aaa-user password policy administrator",
            "  password history record number 3",
        ),
    ),
    (
        _NONE,
        ("user-interface con 0", " idle-timeout 0 0"),
        ("user-interface con 0", " idle-timeout 5 0"),
    ),
    *(
        (
            _NONE,
            (vty, " protocol inbound telnet"),
            (vty, " protocol inbound all"),
            (vty, " protocol inbound ssh"),
        )
        for vty in ("user-interface vty 0 4", "user-interface vty 16 20")
    ),
    *(
        (_NONE, (vty, " acl 2001 inbound"), (vty, " acl 3000 inbound"))
        for vty in ("user-interface vty 0 4", "user-interface vty 16 20")
    ),
    *(
        (_NONE, (vty, " idle-timeout 0 0"), (vty, " idle-timeout 5 0"), (vty, " idle-timeout 20 0"))
        for vty in ("user-interface vty 0 4", "user-interface vty 16 20")
    ),
    *(
        (_NONE, (vty, " authentication-mode aaa"), (vty, " authentication-mode password"))
        for vty in ("user-interface vty 0 4", "user-interface vty 16 20")
    ),
    # unrelated settings the baseline leaves alone
    (_NONE, ("undo lldp enable",), ("stp mode mstp",)),
    (_NONE, ("snmp-agent sys-info contact noc@county.gov",)),
    (_NONE, ("interface GigabitEthernet0/0/2", " description office-2")),
    (_NONE, ("vlan 30", " description printers")),
)

COMWARE: tuple[Slot, ...] = (
    (_NONE, ("undo telnet server enable",), ("telnet server enable",)),
    (_NONE, ("ip http enable",), ("undo ip http enable",)),
    (_NONE, ("undo ssh server enable",)),
    (_NONE, ("clock protocol ntp",), ("clock protocol none",)),
    (_NONE, ("ntp-service enable",)),
    (_NONE, ("ntp-service unicast-server 10.10.0.10",), ("ntp-service unicast-server 1.2.3.4",)),
    (_NONE, ("info-center loghost 10.10.0.10",), ("info-center loghost 192.168.1.250",)),
    (_NONE, ("undo info-center enable",)),
    (_NONE, ("password-control enable",)),
    (_NONE, ("password-control length 10",), ("password-control length 6",)),
    (_NONE, ("password-control aging 90",), ("password-control aging 180",)),
    (
        _NONE,
        ("password-control composition type-number 3 type-length 1",),
        ("password-control composition type-number 1 type-length 1",),
    ),
    (
        _NONE,
        ("password-control login-attempt 5 exceed lock-time 30",),
        ("password-control login-attempt 10 exceed unblock",),
    ),
    (_NONE, ("snmp-agent community read public",), ("snmp-agent community read town-ro",)),
    (_NONE, ("snmp-agent community write private",)),
    (_NONE, ("snmp-agent sys-info version v3",), ("snmp-agent sys-info version all",)),
    (
        _NONE,
        ("snmp-agent group v3 govnet-ro privacy",),
        ("snmp-agent group v3 govnet-ro authentication",),
    ),
    (_NONE, ("snmp-agent usm-user v3 old-v3 old-ro cipher authentication-mode md5 $c$3$OldKey==",)),
    (
        _NONE,
        (
            "acl basic 2001",
            " description mgmt-access",
            " rule 5 permit source 10.10.0.0 0.0.0.255",
            " rule 100 deny",
        ),
        ("acl basic 2001", " rule 5 permit source 192.168.0.0 0.0.255.255"),
    ),
    (_NONE, ("line aux 0", " idle-timeout 0 0"), ("line aux 0", " idle-timeout 5 0")),
    (
        _NONE,
        ("line vty 0 63", " protocol inbound telnet"),
        ("line vty 0 63", " protocol inbound all"),
        ("line vty 0 63", " protocol inbound ssh"),
    ),
    (_NONE, ("line vty 0 63", " acl 2001 inbound"), ("line vty 0 63", " acl 3000 inbound")),
    (_NONE, ("line vty 0 63", " idle-timeout 0 0"), ("line vty 0 63", " idle-timeout 30 0")),
    (
        _NONE,
        ("line vty 0 63", " authentication-mode none"),
        ("line vty 0 63", " authentication-mode password"),
    ),
    (_NONE, ("undo lldp global enable",)),
    (_NONE, ("snmp-agent sys-info contact noc@county.gov",)),
    (_NONE, ("interface GigabitEthernet1/0/2", " description office-2")),
    (_NONE, ("vlan 30", " name printers")),
)

IOS: tuple[Slot, ...] = (
    (
        _NONE,
        ("service timestamps log datetime msec",),
        ("service timestamps log datetime msec localtime show-timezone",),
    ),
    (_NONE, ("ip ssh version 2",), ("ip ssh version 1",)),
    (_NONE, ("ip ssh authentication-retries 3",), ("ip ssh authentication-retries 5",)),
    (
        _NONE,
        ("login block-for 120 attempts 3 within 60",),
        ("login block-for 30 attempts 10 within 60",),
    ),
    (_NONE, ("security passwords min-length 8",), ("security passwords min-length 4",)),
    (_NONE, ("ip http server",), ("no ip http server",)),
    (_NONE, ("ip http secure-server",), ("no ip http secure-server",)),
    (
        _NONE,
        ("ip access-list standard MGMT", " permit 172.20.0.0 0.0.0.255", " deny any log"),
        ("ip access-list standard MGMT", " permit 192.168.0.0 0.0.255.255"),
    ),
    (_NONE, ("logging host 172.20.0.10",), ("logging host 192.168.1.250",)),
    (_NONE, ("no logging on",)),
    (_NONE, ("snmp-server community public RO",), ("snmp-server community town-ro RO",)),
    (_NONE, ("snmp-server community private RW",)),
    (
        _NONE,
        ("snmp-server group govnet-ro v3 priv",),
        ("snmp-server group govnet-ro v3 auth",),
        ("snmp-server group old v2c",),
    ),
    (_NONE, ("line con 0", " exec-timeout 0 0"), ("line con 0", " exec-timeout 5 0")),
    *(
        (
            _NONE,
            (vty, " transport input telnet"),
            (vty, " transport input all"),
            (vty, " transport input ssh"),
            (vty, " transport input telnet ssh"),
        )
        for vty in ("line vty 0 4", "line vty 5 15")
    ),
    *(
        (_NONE, (vty, " access-class MGMT in"), (vty, " access-class 10 in"))
        for vty in ("line vty 0 4", "line vty 5 15")
    ),
    *(
        (_NONE, (vty, " exec-timeout 0 0"), (vty, " exec-timeout 5 0"), (vty, " exec-timeout 30 0"))
        for vty in ("line vty 0 4", "line vty 5 15")
    ),
    (_NONE, ("ntp server 172.20.0.10",), ("ntp server 1.2.3.4",)),
    (_NONE, ("spanning-tree mode rapid-pvst",)),
    (_NONE, ("interface GigabitEthernet0/2", " description office-2")),
    (_NONE, ("vlan 30", " name printers")),
)

GRAMMARS: dict[str, tuple[Slot, ...]] = {"huawei": HUAWEI, "hp_comware": COMWARE, "cisco_ios": IOS}


def configs(platform: str, hostname: str) -> st.SearchStrategy[str]:
    """Starting configurations for ``platform``: a form per slot, typed in a drawn order."""
    grammar = GRAMMARS[platform]
    forms = st.tuples(*(st.sampled_from(slot) for slot in grammar))
    return st.tuples(forms, st.permutations(range(len(grammar)))).map(
        lambda drawn: build(platform, hostname, [drawn[0][i] for i in drawn[1]])
    )


def build(platform: str, hostname: str, forms: Sequence[Form]) -> str:
    """Type ``forms`` into a factory-default device; what it then prints."""
    import tempfile
    from pathlib import Path

    seed = default_config(platform).replace("{hostname}", hostname)
    with tempfile.TemporaryDirectory(prefix="provgen-") as tmp:
        state = DeviceState.load(
            hostname, platform, LabDeviceData(hostname, seed), Path(tmp), hostname=None
        )
        shell = Shell(state, "govnet")
        dialect = state.vendor.config
        assert dialect is not None
        shell.handle(_enter(platform))
        for form in forms:
            for line in form:
                if not line.startswith(" "):
                    shell.context, shell._labels = [], []  # back to the top level
                shell.handle(line.strip())
        return state.running_text()


def _enter(platform: str) -> str:
    from govnet.platforms import get_platform

    return get_platform(platform).config_enter or ""
