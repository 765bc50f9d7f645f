"""国密 batches (SM2 signature, SM3 digests): the library against published vectors and
OpenSSL, no algorithm confusion, a source changing from Ed25519 to SM2, the CLI.

The two-store one-way transfer (tampered, replayed, lost batches) runs with an SM2 key in
tests/unit/test_transfer.py (its ``keys`` fixture covers both algorithms)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.durations import utcnow
from govnet.store.db import Store
from govnet.transfer import gm
from govnet.transfer.batch import (
    PublicKey,
    TransferError,
    generate_key,
    load_signing_key,
    load_trusted,
)
from govnet.transfer.exchange import export_batch, import_batches
from tests.unit.test_transfer import _fill_day

# GB/T 32918.5-2017 附录 A (= GM/T 0003.5-2012 A.2): the recommended curve, user ID
# 1234567812345678, private key 3945208F…C5B8, message "message digest".
VECTOR_PUBLIC = bytes.fromhex(
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
VECTOR_Z = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
VECTOR_E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
VECTOR_R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
VECTOR_S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
CURVE_A_B_G = (
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
)


def _der(r: str, s: str) -> bytes:
    def integer(hexa: str) -> bytes:
        raw = bytes.fromhex(hexa).lstrip(b"\0")
        raw = b"\0" + raw if raw[0] & 0x80 else raw
        return bytes([2, len(raw)]) + raw

    body = integer(r) + integer(s)
    return bytes([0x30, len(body)]) + body


def test_sm3_known_answers() -> None:
    # GB/T 32905-2016 附录 A: "abc" and "abcd" x 16
    assert gm.Sm3(b"abc").hexdigest() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    streamed = gm.Sm3()
    for _ in range(16):
        streamed.update(b"abcd")
    assert streamed.hexdigest() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )
    # the SM3 of the files (OpenSSL) and the one inside SM2 (GmSSL) agree
    import gmssl_pyx

    assert bytes(gmssl_pyx.sm3_hash(b"abc")).hex().startswith("66c7f0f462eeedd9")
    blob = bytes(range(256)) * 41
    assert gm.Sm3(blob).hexdigest() == bytes(gmssl_pyx.sm3_hash(blob)).hex()


def test_sm2_verifies_the_published_signature_vector() -> None:
    z = gm.Sm3(b"\x00\x80" + gm.DEFAULT_ID + bytes.fromhex(CURVE_A_B_G) + VECTOR_PUBLIC)
    z_hex = z.hexdigest()
    assert z_hex == VECTOR_Z  # Z with the default user ID, as GB/T 32918.2 defines it
    assert gm.Sm3(bytes.fromhex(z_hex) + b"message digest").hexdigest() == VECTOR_E
    key = PublicKey("sm2", VECTOR_PUBLIC)
    signature = base64.b64encode(_der(VECTOR_R, VECTOR_S))
    assert key.verify(b"message digest", signature)
    assert not key.verify(b"message digesT", signature)
    flipped = VECTOR_S[:-1] + "B"
    assert not key.verify(b"message digest", base64.b64encode(_der(VECTOR_R, flipped)))
    assert not key.verify(b"message digest", b"not base64 !")


def test_sm2_signatures_and_keys_interoperate_with_openssl(tmp_path: Path) -> None:
    """Key files are standard PEM; signatures are SM2/SM3 with the default ID (GM/T 0009)."""
    openssl = shutil.which("openssl")
    probe = subprocess.run(
        [openssl or "openssl", "list", "-public-key-algorithms"], capture_output=True, text=True
    )
    if openssl is None or "SM2" not in probe.stdout:
        pytest.skip("no openssl with SM2 here")
    key = tmp_path / "gap.key"
    pub, _kid = generate_key(key, "sm2")
    derived = subprocess.run(
        [openssl, "pkey", "-in", str(key), "-pubout"], capture_output=True, check=True
    )
    assert derived.stdout == pub.read_bytes()
    data = tmp_path / "data"
    data.write_bytes(b'{"format":"govnet-batch/1"}\n')
    sig = tmp_path / "sig"
    signing = load_signing_key(f"file:{key}")
    sig.write_bytes(base64.b64decode(signing.sign(data.read_bytes())))
    verify = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin"]
    verify += ["-in", str(data), "-sigfile", str(sig), "-digest", "sm3"]
    ok = subprocess.run([*verify, "-pkeyopt", "distid:1234567812345678"], capture_output=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    other_id = subprocess.run([*verify, "-pkeyopt", "distid:ALICE123@YAHOO.COM"])
    assert other_id.returncode != 0
    # and the other way: a key and a signature made by OpenSSL
    theirs = tmp_path / "theirs.key"
    subprocess.run([openssl, "genpkey", "-algorithm", "SM2", "-out", str(theirs)], check=True)
    subprocess.run(
        [openssl, "pkey", "-in", str(theirs), "-pubout", "-out", f"{theirs}.pub"], check=True
    )
    sign = [openssl, "pkeyutl", "-sign", "-inkey", str(theirs), "-rawin", "-digest", "sm3"]
    sign += ["-pkeyopt", "distid:1234567812345678", "-in", str(data), "-out", str(sig)]
    subprocess.run(sign, check=True)
    [their_pub] = load_trusted([Path(f"{theirs}.pub")]).values()
    assert their_pub.algorithm == "sm2"
    assert their_pub.verify(data.read_bytes(), base64.b64encode(sig.read_bytes()))
    assert load_signing_key(f"file:{theirs}").public == their_pub


def test_a_manifest_claiming_another_algorithm_than_its_key_is_refused(tmp_path: Path) -> None:
    ed_key, sm_key = tmp_path / "ed.key", tmp_path / "sm.key"
    ed_pub, _ = generate_key(ed_key)
    sm_pub, sm_id = generate_key(sm_key, "sm2")
    inner = Store.open(f"sqlite:///{tmp_path / 'internal.sqlite'}")
    outer = Store.open(f"sqlite:///{tmp_path / 'external.sqlite'}")
    _fill_day(inner, utcnow(), "a")
    trusted = load_trusted([ed_pub, sm_pub])
    # an Ed25519-signed batch that names the trusted SM2 key and says "ed25519"
    batch = export_batch(inner, tmp_path / "spool", "county-1", load_signing_key(f"file:{ed_key}"))
    manifest = json.loads((batch.path / "manifest.json").read_text())
    manifest["key_id"] = sm_id
    raw = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    (batch.path / "manifest.json").write_bytes(raw)
    (batch.path / "manifest.sig").write_bytes(load_signing_key(f"file:{ed_key}").sign(raw))
    [o] = import_batches(outer, tmp_path / "spool", trusted)
    assert o.status == "refused" and "claims ed25519" in o.message and "sm2 key" in o.message
    # an SM2 batch whose manifest is rewritten to say ed25519/sha256: refused, not re-read
    batch = export_batch(inner, tmp_path / "spool2", "county-2", load_signing_key(f"file:{sm_key}"))
    manifest = json.loads((batch.path / "manifest.json").read_text())
    manifest["algorithm"], manifest["digest"] = "ed25519", "sha256"
    for entry in manifest["files"].values():
        entry["sha256"] = entry.pop("sm3")
    (batch.path / "manifest.json").write_text(json.dumps(manifest))
    [o] = import_batches(outer, tmp_path / "spool2", trusted)
    assert o.status == "refused" and "claims ed25519" in o.message
    # a manifest that pairs SM2 with SHA-256 is not a manifest at all
    manifest["algorithm"] = "sm2"
    (batch.path / "manifest.json").write_text(json.dumps(manifest))
    [o] = import_batches(outer, tmp_path / "spool2", trusted)
    assert o.status == "refused" and o.problem == "invalid"


def test_a_source_moving_from_ed25519_to_sm2_needs_the_new_key_trusted(tmp_path: Path) -> None:
    ed_key, sm_key = tmp_path / "ed.key", tmp_path / "sm.key"
    ed_pub, _ = generate_key(ed_key)
    sm_pub, _ = generate_key(sm_key, "sm2")
    inner = Store.open(f"sqlite:///{tmp_path / 'internal.sqlite'}")
    outer = Store.open(f"sqlite:///{tmp_path / 'external.sqlite'}")
    now = utcnow()
    _fill_day(inner, now, "a")
    from datetime import timedelta

    spool = tmp_path / "spool"
    first = export_batch(inner, spool, "county-1", load_signing_key(f"file:{ed_key}"), now=now)
    _fill_day(inner, now + timedelta(hours=2), "b")
    later = now + timedelta(hours=2)
    second = export_batch(inner, spool, "county-1", load_signing_key(f"file:{sm_key}"), now=later)
    assert json.loads((second.path / "manifest.json").read_text())["prev"] == first.hash
    # the receiver trusts only the old key: batch 1 goes in, batch 2 is refused
    outcomes = import_batches(outer, spool, load_trusted([ed_pub]))
    assert [(o.seq, o.status) for o in outcomes] == [(1, "imported"), (2, "refused")]
    assert "not trusted" in outcomes[1].message
    # once the new key is trusted too, batch 2 follows batch 1 in the chain
    outcomes = import_batches(outer, spool, load_trusted([ed_pub, sm_pub]))
    assert [(o.seq, o.status) for o in outcomes] == [(1, "already-imported"), (2, "imported")]


def test_cli_sm2_export_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    runner = CliRunner()
    inner, outer, key = tmp_path / "in.sqlite", tmp_path / "out.sqlite", tmp_path / "gm.key"
    r = runner.invoke(
        cli, ["--lang", "zh", "export", "--generate-key", str(key), "--algorithm", "sm2"]
    )
    assert r.exit_code == 0, r.output
    assert "SM2" in r.stderr and "公钥" in r.stderr
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    r = runner.invoke(cli, ["export", "--generate-key", str(key), "--algorithm", "sm2"])
    assert r.exit_code == 2 and "never overwritten" in r.stderr
    _fill_day(Store.open(f"sqlite:///{inner}"), utcnow(), "c")
    export = ["--db", f"sqlite:///{inner}", "export", "--key", f"file:{key}", "--source", "c-9"]
    r = runner.invoke(cli, [*export, "-f", "json", str(tmp_path / "spool")])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert (info["algorithm"], info["digest"], info["rows"]["runs.jsonl"]) == ("sm2", "sm3", 25)
    imp = ["--db", f"sqlite:///{outer}", "--lang", "zh", "import", "--trust", f"{key}.pub"]
    r = runner.invoke(cli, [*imp, str(tmp_path / "spool")])
    assert r.exit_code == 0, r.output
    assert "已导入" in r.stdout
    # an altered SM2 batch, a signature that is not even DER: one line, exit 2, and nothing
    # from GmSSL (which prints its error trace to file descriptor 2) on the terminal
    batch = tmp_path / "spool" / "c-9-000001"
    (batch / "manifest.json").write_text((batch / "manifest.json").read_text() + " ")
    (batch / "manifest.sig").write_bytes(base64.b64encode(b"\x30\x03garbage") + b"\n")
    capfd.readouterr()
    r = runner.invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 'third.sqlite'}", *imp[2:], str(batch.parent)]
    )
    assert r.exit_code == 2 and "签名" in r.stdout
    assert "GmSSL" not in capfd.readouterr().err
    # without the optional library: a one-line error naming what to install
    monkeypatch.setitem(sys.modules, "gmssl_pyx", None)
    r = runner.invoke(
        cli, ["export", "--generate-key", str(tmp_path / "x.key"), "--algorithm", "sm2"]
    )
    assert r.exit_code == 2 and "govnet[gm]" in r.stderr and "Traceback" not in r.output


def test_bad_sm2_key_files(tmp_path: Path) -> None:
    key = tmp_path / "gm.key"
    pub, _ = generate_key(key, "sm2")
    text = key.read_text().splitlines()
    der = bytearray(base64.b64decode("".join(text[1:-1])))
    der[-1] ^= 1  # the public point no longer belongs to the private key
    bad = tmp_path / "bad.key"
    body = base64.encodebytes(bytes(der)).decode()
    bad.write_text(f"-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\n")
    with pytest.raises(TransferError, match=r"SM2|do not belong"):
        load_signing_key(f"file:{bad}")
    pub_der = bytearray(base64.b64decode("".join(pub.read_text().splitlines()[1:-1])))
    pub_der[-1] ^= 1  # off the curve
    bad_pub = tmp_path / "bad.pub"
    body = base64.encodebytes(bytes(pub_der)).decode()
    bad_pub.write_text(f"-----BEGIN PUBLIC KEY-----\n{body}-----END PUBLIC KEY-----\n")
    with pytest.raises(TransferError, match="not a point on the curve"):
        load_trusted([bad_pub])
