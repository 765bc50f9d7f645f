"""Offline bundle figures: size per arch, the glibc it needs, build and install time.

    python bench/bundle_bench.py [--arch x86_64 --arch aarch64] [--repeat 1] [--out DIR]

Builds each bundle with contrib/bundle/govnet_bundle.py (wheels from its cache after the first
run), then installs this machine's arch from the tarball with install.sh into a throw-away
prefix (as root: inside a loopback-only network namespace, as on the internal network), and
times the install and the first ``govnet --version``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILDER = ROOT / "contrib" / "bundle" / "govnet_bundle.py"


def build(arch: str, out: Path) -> tuple[Path, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(BUILDER), "--arch", arch, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"bundle_bench: building {arch} failed: {result.stderr.strip()}")
    path = next(out.glob(f"govnet-*-offline-{arch}.tar.gz"))
    return path, time.perf_counter() - started


def info(bundle: Path) -> dict[str, str]:
    with tarfile.open(bundle) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/BUNDLE-INFO"))
        handle = tar.extractfile(member)
        assert handle is not None
        text = handle.read().decode()
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def install(bundle: Path, work: Path, netns: str | None) -> tuple[float, float]:
    """Seconds for install.sh (unpack included) and for the first ``govnet --version``."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(work),
        "LANG": "C.UTF-8",
    }
    wrap = ["ip", "netns", "exec", netns] if netns else []
    started = time.perf_counter()
    with tarfile.open(bundle) as tar:
        tar.extractall(work / "media", filter="data")
    top = next((work / "media").iterdir())
    args = [
        "--prefix",
        work / "opt",
        "--bin-dir",
        work / "bin",
        "--config-dir",
        work / "etc",
        "--state-dir",
        work / "var",
        "--no-systemd",
    ]
    subprocess.run(
        [*wrap, str(top / "install.sh"), *map(str, args)], env=env, check=True, capture_output=True
    )
    installed = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(
        [*wrap, str(work / "bin" / "govnet"), "--version"], env=env, check=True, capture_output=True
    )
    return installed, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", action="append", choices=("x86_64", "aarch64"))
    parser.add_argument("--repeat", type=int, default=1, help="installs to time")
    parser.add_argument("--out", type=Path, default=None, help="keep the bundles here")
    args = parser.parse_args()
    arches = args.arch or ["x86_64", "aarch64"]
    with tempfile.TemporaryDirectory(prefix="govnet-bundle-bench-") as tmp:
        out = args.out or Path(tmp) / "dist"
        built = {}
        for arch in arches:
            path, seconds = build(arch, out)
            meta = info(path)
            built[arch] = path
            size = path.stat().st_size / 1e6
            print(
                f"{arch:8} {path.name}: {size:5.1f} MB, {meta['wheels']} wheels, needs glibc "
                f">= {meta['glibc']} ({meta['glibc_from']}), Python {meta['python']}, "
                f"built in {seconds:.1f} s"
            )
        here = os.uname().machine
        if here not in built:
            print(f"install: skipped (this machine is {here})")
            return
        netns = None
        if os.geteuid() == 0 and shutil.which("ip"):
            netns = f"govnet-bench-{uuid.uuid4().hex[:6]}"
            subprocess.run(["ip", "netns", "add", netns], check=True)
        try:
            times = []
            for i in range(args.repeat):
                work = Path(tmp) / f"install-{i}"
                work.mkdir()
                times.append(install(built[here], work, netns))
        finally:
            if netns:
                subprocess.run(["ip", "netns", "del", netns], check=False)
        where = f"in network namespace {netns} (loopback only)" if netns else "(not root: no netns)"
        for installed, first in times:
            print(
                f"install {here} {where}: {installed:.1f} s (unpack, SHA-256 check, venv, "
                f"{meta['wheels']} wheels); first 'govnet --version' {first:.2f} s"
            )


if __name__ == "__main__":
    main()
