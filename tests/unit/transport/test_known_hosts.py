"""Host key files and policies (govnet/transport/hostkeys.py): no network.

Keys, fingerprints and the hashed line were made with OpenSSH's ssh-keygen (-t, -lf, -H).
"""

from __future__ import annotations

import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from govnet.transport.hostkeys import (
    HostKey,
    HostKeyError,
    KnownHosts,
    assess,
    known_hosts_path,
    parse_known_hosts,
    verify,
)

K1 = "AAAAC3NzaC1lZDI1NTE5AAAAIPONrMegJsie4XaL8gc56SWvDyz947C0CTeUeg4hjQM7"
K1_FP = "SHA256:kGzQlpx9IWUV+ZjUkLmp4MQP9qvCYz7SSyvSb/oZlos"
K2 = "AAAAC3NzaC1lZDI1NTE5AAAAING8kYc1S/rGySWpMq+KrUdbNc+W909aQ4n4TbDKzPsv"
K2_FP = "SHA256:pGnnk2TAE4IHSUeyCBeBeS21jcNGpzVDV0UF5LGmWfI"
RSA = (
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7WENuliwRPn43zkB0JDqbefaBF/GJUN2yXpYYXOfgGCGmsnYbq9w5e9NSaQFN"
    "umySFahW3DVgrmxuSatp+c7LCRO9Jyh0dXhkvOXSQlLxQeiHEPsqnB168QH2yfLnxDlFXbgb9UJY/Zw/1nSikplwFD6t"
    "LGbIfblezOqqPul4LQ=="
)
RSA_FP = "SHA256:Hye1xnws9B0+wiGJ4vNViRFdL080+iOyObUzkSTLgBk"
HASHED_10_1_1_1_2222 = "|1|OLeuMprcxniH4MsDel/n73bsC2c=|A1ZeuOPCMkphCawZNKOYLDwiLMY="

k1 = HostKey.parse("ssh-ed25519", K1)
k2 = HostKey.parse("ssh-ed25519", K2)
rsa = HostKey.parse("ssh-rsa", RSA)


def test_fingerprints_are_openssh_sha256() -> None:
    assert (k1.fingerprint, k2.fingerprint, rsa.fingerprint) == (K1_FP, K2_FP, RSA_FP)
    assert rsa.keytype == "ssh-rsa" and str(k1) == f"ssh-ed25519 {K1_FP}"


def test_parse_reads_names_patterns_hashes_markers_and_reports_bad_lines(tmp_path: Path) -> None:
    text = f"""# comment
10.0.0.1 ssh-ed25519 {K1}
[10.0.0.2]:2222,10.0.0.3 ssh-ed25519 {K2} device=sw2 first-seen=2026-12-01T00:00:00Z via=tofu
{HASHED_10_1_1_1_2222} ssh-ed25519 {K1}
10.9.*,!10.9.0.5 ssh-rsa {RSA}
@revoked * ssh-ed25519 {K2}
@cert-authority *.gov ssh-ed25519 {K1}
10.0.0.4 ssh-ed25519 {RSA}
10.0.0.5 ssh-ed25519 not-base64!
10.0.0.6
"""
    entries, problems = parse_known_hosts(text, tmp_path / "kh")
    assert [e.line for e in entries] == [2, 3, 4, 5, 6, 7]
    assert problems == [
        f"{tmp_path / 'kh'}:8: key data is not a ssh-ed25519 key, ignored",
        f"{tmp_path / 'kh'}:9: key is not valid base64, ignored",
        f"{tmp_path / 'kh'}:10: expected 'HOSTS KEYTYPE KEY', ignored",
    ]
    plain, listed, hashed, pattern, revoked, ca = entries
    assert plain.matches("10.0.0.1") and not plain.matches("[10.0.0.1]:2222")
    assert listed.matches("[10.0.0.2]:2222") and listed.matches("10.0.0.3")
    assert not listed.matches("10.0.0.2")  # port 22 is another entry
    assert listed.meta() == {"device": "sw2", "first-seen": "2026-12-01T00:00:00Z", "via": "tofu"}
    assert hashed.matches("[10.1.1.1]:2222") and not hashed.matches("10.1.1.1")
    assert pattern.matches("10.9.1.1") and not pattern.matches("10.9.0.5")
    assert (revoked.marker, ca.marker) == ("@revoked", "@cert-authority")
    assert listed.to_line().startswith(f"[10.0.0.2]:2222,10.0.0.3 ssh-ed25519 {K2} device=sw2")


