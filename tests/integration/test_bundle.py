"""The offline bundle (issue 11): build the x86_64 bundle, install it inside a network namespace
that has nothing but a loopback interface, and use it from a folder outside the checkout.

Root only (network namespaces). The wheels are downloaded once into the builder's cache
(~/.cache/govnet-bundle; pip's own cache for the build tools), so later runs build offline
of the index except for govnet's own wheel.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from govnet import __version__
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

BUILDER = ROOT / "contrib" / "bundle" / "govnet_bundle.py"
NAME = f"govnet-{__version__}-offline-x86_64"


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create a network namespace"
    if shutil.which("ip") is None:
        return "needs iproute2 ('ip netns')"
    if os.uname().machine != "x86_64":
        return "installs the x86_64 bundle, this machine is " + os.uname().machine
    return None


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle, built once per test run: xdist workers share the run's temporary folder and
    the first to get there builds it under a lock (a build takes a minute on a loaded machine)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    out = shared / "bundle-dist"
    out.mkdir(exist_ok=True)
    path = out / f"{NAME}.tar.gz"
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not path.is_file():
            result = subprocess.run(
                [sys.executable, str(BUILDER), "--arch", "x86_64", "--out", str(out)],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            assert f"{path}: " in result.stdout
    return path


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"govnet-t-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"ip netns add failed: {made.stderr.strip()}")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def unpack(bundle: Path, into: Path) -> Path:
    with tarfile.open(bundle) as tar:
        tar.extractall(into, filter="data")
    return into / NAME


def in_ns(
    ns: str, *cmd: str | Path, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *map(str, cmd)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def clean_env(home: Path) -> dict[str, str]:
    """No PIP_* (this machine's wheel folders), no GOVNET_*, no virtualenv: a fresh server."""
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }


