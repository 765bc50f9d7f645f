"""The offline bundle builder's pure parts: the glibc a wheel needs, the lock's digests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "contrib" / "bundle"))
try:
    from govnet_bundle import BundleError, _hashes, glibc_text, wheel_glibc
finally:
    sys.path.pop(0)


@pytest.mark.parametrize(
    ("name", "glibc"),
    [
        ("rich-15.0.0-py3-none-any.whl", None),
        ("gufo_snmp-0.13.0-cp311-cp311-manylinux_2_28_aarch64.whl", (2, 28)),
        # several tags: the most permissive one decides
        (
            "psutil-7.2.2-cp36-abi3-manylinux2010_x86_64.manylinux_2_12_x86_64.manylinux_2_28_x86_64.whl",
            (2, 12),
        ),
        ("bcrypt-5.0.0-cp39-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl", (2, 17)),
        (
            "psycopg_binary-3.3.9-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl",
            (2, 27),
        ),
        ("old-1.0-cp311-cp311-manylinux1_x86_64.whl", (2, 5)),
    ],
)
def test_wheel_glibc(name: str, glibc: tuple[int, int] | None) -> None:
    assert wheel_glibc(name) == glibc


def test_non_manylinux_wheels_are_refused() -> None:
    with pytest.raises(BundleError, match="not manylinux"):
        wheel_glibc("x-1.0-cp311-cp311-musllinux_1_2_x86_64.whl")
    assert (glibc_text((2, 28)), glibc_text(None)) == ("2.28", "any")


def test_every_pin_of_the_runtime_lock_has_digests() -> None:
    digests = _hashes(Path(ROOT / "requirements" / "runtime-py3.11.txt"))
    names = {pin.split("==")[0] for pin in digests}
    assert {"gufo-snmp", "pydantic-core", "netmiko", "psycopg-binary"} <= names
    assert all(digests.values())  # every pin has at least one sha256
    assert not names & {"pytest", "ruff", "mypy", "hypothesis"}  # runtime only
