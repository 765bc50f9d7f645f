"""Probe tokens: round trip, forgery, expiry and replay (in memory and persisted in the store)."""

from __future__ import annotations

import base64
import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govnet.errors import SecretError
from govnet.isolation.probe.packets import qname
from govnet.isolation.probe.token import (
    HOST_MAX,
    PROTOCOLS,
    ExpiredToken,
    ForgedToken,
    MemoryReplayCache,
    ProbeError,
    ProbeProtocol,
    ReplayedToken,
    Token,
    TokenCodec,
    TokenRejected,
    UnsignedToken,
    Verifier,
)
from govnet.store.db import Store
from govnet.store.probe import StoreReplayCache

SECRET = b"0123456789abcdef-test-secret"
NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
CODEC = TokenCodec(SECRET)


def token(protocol: ProbeProtocol = ProbeProtocol.ICMP, at: datetime = NOW, **kw: object) -> Token:
    args: dict[str, object] = {
        "src_ip": ipaddress.ip_address("10.10.255.253"),
        "src_mac": "02:00:0a:0a:ff:fd",
        "host": "pc-west-03",
    }
    args.update(kw)
    return CODEC.issue("00112233aabbccdd", protocol, at, **args)  # type: ignore[arg-type]


def verifier(**kw: object) -> Verifier:
    return Verifier(CODEC, MemoryReplayCache(), **kw)  # type: ignore[arg-type]


hex16 = st.binary(min_size=8, max_size=8).map(bytes.hex)
addresses = st.one_of(
    st.none(),
    st.ip_addresses(v=4),
    st.ip_addresses(v=6),
)
macs = st.one_of(
    st.none(), st.binary(min_size=6, max_size=6).map(lambda b: ":".join(f"{x:02x}" for x in b))
)
tokens = st.builds(
    Token,
    probe_id=hex16,
    nonce=hex16,
    protocol=st.sampled_from(PROTOCOLS),
    issued=st.integers(min_value=0, max_value=2**32 - 1),
    src_ip=addresses,
    src_mac=macs.filter(lambda m: m != "00:00:00:00:00:00"),
    host=st.text(max_size=40).map(lambda h: h.encode()[:HOST_MAX].decode("utf-8", "ignore")),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # shared machines
@given(tokens)
def test_every_token_round_trips_through_its_text(t: Token) -> None:
    text = CODEC.encode(t)
    assert text == text.lower() and "=" not in text
    assert CODEC.decode(text) == t
    assert CODEC.decode(text.upper()) == t  # DNS resolvers may change the case of names


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # shared machines
@given(tokens, st.data())
def test_any_altered_bit_is_a_forgery(t: Token, data: st.DataObject) -> None:
    raw = bytearray(CODEC.pack(t))
    bit = data.draw(st.integers(min_value=0, max_value=len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    text = base64.b32encode(bytes(raw)).decode().rstrip("=").lower()
    with pytest.raises(ForgedToken):
        CODEC.decode(text)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # shared machines
@given(tokens)
def test_a_token_signed_with_another_secret_is_a_forgery(t: Token) -> None:
    other = TokenCodec(b"another-secret-of-enough-length")
    assert other.key_id != CODEC.key_id
    with pytest.raises(ForgedToken, match="bad signature"):
        CODEC.decode(other.encode(t))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # shared machines
@given(st.text(max_size=300))
def test_arbitrary_text_never_verifies(text: str) -> None:
    with pytest.raises((UnsignedToken, ForgedToken)):
        CODEC.decode(text)


@pytest.mark.parametrize("text", [None, "", "gvnp1", "0189", "abc", "a" * 20])
def test_missing_or_short_tokens_are_unsigned(text: str | None) -> None:
    with pytest.raises(UnsignedToken):
        verifier().verify(text, NOW)


def test_expiry_is_judged_at_the_edges() -> None:
    v = verifier(max_age=timedelta(minutes=5), skew=timedelta(seconds=60))
    assert v.verify(CODEC.encode(token(at=NOW - timedelta(minutes=5))), NOW).host == "pc-west-03"
    with pytest.raises(ExpiredToken, match="older than"):
        v.verify(CODEC.encode(token(at=NOW - timedelta(minutes=5, seconds=1))), NOW)
    v.verify(CODEC.encode(token(at=NOW + timedelta(seconds=60))), NOW)  # clock skew allowed
    with pytest.raises(ExpiredToken, match="in the future"):
        v.verify(CODEC.encode(token(at=NOW + timedelta(seconds=61))), NOW)


def test_a_token_counts_once() -> None:
    v = verifier()
    text = CODEC.encode(token())
    first = v.verify(text, NOW)
    with pytest.raises(ReplayedToken, match=first.id):
        v.verify(text, NOW + timedelta(seconds=1))
    v.verify(CODEC.encode(token()), NOW)  # a fresh nonce is a new probe


def test_an_expired_replay_is_rejected_as_expired_so_the_cache_may_forget_it() -> None:
    v = verifier(max_age=timedelta(minutes=5))
    t = token()
    v.verify(CODEC.encode(t), NOW)
    cache = v.replay
    assert isinstance(cache, MemoryReplayCache)
    assert cache.prune(v.expires(t) + timedelta(seconds=1)) == 1
    with pytest.raises(ExpiredToken):
        v.verify(CODEC.encode(t), v.expires(t) + timedelta(seconds=1))


def test_the_replay_cache_is_persisted_in_the_store(store_url: str) -> None:
    url = store_url
    text = CODEC.encode(token())
    Verifier(CODEC, StoreReplayCache(Store.open(url))).verify(text, NOW)
    again = Verifier(CODEC, StoreReplayCache(Store.open(url)))  # a restarted canary
    with pytest.raises(ReplayedToken):
        again.verify(text, NOW)


def test_rejections_carry_a_reason() -> None:
    reasons = {c.reason for c in (UnsignedToken, ForgedToken, ExpiredToken, ReplayedToken)}
    assert reasons == {"unsigned", "forged", "expired", "replayed"}
    assert all(issubclass(c, TokenRejected) for c in (UnsignedToken, ForgedToken))


def test_hosts_are_cut_to_the_wire_limit_on_a_character_boundary() -> None:
    t = token(host="东城县政府办-财政科-第三台办公电脑-备用")
    assert len(t.host.encode()) <= HOST_MAX
    assert CODEC.decode(CODEC.encode(t)).host == t.host


def test_the_longest_token_fits_a_dns_name() -> None:
    t = token(src_ip=ipaddress.ip_address("2001:db8::1"), host="x" * 64)
    name = qname(CODEC.encode(t), "canary.ext.lab.govnet")
    assert len(name) <= 253 and all(len(label) <= 63 for label in name.split("."))


def test_secrets_are_given_by_reference_and_long_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ProbeError, match="at least 16"):
        TokenCodec(b"short")
    with pytest.raises(ProbeError, match="plain-text secrets are not allowed"):
        TokenCodec.from_ref("hunter2hunter2hunter2")
    with pytest.raises(SecretError, match="GOVNET_T_PROBE"):
        TokenCodec.from_ref("env:GOVNET_T_PROBE")
    monkeypatch.setenv("GOVNET_T_PROBE", SECRET.decode())
    assert TokenCodec.from_ref("env:GOVNET_T_PROBE").key_id == CODEC.key_id
    (tmp_path / "probe.secret").write_text(SECRET.decode() + "\n")
    assert TokenCodec.from_ref(f"file:{tmp_path / 'probe.secret'}").key_id == CODEC.key_id
