"""What the tests' private servers (Redis, VictoriaMetrics) share: finding the Debian binary
(skip without it locally, fail under CI where .ci/run installs it), a free loopback port, and
stopping the process."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def find(*names: str) -> str | None:
    """The first of ``names`` that runs: an absolute path if executable, else looked up on PATH."""
    for name in names:
        if os.path.isabs(name):
            if os.access(name, os.X_OK):
                return name
        elif found := shutil.which(name):
            return found
    return None


def require(package: str, tests: str, *names: str) -> str:
    """The binary's path; skip without it, or under CI (``$CI`` set) fail: .ci/run installs it."""
    found = find(*names)
    if found:
        return found
    reason = f"needs Debian's {package} (apt-get install {package})"
    if os.environ.get("CI"):
        pytest.fail(f"{tests} tests cannot run in CI: {reason}")
    pytest.skip(reason)
    raise AssertionError  # unreachable


def free_port() -> int:
    """A loopback port from the locked non-ephemeral range (tests/ports.py): a just-closed
    ephemeral port could be taken by any client socket before the server binds it."""
    from tests.ports import reserve_port

    return reserve_port()


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