def _entries(tmp_path: Path, text: str) -> list:  # type: ignore[type-arg]
    return parse_known_hosts(text, tmp_path / "kh")[0]


@pytest.mark.parametrize("policy", ["strict", "tofu", "accept-new"])
def test_same_key_is_known_and_a_different_one_of_its_type_changed(
    tmp_path: Path, policy: str
) -> None:
    entries = _entries(tmp_path, f"h ssh-ed25519 {K1}\n")
    assert assess(entries, k1, policy).status == "known"  # type: ignore[arg-type]
    changed = assess(entries, k2, policy)  # type: ignore[arg-type]
    assert changed.status == "changed" and changed.conflicts[0].key == k1


def test_nothing_on_record_is_new_for_every_policy(tmp_path: Path) -> None:
    verdicts = {p: assess([], k1, p) for p in ("strict", "tofu", "accept-new")}
    assert {p: (v.status, v.accepted(p)) for p, v in verdicts.items()} == {  # type: ignore[arg-type]
        "strict": ("new", False),
        "tofu": ("new", True),
        "accept-new": ("new", True),
    }


def test_a_new_key_type_is_a_change_for_tofu_and_strict_but_new_for_accept_new(
    tmp_path: Path,
) -> None:
    entries = _entries(tmp_path, f"h ssh-rsa {RSA}\n")
    assert assess(entries, k1, "tofu").status == "changed"
    assert assess(entries, k1, "strict").status == "changed"
    assert assess(entries, k1, "accept-new").status == "new"


def test_any_disagreeing_entry_is_a_change_even_when_another_matches(tmp_path: Path) -> None:
    entries = _entries(tmp_path, f"h ssh-ed25519 {K1}\nh ssh-ed25519 {K2}\n")
    verdict = assess(entries, k1, "tofu")
    assert verdict.status == "changed" and [e.line for e in verdict.conflicts] == [2]


def test_revoked_keys_are_refused_and_ca_lines_ignored(tmp_path: Path) -> None:
    entries = _entries(
        tmp_path, f"@revoked * ssh-ed25519 {K1}\n@cert-authority h ssh-ed25519 {K2}\n"
    )
    assert assess(entries, k1, "accept-new").status == "revoked"
    assert assess(entries, k2, "strict").status == "new"


# ------------------------------------------------------------------------------ the store


def test_record_makes_a_private_openssh_file_and_forget_removes_only_that_host(
    tmp_path: Path,
) -> None:
    store = KnownHosts(tmp_path / "state" / "govnet" / "known_hosts", [])
    store.record("sw1", "127.0.0.1", 2201, k1, via="tofu")
    store.record("sw2", "127.0.0.1", 22, k2, via="accept")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    lines = store.path.read_text().splitlines()
    assert lines[0].startswith(f"[127.0.0.1]:2201 ssh-ed25519 {K1} device=sw1 first-seen=20")
    assert lines[1].startswith(f"127.0.0.1 ssh-ed25519 {K2} device=sw2 ")
    assert [e.key for e in store.lookup("127.0.0.1", 2201)] == [k1]
    removed = store.forget("127.0.0.1", 2201)
    assert [e.key for e in removed] == [k1]
    assert [e.hosts for e in store.own()] == ["127.0.0.1"]
    assert store.forget("127.0.0.1", 2201) == []


def test_record_with_replace_swaps_the_key(tmp_path: Path) -> None:
    store = KnownHosts(tmp_path / "known_hosts", [])
    store.record("sw1", "10.0.0.1", 22, k1, via="tofu")
    removed = store.record("sw1", "10.0.0.1", 22, k2, via="accept", replace=True)
    assert [e.key for e in removed] == [k1]
    assert [(e.key, e.meta()["via"]) for e in store.lookup("10.0.0.1", 22)] == [(k2, "accept")]


