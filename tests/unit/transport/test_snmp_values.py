"""SNMP client values: pysnmp types → Python, text vs bytes, MACs, OIDs, error translation."""

from __future__ import annotations

import pickle

import pytest
from pyasn1.type import univ
from pysnmp.proto import errind, rfc1902, rfc1905

from govnet.errors import AuthError, DeviceTimeout, ProtocolError
from govnet.inventory.model import SnmpProfileSpec
from govnet.secrets import SecretRef
from govnet.transport.snmp import (
    SnmpTarget,
    Text,
    decode_octets,
    mac_address,
    oid_text,
    oid_tuple,
    to_bytes,
)
from govnet.transport.snmp_pysnmp import PysnmpBackend, convert

# --- OCTET STRING decoding ------------------------------------------------------------------


def test_ascii_text_is_str_and_keeps_raw() -> None:
    value = decode_octets(b"Huawei S5735\r\nVRP")
    assert value == "Huawei S5735\r\nVRP"
    assert isinstance(value, Text) and value.raw == b"Huawei S5735\r\nVRP"


def test_utf8_chinese_is_text() -> None:
    assert decode_octets("内网核心交换机".encode()) == "内网核心交换机"


def test_gbk_chinese_from_windows_agents_is_text_and_exact() -> None:
    raw = "奇安信天擎 6.6.0".encode("gbk")
    value = decode_octets(raw)
    assert value == "奇安信天擎 6.6.0"
    assert to_bytes(value) == raw


@pytest.mark.parametrize(
    "raw",
    [bytes.fromhex("001a2b100201"), bytes.fromhex("3ce5a6020001"), b"\x00\x00", b"\x01\x02"],
)
def test_binary_stays_bytes(raw: bytes) -> None:
    value = decode_octets(raw)
    assert value == raw and isinstance(value, bytes)


def test_trailing_nul_is_dropped_from_text() -> None:
    value = decode_octets(b"eth0\x00")
    assert value == "eth0" and to_bytes(value) == b"eth0\x00"


def test_empty_is_empty_text() -> None:
    assert decode_octets(b"") == ""


def test_text_pickles() -> None:
    value = decode_octets("天擎".encode("gbk"))
    back = pickle.loads(pickle.dumps(value))
    assert back == value and isinstance(back, Text) and back.raw == to_bytes(value)


def test_to_bytes_of_plain_str_and_bad_type() -> None:
    assert to_bytes("abc") == b"abc"
    with pytest.raises(TypeError):
        to_bytes(5)


# --- MAC addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "mac"),
    [
        (bytes.fromhex("001a2b100201"), "00:1a:2b:10:02:01"),
        (decode_octets(b"ABCDEF"), "41:42:43:44:45:46"),  # six printable octets read as text
        ("3ce5-a602-0001", "3c:e5:a6:02:00:01"),
        ("70:7B:E8:00:00:01", "70:7b:e8:00:00:01"),
    ],
)
def test_mac_address(value: str | bytes, mac: str) -> None:
    assert mac_address(value) == mac


@pytest.mark.parametrize("value", [None, 5, b"\x00\x01", "not a mac"])
def test_not_a_mac(value: object) -> None:
    assert mac_address(value) is None  # type: ignore[arg-type]


# --- pysnmp values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (rfc1902.Integer32(-5), -5),
        (rfc1902.Integer(7), 7),
        (rfc1902.Counter32(2**32 - 1), 2**32 - 1),
        (rfc1902.Gauge32(1000), 1000),
        (rfc1902.Unsigned32(3), 3),
        (rfc1902.TimeTicks(31968000), 31968000),
        (rfc1902.Counter64(2**64 - 1), 2**64 - 1),
        (rfc1902.OctetString(b"int-core-1"), "int-core-1"),
        (rfc1902.OctetString(bytes.fromhex("001a2b100201")), bytes.fromhex("001a2b100201")),
        (rfc1902.IpAddress("10.10.0.1"), "10.10.0.1"),
        (rfc1902.ObjectIdentifier((1, 3, 6, 1, 4, 1, 2011)), "1.3.6.1.4.1.2011"),
        (rfc1902.Opaque(b"\x9f\x78\x04"), b"\x9f\x78\x04"),
        (univ.Null(""), None),
        (rfc1905.NoSuchObject(""), None),
        (rfc1905.NoSuchInstance(""), None),
        (rfc1905.EndOfMibView(""), None),
    ],
)
def test_convert(value: object, expected: object) -> None:
    got = convert(value)
    assert got == expected
    assert type(got) in (type(expected), Text)


def test_convert_unknown_type() -> None:
    with pytest.raises(ValueError, match="unexpected SNMP value type"):
        convert(univ.Real(1.5))


def test_oid_helpers() -> None:
    assert oid_text((1, 3, 6, 1)) == "1.3.6.1"
    assert oid_text(".1.3.6.1") == "1.3.6.1"
    assert oid_tuple(".1.3.6.1.2.1.1.1.0") == (1, 3, 6, 1, 2, 1, 1, 1, 0)
    with pytest.raises(ValueError, match="bad OID 'sysDescr'"):
        oid_tuple("sysDescr")


# --- error translation ----------------------------------------------------------------------

TARGET = SnmpTarget(
    "127.0.0.1",
    16100,
    SnmpProfileSpec(version="2c", community=SecretRef.parse("env:X"), timeout=1.5, retries=2),
    "int-acc-west",
)


@pytest.mark.parametrize(
    ("indication", "kind"),
    [
        (errind.requestTimedOut, DeviceTimeout),
        (errind.wrongDigest, AuthError),
        (errind.unknownUserName, AuthError),
        (errind.decryptionError, AuthError),
        (errind.unsupportedSecurityLevel, AuthError),
        (errind.parseError, ProtocolError),
        (errind.oidNotIncreasing, ProtocolError),
    ],
)
def test_error_indications(indication: errind.ErrorIndication, kind: type[Exception]) -> None:
    error = PysnmpBackend()._indication(TARGET, indication)
    assert type(error) is kind
    assert error.host == "int-acc-west"
    text = str(error)
    assert text.startswith("int-acc-west: ") and "udp 127.0.0.1:16100" in text
    assert "\n" not in text


def test_timeout_message_says_what_to_check() -> None:
    error = PysnmpBackend()._indication(TARGET, errind.requestTimedOut)
    assert str(error) == (
        "int-acc-west: no SNMP reply from udp 127.0.0.1:16100 (3 tries of 1.5 s); check that "
        "SNMP is enabled there and that the community and ACL allow this host"
    )


def test_error_status() -> None:
    name = rfc1902.ObjectName("1.3.6.1.2.1.1.5.0")
    denied = PysnmpBackend._status(
        TARGET,
        rfc1905.errorStatus.clone("authorizationError"),
        univ.Integer(1),
        [(name, univ.Null())],
    )
    assert isinstance(denied, AuthError)
    assert "refused access (authorizationError) at 1.3.6.1.2.1.1.5.0" in str(denied)
    other = PysnmpBackend._status(TARGET, rfc1905.errorStatus.clone("genErr"), univ.Integer(0), [])
    assert isinstance(other, ProtocolError) and "answered genErr" in str(other)


def test_backend_options_are_checked() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        PysnmpBackend(max_concurrency=0)
