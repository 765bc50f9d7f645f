from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.errors import SecretError
from govnet.secrets import REDACTOR, RedactingFilter, SecretRef


def test_env_and_file_refs_resolve_late_and_are_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = SecretRef.parse("env:GOVNET_T_PW")
    assert str(ref) == "***" and "GOVNET" not in repr(ref).replace("env", "")
    with pytest.raises(SecretError, match="GOVNET_T_PW is not set"):
        ref.resolve("sw1 password")
    monkeypatch.setenv("GOVNET_T_PW", "s3cret-Value")
    assert ref.resolve() == "s3cret-Value"
    assert REDACTOR("login with s3cret-Value ok") == "login with *** ok"
    (tmp_path / "pw").write_text("file-Secret-9\n")
    assert SecretRef.parse(f"file:{tmp_path / 'pw'}").resolve() == "file-Secret-9"
    with pytest.raises(SecretError, match="cannot read secret file"):
        SecretRef.parse(f"file:{tmp_path / 'missing'}").resolve()


@pytest.mark.parametrize("bad", ["hunter2", "env:", "env:1BAD", "file:", ""])
def test_plain_or_malformed_refs_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="plain-text secrets are not allowed"):
        SecretRef.parse(bad)


def test_logging_filter_masks(caplog: pytest.LogCaptureFixture) -> None:
    REDACTOR.add("log-Secret-77")
    logger = logging.getLogger("govnet.test")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("password is %s", "log-Secret-77")
    assert "log-Secret-77" not in caplog.text and "***" in caplog.text


def test_no_secret_in_any_inventory_output(tmp_path: Path) -> None:
    secret = (
        (Path(__file__).parents[2] / "inventory/lab-secrets/admin.password").read_text().strip()
    )
    runner = CliRunner()
    outputs = []
    for args in (
        ["inventory", "show", "int-core-1", "-f", "json"],
        ["inventory", "list", "-f", "json"],
        ["inventory", "list", "-f", "csv"],
        ["inventory", "show", "ups-1"],
    ):
        result = runner.invoke(cli, ["-i", "inventory/lab.yaml", *args])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert all(secret not in out for out in outputs)
    shown = json.loads(outputs[0])
    assert shown["password"] == "***" and shown["snmp"]["secret"] == "***"


def test_every_rendering_of_a_secret_is_masked() -> None:
    import re
    import shlex

    secret = 'AuthK-XYZZY-55 it\'s "q" 键'
    REDACTOR.add(secret)
    texts = [
        f"Pattern found: (snmp\\-agent usm\\-user v3 x {re.escape(secret)}) out",
        f"Pattern not detected: {re.escape(secret)!r} in output",
        f"write_channel: {secret.encode()!r}",
        f"repr: {secret!r}",
        json.dumps({"msg": f"key {secret}"}),
        json.dumps({"msg": f"key {secret}"}, ensure_ascii=False),
        f"ssh sw1 {shlex.quote(secret)}",
        json.dumps({"msg": json.dumps({"inner": secret})}),
    ]
    for text in texts:
        masked = REDACTOR(text)
        assert "XYZZY" not in masked and "***" in masked, (text, masked)


def test_logging_filter_masks_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    REDACTOR.add("tb-Secret-31")
    logger = logging.getLogger("govnet.test.tb")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.DEBUG):
        try:
            raise ValueError("pattern=tb\\-Secret\\-31 not found")
        except ValueError:
            logger.debug("read failed", exc_info=True)
    assert "Secret" not in caplog.text and "ValueError: pattern=*** not found" in caplog.text


def test_verbose_logging_never_turns_on_netmikos_channel_log() -> None:
    from govnet import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.setup(2)
        assert logging.getLogger("paramiko").level == logging.DEBUG
        assert not logging.getLogger("netmiko").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_secret_files_are_bounded_and_never_quoted(tmp_path: Path) -> None:
    """Issue 12: a FIFO or device is refused without blocking, a huge or binary file too, and
    the error never quotes the file's content."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(SecretError, match="a FIFO \\(named pipe\\), not a regular file"):
        SecretRef.parse(f"file:{fifo}").resolve()
    with pytest.raises(SecretError, match="a device, not a regular file"):
        SecretRef.parse("file:/dev/zero").resolve()
    big = tmp_path / "big"
    big.write_text("x" * 70_000)
    with pytest.raises(SecretError, match="larger than the 64 KiB limit"):
        SecretRef.parse(f"file:{big}").resolve()
    binary = tmp_path / "bin"
    binary.write_bytes(b"Pw-\xff\xfe-secret")
    with pytest.raises(SecretError, match="is not UTF-8 text") as exc:
        SecretRef.parse(f"file:{binary}").resolve()
    assert "Pw-" not in str(exc.value)