def test_verify_learns_once_with_a_warning_then_is_silent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = KnownHosts(tmp_path / "known_hosts", [])
    with caplog.at_level("WARNING", logger="govnet.hostkeys"):
        assert verify(store, "sw1", "10.0.0.1", 2201, "tofu", k1).status == "new"
        assert verify(store, "sw1", "10.0.0.1", 2201, "tofu", k1).status == "known"
    assert [r.getMessage() for r in caplog.records] == [
        f"sw1: first contact with 10.0.0.1:2201: learned host key ssh-ed25519 {K1_FP} "
        f"(host_key_policy tofu; recorded in {store.path})"
    ]


def test_verify_refuses_a_changed_key_naming_both_fingerprints_and_the_command(
    tmp_path: Path,
) -> None:
    store = KnownHosts(tmp_path / "known_hosts", [])
    store.record("sw1", "10.0.0.1", 2201, k1, via="tofu")
    with pytest.raises(HostKeyError) as err:
        verify(store, "sw1", "10.0.0.1", 2201, "tofu", k2)
    text = str(err.value)
    assert err.value.exit_code == 3 and err.value.kind == "hostkey"
    assert text.startswith("sw1: HOST KEY CHANGED at 10.0.0.1:2201: on record ssh-ed25519 ")
    assert K1_FP in text and f"presented ssh-ed25519 {K2_FP}" in text
    assert text.endswith("If the change is legitimate, run: govnet hostkeys accept sw1")
    assert [e.key for e in store.own()] == [k1]  # nothing learned


def test_strict_refuses_an_unknown_key_and_records_nothing(tmp_path: Path) -> None:
    store = KnownHosts(tmp_path / "known_hosts", [])
    with pytest.raises(HostKeyError) as err:
        verify(store, "sw1", "10.0.0.1", 22, "strict", k1)
    assert str(err.value) == (
        f"sw1: unknown host key at 10.0.0.1:22: ssh-ed25519 {K1_FP} (host_key_policy strict); "
        "nothing was sent. Check the fingerprint on the device's console, then run: "
        "govnet hostkeys accept sw1"
    )
    assert not store.path.exists()


def test_a_conflicting_system_known_hosts_entry_is_a_mismatch(tmp_path: Path) -> None:
    system = tmp_path / "ssh_known_hosts"
    system.write_text(f"{HASHED_10_1_1_1_2222} ssh-ed25519 {K1}\n")
    store = KnownHosts(tmp_path / "known_hosts", [system, tmp_path / "missing"])
    with pytest.raises(HostKeyError) as err:
        verify(store, "sw1", "10.1.1.1", 2222, "tofu", k2)
    assert f"on record ssh-ed25519 {K1_FP} ({system}:1)" in str(err.value)
    assert f"ssh-keygen -R '[10.1.1.1]:2222' -f {system}" in str(err.value)
    # and a system entry that agrees is as good as govnet's own record (nothing learned)
    assert verify(store, "sw1", "10.1.1.1", 2222, "strict", k1).status == "known"
    assert not store.path.exists()