def test_bundle_contents_and_manifest(bundle: Path, tmp_path: Path) -> None:
    top = unpack(bundle, tmp_path)
    info = dict(
        line.split("=", 1) for line in (top / "BUNDLE-INFO").read_text().splitlines() if line
    )
    assert (info["arch"], info["python"], info["version"]) == ("x86_64", "3.11", __version__)
    wheels = sorted(p.name for p in (top / "wheels").iterdir())
    assert len(wheels) == int(info["wheels"])
    lock = (ROOT / "requirements" / "runtime-py3.11.txt").read_text()
    assert lock == (top / "requirements.txt").read_text()
    for dev_tool in ("pytest", "ruff", "mypy", "hypothesis"):  # runtime only
        assert not any(w.startswith(dev_tool + "-") for w in wheels), dev_tool
    assert any(w.startswith(f"govnet-{__version__}-py3-none-any") for w in wheels)
    # the minimum glibc is the highest of the wheels' most permissive manylinux tags
    sys.path.insert(0, str(BUILDER.parent))
    try:
        from govnet_bundle import glibc_text, wheel_glibc
    finally:
        sys.path.pop(0)
    needs = max(g for w in wheels if (g := wheel_glibc(w)) is not None)
    assert info["glibc"] == glibc_text(needs)
    assert wheel_glibc(info["glibc_from"]) == needs
    # every file is in SHA256SUMS with its digest
    listed = {}
    for line in (top / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split("  ", 1)
        listed[rel] = digest
    files = {p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file()}
    assert set(listed) == files - {"SHA256SUMS"}
    for rel, digest in listed.items():
        assert hashlib.sha256((top / rel).read_bytes()).hexdigest() == digest, rel


def test_install_and_run_offline_in_a_namespace(bundle: Path, tmp_path: Path, netns: str) -> None:
    top = unpack(bundle, tmp_path / "media")
    links = in_ns(netns, "ip", "-o", "link", cwd=tmp_path, env=clean_env(tmp_path))
    assert [line.split(":")[1].strip() for line in links.stdout.splitlines()] == ["lo"]

    # a damaged bundle is refused before anything is installed
    damaged = tmp_path / "damaged"
    shutil.copytree(top, damaged)
    victim = next((damaged / "wheels").glob("pyyaml-*.whl"))
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    bad_dirs = [tmp_path / "bad" / d for d in ("opt", "bin", "etc", "var")]
    bad = in_ns(
        netns,
        damaged / "install.sh",
        "--prefix",
        bad_dirs[0],
        "--bin-dir",
        bad_dirs[1],
        "--config-dir",
        bad_dirs[2],
        "--state-dir",
        bad_dirs[3],
        "--no-systemd",
        cwd=tmp_path,
        env=clean_env(tmp_path),
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "SHA256SUMS mismatch" in bad.stderr and not (tmp_path / "bad").exists()

    prefix, bindir, etc = tmp_path / "opt" / "govnet", tmp_path / "bin", tmp_path / "etc"
    state, units = tmp_path / "var", tmp_path / "systemd"
    args: list[str | Path] = [
        "--prefix",
        prefix,
        "--bin-dir",
        bindir,
        "--config-dir",
        etc,
        "--state-dir",
        state,
        "--systemd-dir",
        units,
    ]
    # the admin already has a config: it is kept, the bundle's goes next to it
    mine = f"# mine\ninventory: inventory.yaml\ndb: sqlite:///{state}/govnet.sqlite\nlang: zh\n"
    etc.mkdir()
    (etc / "govnet.yaml").write_text(mine)
    done = in_ns(netns, top / "install.sh", *args, cwd=tmp_path, env=clean_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (bindir / "govnet").resolve() == prefix / "venv" / "bin" / "govnet"
    unit = (units / "govnetd.service").read_text()
    assert f"ExecStart={prefix}/venv/bin/govnetd " in unit
    assert f"GOVNET_CONFIG={etc}/govnet.yaml" in unit and f"ReadWritePaths={state}" in unit
    assert {p.name for p in units.iterdir()} == {
        "govnetd.service",
        "govnet-audit.service",
        "govnet-audit.timer",
    }

    assert (etc / "govnet.yaml").read_text() == mine
    assert f"kept {etc}/govnet.yaml" in done.stdout
    assert "db: sqlite:///" + str(state) in (etc / "govnet.yaml.new").read_text()
    assert (etc / "inventory.yaml").read_text().startswith("# Starter inventory")

    # from a folder that is not the checkout, with only what the bundle installed
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = clean_env(tmp_path) | {
        "GOVNET_CONFIG": str(etc / "govnet.yaml"),
        "GOVNET_LOCK_DIR": str(state),
    }
    govnet = bindir / "govnet"
    version = in_ns(netns, govnet, "--version", cwd=work, env=env)
    assert version.stdout.strip() == f"govnet, version {__version__}", version.stderr
    where = in_ns(
        netns,
        prefix / "venv" / "bin" / "python",
        "-c",
        "import govnet.settings as s; print(s.shipped_playbooks())",
        cwd=work,
        env=env,
    )
    shipped = Path(where.stdout.strip())
    assert shipped.is_relative_to(prefix) and not shipped.is_symlink(), where.stderr
    assert (shipped / "mlps2-baseline.yaml").read_bytes() == (
        ROOT / "playbooks" / "mlps2-baseline.yaml"
    ).read_bytes()

    valid = in_ns(netns, govnet, "inventory", "validate", cwd=work, env=env)
    assert valid.returncode == 0, valid.stderr
    assert (
        valid.stdout.strip()
        == "校验通过：2 个网络，1 个地点，1 个单位，6 台设备，0 个终端，0 条链路"
    )

    init = in_ns(netns, govnet, "init", "site", cwd=work, env=env)
    assert init.returncode == 0, init.stderr
    site_env = env | {"GOVNET_CONFIG": str(work / "site" / "govnet.yaml")}
    valid = in_ns(
        netns, govnet, "--lang", "en", "inventory", "validate", cwd=tmp_path, env=site_env
    )
    assert valid.returncode == 0 and valid.stdout.startswith("OK: 2 zones"), valid.stderr

    # offline audit with the playbooks inside the installed package (the config names none):
    # the lab's town switch config (Telnet on, community "public") saved as int-core-1's
    configs = work / "configs"
    configs.mkdir()
    seeded = ROOT / "inventory" / "lab-data" / "int-acc-town" / "running.cfg"
    (configs / "int-core-1.cfg").write_bytes(seeded.read_bytes())
    audit = in_ns(
        netns,
        govnet,
        "--lang",
        "en",
        "audit",
        "--from-dir",
        configs,
        "--limit",
        "int-core-1",
        "-f",
        "json",
        cwd=work,
        env=env,
    )
    assert audit.returncode == 1, audit.stderr  # findings at or above high
    report = json.loads(audit.stdout)
    failed = {f["control"] for f in report["findings"] if f["status"] == "fail"}
    assert {"mgmt.ssh-only", "snmp.no-default-community"} <= failed
    assert (state / "govnet.sqlite").is_file()  # the config's store, not ~/.local/share
