"""A store that cannot be opened: one line, exit 5, and never the password of the URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from govnet.cli.main import cli
from govnet.errors import ExitCode, StoreError
from govnet.store.db import Store, safe_url
from tests.ports import reserve_port

PASSWORD = "S3cret-PW_0815"


def closed_port() -> int:
    return reserve_port()  # reserved for this process, and nothing here listens on it


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://admin:{PASSWORD}@127.0.0.1:PORT/govnet",  # a closed port
        f"mysql://admin:{PASSWORD}@127.0.0.1:1/govnet",  # no driver installed
        f"postgresql+psycopg://admin:{PASSWORD}@127.0.0.1:notaport/govnet",
    ],
)
def test_unreachable_or_unusable_database_urls(url: str, tmp_path: Path) -> None:
    url = url.replace("PORT", str(closed_port()))
    result = CliRunner().invoke(cli, ["--db", url, "audit", "history"])
    assert result.exit_code == ExitCode.STORE, result.output
    err = result.stderr
    assert PASSWORD not in result.output and PASSWORD not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("govnet: ")
    assert "Traceback" not in err


def test_safe_url_hides_only_the_password() -> None:
    assert safe_url(f"postgresql+psycopg://admin:{PASSWORD}@db:5432/g") == (
        "postgresql+psycopg://admin:***@db:5432/g"
    )
    assert safe_url("sqlite:////var/lib/govnet/govnet.sqlite").endswith("govnet.sqlite")


def test_store_errors_are_store_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create it"):
        Store.open(f"sqlite:///{blocker / 'sub' / 'x.sqlite'}")


def test_a_closed_store_can_be_closed_again(store_url: str) -> None:
    store = Store.open(store_url)
    with store:
        assert store.runs("audit") == []
    store.close()