def test_concurrent_first_contacts_record_the_key_once(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    stores = [KnownHosts(path, []) for _ in range(8)]  # as separate processes would
    barrier = threading.Barrier(len(stores))

    def contact(store: KnownHosts) -> None:
        barrier.wait()
        verify(store, "sw1", "10.0.0.1", 22, "tofu", k1)

    threads = [threading.Thread(target=contact, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(path.read_text().splitlines()) == 1


def test_the_file_lives_beside_the_sqlite_store_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVNET_KNOWN_HOSTS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GOVNET_DB", raising=False)
    assert known_hosts_path(f"sqlite:///{tmp_path}/db/s.sqlite") == tmp_path / "db" / "known_hosts"
    assert known_hosts_path("postgresql://h/db") == tmp_path / "xdg" / "govnet" / "known_hosts"
    assert known_hosts_path() == tmp_path / "xdg" / "govnet" / "known_hosts"
    monkeypatch.setenv("GOVNET_DB", f"sqlite:///{tmp_path}/env.sqlite")
    assert known_hosts_path() == tmp_path / "known_hosts"
    monkeypatch.setenv("GOVNET_KNOWN_HOSTS", str(tmp_path / "mine"))
    assert known_hosts_path("sqlite:////x/y.sqlite") == tmp_path / "mine"


def test_host_key_policy_is_inherited_like_other_device_values(write_inventory: Any) -> None:
    from govnet.errors import InventoryError
    from govnet.inventory import load_inventory

    path = write_inventory("""
        zones: {internal: {}}
        sites: {city: {level: city}}
        defaults: {platform: huawei, role: access, zone: internal, site: city,
                   host_key_policy: strict}
        groups: {relaxed: {host_key_policy: accept-new}}
        devices:
          a: {host: 10.0.0.1}
          b: {host: 10.0.0.2, groups: [relaxed]}
          c: {host: 10.0.0.3, groups: [relaxed], host_key_policy: tofu}
        """)
    devices = load_inventory(path).devices
    assert {n: d.host_key_policy for n, d in devices.items()} == {
        "a": "strict",
        "b": "accept-new",
        "c": "tofu",
    }
    assert devices["a"].to_dict()["host_key_policy"] == "strict"
    bad = write_inventory(path.read_text().replace("host_key_policy: tofu", "host_key_policy: yes"))
    with pytest.raises(InventoryError) as err:
        load_inventory(bad)
    assert "host_key_policy" in str(err.value.diagnostics[0])
    default = write_inventory(
        """
        zones: {internal: {}}
        sites: {city: {level: city}}
        devices: {a: {host: 10.0.0.1, platform: huawei, role: access, zone: internal, site: city}}
        """,
        "default.yaml",
    )
    assert load_inventory(default).devices["a"].host_key_policy == "tofu"


def test_the_cli_keeps_keys_beside_the_store_it_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from govnet.cli.main import cli

    monkeypatch.delenv("GOVNET_KNOWN_HOSTS")
    KnownHosts(tmp_path / "db" / "known_hosts", []).record("sw1", "10.0.0.1", 2201, k1, "tofu")
    db = f"sqlite:///{tmp_path / 'db' / 'store.sqlite'}"
    result = CliRunner().invoke(cli, ["--db", db, "hostkeys", "list", "-f", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["file"] == str(tmp_path / "db" / "known_hosts")
    assert [(k["host"], k["fingerprint"], k["device"]) for k in listed["keys"]] == [
        ("[10.0.0.1]:2201", K1_FP, "sw1")
    ]


def test_learning_appends_even_to_a_hand_edited_file_without_a_final_newline(
    tmp_path: Path,
) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(f"# kept\n10.0.0.9 ssh-ed25519 {K2}")  # no newline at the end
    store = KnownHosts(path, [])
    assert [e.key for e in store.lookup("10.0.0.9", 22)] == [k2]
    assert store.learn("sw1", "10.0.0.1", 22, k1, "tofu")
    lines = path.read_text().splitlines()
    assert lines[:2] == ["# kept", f"10.0.0.9 ssh-ed25519 {K2}"]
    assert lines[2].startswith(f"10.0.0.1 ssh-ed25519 {K1} device=sw1 ")
    assert [e.key for e in store.lookup("10.0.0.1", 22)] == [k1]  # the cache saw the append


def test_accept_new_learns_a_new_key_type_beside_the_old_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = KnownHosts(tmp_path / "known_hosts", [])
    store.record("sw1", "10.0.0.1", 22, rsa, via="tofu")
    with pytest.raises(HostKeyError, match="HOST KEY CHANGED"):
        verify(store, "sw1", "10.0.0.1", 22, "tofu", k1)  # tofu pins the type too
    with caplog.at_level("WARNING", logger="govnet.hostkeys"):
        assert verify(store, "sw1", "10.0.0.1", 22, "accept-new", k1).status == "new"
    assert "sw1: a new key type beside ssh-rsa at 10.0.0.1:22: learned" in caplog.text
    assert {e.key for e in store.lookup("10.0.0.1", 22)} == {rsa, k1}
    with pytest.raises(HostKeyError, match="HOST KEY CHANGED"):
        verify(store, "sw1", "10.0.0.1", 22, "accept-new", k2)  # same type, other key
