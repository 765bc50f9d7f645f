#!/usr/bin/env python3
"""Build the offline bundle: ``dist/govnet-<version>-offline-<arch>.tar.gz``.

For servers on the internal network (政务内网), which reach no package index. The bundle holds

    wheels/             the locked runtime wheels for <arch> (requirements/runtime-py3.11.txt,
                        no dev tools) and govnet's own wheel
    requirements.txt    that lock (exact versions and hashes; install.sh installs with
                        --require-hashes --no-index)
    install.sh          creates <prefix>/venv, links govnet/govnetd, installs the systemd units
                        and an example config (never overwriting)
    contrib/            the systemd units
    govnet.yaml.example, inventory.example.yaml
    BUNDLE-INFO         version, arch, Python, the minimum glibc (from the wheels' tags)
    SHA256SUMS          every file above; install.sh checks it before installing

Usage: ``python contrib/bundle/govnet_bundle.py --arch x86_64 --arch aarch64 [--out dist]``
(``make bundle``). Needs pip and the package index on the build machine only. Wheels are kept
in ``--cache`` (default ``~/.cache/govnet-bundle``), so a second build downloads nothing new.
Exit 2 when a locked package has no wheel for an arch (named, with what to do), or when the
bundle's wheels alone do not install govnet for that arch (checked with pip's resolver,
offline, before the tarball is written).

Stdlib only: it runs with any Python >= 3.9 that has pip.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON = "3.11"
ARCHES = ("x86_64", "aarch64")
# glibc baseline first: pip prefers the platforms in the order given, so a wheel built for
# manylinux2014 (glibc 2.17) is taken whenever one exists, and 2_28 only where it must.
PLATFORMS = ("manylinux2014_{arch}", "manylinux_2_28_{arch}")
LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
UNITS = ("govnetd.service", "govnet-audit.service", "govnet-audit.timer")
# Wheels required only below a Python micro version (redis: async-timeout on Python < 3.11.3,
# which Debian 12's 3.11.2 is): pip evaluates markers with the building host's Python, so
# verify() cannot see them used, yet the server may need them.
MICRO_MARKED = ("async_timeout-",)


class BundleError(Exception):
    pass


@dataclass
class Built:
    arch: str
    path: Path
    wheels: list[str]
    glibc: tuple[int, int] | None  # None: every wheel is pure Python
    glibc_from: str  # the wheel that sets it
    seconds: float


def version() -> str:
    text = (ROOT / "govnet" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not match:
        raise BundleError("govnet/__init__.py: no __version__")
    return match.group(1)


def wheel_glibc(filename: str) -> tuple[int, int] | None:
    """The lowest glibc a wheel runs on (its most permissive manylinux tag), None if pure."""
    platforms = filename[: -len(".whl")].split("-")[-1].split(".")
    found: list[tuple[int, int]] = []
    for tag in platforms:
        m = re.fullmatch(r"manylinux_(\d+)_(\d+)_\w+", tag)
        if m:
            found.append((int(m.group(1)), int(m.group(2))))
        elif tag.split("_")[0] in LEGACY:
            found.append(LEGACY[tag.split("_")[0]])
        elif tag != "any":
            raise BundleError(f"{filename}: platform tag {tag} is not manylinux")
    return min(found) if found else None


def glibc_text(glibc: tuple[int, int] | None) -> str:
    return f"{glibc[0]}.{glibc[1]}" if glibc else "any"


def _pip(*args: str, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pip", *args]
    if quiet:
        cmd.append("-q")
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def download(lock: Path, arch: str, cache: Path) -> list[Path]:
    """Every wheel of the lock for ``arch`` (into ``cache``); BundleError naming the missing.

    One build at a time per cache folder (a lock file), so parallel builds share it safely."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        return _download(lock, arch, cache)


def _download(lock: Path, arch: str, cache: Path) -> list[Path]:
    cached = _pick(lock, cache, arch, strict=False)
    if cached is not None:  # everything is here already: no need to ask the index
        return cached
    platform_args = [a for p in PLATFORMS for a in ("--platform", p.format(arch=arch))]
    common = [
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        PYTHON,
        "--implementation",
        "cp",
        "--abi",
        "cp" + PYTHON.replace(".", ""),
        "--abi",
        "abi3",
        "--abi",
        "none",
        *platform_args,
        "-d",
        str(cache),
    ]
    result = _pip(*common, "--require-hashes", "-r", str(lock))
    if result.returncode == 0:
        picked = _pick(lock, cache, arch)
        assert picked is not None
        return picked
    # find which packages have no wheel for this arch, one at a time, to say so
    missing = []
    for pin in _pins(lock):
        if _pip(*common, pin).returncode != 0:
            missing.append(pin)
    if missing:
        raise BundleError(
            f"no {arch} wheel for Python {PYTHON} of: {', '.join(missing)} — build one on a "
            f"{arch} machine (pip wheel) into {cache}, or pin a version that has one"
        )
    raise BundleError(f"pip download failed for {arch}: {result.stderr.strip()[-800:]}")


