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
    for args in (["inventory", "show", "int-core-1", "-f", "json"], ["inventory", "list", "-f", "json"],
                 ["inventory", "list", "-f", "csv"], ["inventory", "show", "ups-1"]):  # fmt: skip
        result = runner.invoke(cli, ["-i", "inventory/lab.yaml", *args])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert all(secret not in out for out in outputs)
    shown = json.loads(outputs[0])
    assert shown["password"] == "***" and shown["snmp"]["secret"] == "***"