# a lock line: NAME[extras]==VERSION (the extras' own dependencies have lines of their own)
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s\\;]+)", re.M)


def _pins(lock: Path) -> list[str]:
    return [f"{name}=={ver}" for name, ver in _PIN.findall(lock.read_text(encoding="utf-8"))]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _hashes(lock: Path) -> dict[str, set[str]]:
    """pin → the sha256 digests the lock allows for it."""
    out: dict[str, set[str]] = {}
    pin = ""
    for line in lock.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line)
        if m:
            pin = f"{m.group(1)}=={m.group(2)}"
            out[pin] = set()
        out.setdefault(pin, set()).update(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return out


def _pick(lock: Path, cache: Path, arch: str, strict: bool = True) -> list[Path] | None:
    """The one cached wheel per pin for this arch whose digest the lock allows (the lowest
    glibc first). None, or BundleError when ``strict``, if a pin has none."""
    out = []
    for pin, digests in _hashes(lock).items():
        name, ver = pin.split("==")
        prefix = _norm(f"{name}-{ver}-")
        cands = [p for p in cache.glob("*.whl") if _norm(p.name).startswith(prefix)]
        cands = [p for p in cands if p.name.endswith("-any.whl") or p.name.endswith(f"_{arch}.whl")]
        cands = [p for p in cands if hashlib.sha256(p.read_bytes()).hexdigest() in digests]
        if not cands:
            if strict:
                raise BundleError(f"{pin}: downloaded, but no {arch} wheel in {cache}")
            return None
        cands.sort(key=lambda p: (wheel_glibc(p.name) or (0, 0), p.name))
        out.append(cands[0])
    return out


SHIPPED = (
    *(
        f"govnet/data/playbooks/{name}"
        for name in (
            "mlps2-baseline.yaml",
            "alerts.yaml",
            "av-sources.yaml",
            "templates/huawei/baseline.j2",
        )
    ),
    "govnet/locale/zh_CN/LC_MESSAGES/govnet.mo",  # the zh message catalogue (make messages)
)
SOURCES = ("govnet", "playbooks", "setup.cfg", "pyproject.toml", "README.md")


def build_own_wheel(into: Path) -> Path:
    """govnet's wheel from this checkout (playbooks and templates inside it), built from a copy
    so the checkout gets no build/ or egg-info (the playbooks symlink is kept as a link)."""
    src = into / "src"
    src.mkdir(parents=True)
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(path, src / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    result = _pip("wheel", "--no-deps", "-w", str(into), str(src))
    if result.returncode != 0:
        raise BundleError(f"building govnet's wheel failed: {result.stderr.strip()[-800:]}")
    wheels = sorted(into.glob("govnet-*.whl"))
    if not wheels:
        raise BundleError("building govnet's wheel produced no govnet-*.whl")
    with zipfile.ZipFile(wheels[-1]) as whl:
        names = set(whl.namelist())
    for needed in SHIPPED:
        if needed not in names:
            raise BundleError(
                f"{wheels[-1].name} lacks {needed} (is govnet/data/playbooks the "
                "symlink to playbooks/?)"
            )
    return wheels[-1]


def verify(top: Path, arch: str) -> None:
    """Resolve govnet[postgres] for ``arch`` from the bundle's wheels alone, as the server will
    (no index, no pip.conf); every wheel in the bundle must be used and nothing be missing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip reads no config file
    own = next((top / "wheels").glob("govnet-*.whl"))
    platform_args = [a for p in PLATFORMS for a in ("--platform", p.format(arch=arch))]
    with tempfile.TemporaryDirectory(prefix="govnet-verify-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--dry-run",
            "--ignore-installed",
            "--no-index",
            "--find-links",
            str(top / "wheels"),
            "--only-binary=:all:",
            *platform_args,
            "--python-version",
            PYTHON,
            "--implementation",
            "cp",
            "--target",
            str(Path(tmp) / "t"),
            "--report",
            str(report),
            f"{own}[postgres]",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise BundleError(
                f"{arch}: the bundle's wheels do not install govnet offline: "
                f"{result.stderr.strip()[-800:]}"
            )
        used = {
            item["download_info"]["url"].rsplit("/", 1)[-1]
            for item in json.loads(report.read_text())["install"]
        }
    unused = sorted(
        p.name
        for p in (top / "wheels").iterdir()
        if p.name not in used and not p.name.startswith(MICRO_MARKED)
    )
    if unused:
        raise BundleError(f"{arch}: wheels in the bundle that govnet does not need: {unused}")


def _config_example() -> str:
    return """\
# govnet config (installed by install.sh; edit it, it is never overwritten). govnet and govnetd
# read the first of $GOVNET_CONFIG, ~/.config/govnet/govnet.yaml, /etc/govnet/govnet.yaml, so
# cron jobs and systemd units need no 'cd'. Command-line options and GOVNET_* variables win.
# Relative paths are relative to this file's folder.
inventory: inventory.yaml
db: sqlite:///@STATE_DIR@/govnet.sqlite
lang: zh
timezone: Asia/Shanghai
# playbooks: playbooks            # default: the playbooks shipped inside govnet
# templates: playbooks/templates  # default: templates/ of the playbooks folder
"""


def _inventory_example() -> str:
    sys.path.insert(0, str(ROOT))
    try:
        from govnet.starter import INVENTORY_TEXT
    finally:
        sys.path.pop(0)
    return INVENTORY_TEXT


def build(arch: str, out: Path, cache: Path, lock: Path) -> Built:
    started = time.perf_counter()
    if arch not in ARCHES:
        raise BundleError(f"--arch {arch}: one of {', '.join(ARCHES)}")
    if not lock.is_file():
        raise BundleError(f"{lock}: no runtime lock; run 'make lock'")
    ver = version()
    name = f"govnet-{ver}-offline-{arch}"
    wheels = download(lock, arch, cache / arch)
    with tempfile.TemporaryDirectory(prefix="govnet-bundle-") as tmp:
        top = Path(tmp) / name
        (top / "wheels").mkdir(parents=True)
        (top / "contrib").mkdir()
        for w in wheels:
            shutil.copy2(w, top / "wheels" / w.name)
        own = build_own_wheel(Path(tmp) / "own")
        shutil.copy2(own, top / "wheels" / own.name)
        shutil.copy2(lock, top / "requirements.txt")
        for unit in UNITS:
            shutil.copy2(ROOT / "contrib" / unit, top / "contrib" / unit)
        (top / "govnet.yaml.example").write_text(_config_example(), encoding="utf-8")
        (top / "inventory.example.yaml").write_text(_inventory_example(), encoding="utf-8")
        verify(top, arch)
        install = top / "install.sh"
        shutil.copy2(HERE / "install.sh", install)
        install.chmod(0o755)
        glibcs = [(g, w.name) for w in wheels if (g := wheel_glibc(w.name)) is not None]
        glibc, glibc_from = max(glibcs) if glibcs else (None, "")
        info = {
            "name": "govnet",
            "version": ver,
            "arch": arch,
            "python": PYTHON,
            "glibc": glibc_text(glibc),
            "glibc_from": glibc_from,
            "wheels": str(len(wheels) + 1),
        }
        (top / "BUNDLE-INFO").write_text(
            "".join(f"{k}={v}\n" for k, v in info.items()), encoding="utf-8"
        )
        sums = []
        for path in sorted(p for p in top.rglob("*") if p.is_file()):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            sums.append(f"{digest}  {path.relative_to(top).as_posix()}\n")
        (top / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{name}.tar.gz"
        partial = target.with_name(target.name + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(top, arcname=name)
        partial.replace(target)
    names = [w.name for w in wheels] + [own.name]
    return Built(arch, target, names, glibc, glibc_from, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--arch",
        action="append",
        choices=ARCHES,
        help="x86_64 and/or aarch64 (repeatable; default both)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "govnet-bundle",
    )
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements" / "runtime-py3.11.txt")
    args = parser.parse_args(argv)
    try:
        for arch in args.arch or ARCHES:
            b = build(arch, args.out, args.cache, args.lock)
            size = b.path.stat().st_size / 1e6
            glibc = f"{glibc_text(b.glibc)} ({b.glibc_from})" if b.glibc else "any"
            print(
                f"{b.path}: {len(b.wheels)} wheels, {size:.1f} MB, needs glibc >= {glibc}, "
                f"built in {b.seconds:.1f} s"
            )
    except BundleError as exc:
        print(f"govnet-bundle: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
