"""A private OpenSSH server for tests (issue 20): Debian's sshd on a free 127.0.0.1 port with its
own host key, its own sshd_config and authorized_keys in the test's directory.

It runs as root (``sshd -D -e -f CONFIG``: in the foreground, logging to stderr, which goes to
``log``), without PAM, with TCP forwarding on: a bastion (运维堡垒机) for the lab devices and a
Linux host reached with a key. Under CI a missing sshd fails the tests instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.ports import reserve_port

SSHD = Path("/usr/sbin/sshd")


def need_sshd() -> None:
    reason = ""
    if not SSHD.is_file():
        reason = "openssh-server is not installed (apt-get install openssh-server)"
    elif os.geteuid() != 0:
        reason = "sshd tests run as root"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    return reserve_port()  # not a just-closed ephemeral port: a client socket could take it


def keygen(path: Path, kind: str = "ed25519", passphrase: str = "") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", path.name, "-f", str(path)],
        check=True,
    )
    return path


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    out: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        children = [child for child, parent in parents.items() if parent == current]
        out += children
        todo += children
    return out


class Sshd:
    """One sshd; ``start()``/``stop()``; ``log_text()`` is what it logged."""

    def __init__(
        self,
        base: Path,
        name: str,
        authorized: list[Path],
        netns: str | None = None,
        root_password: str | None = None,
    ) -> None:
        """``root_password``: root must log in with a key *and* this password
        (``AuthenticationMethods publickey,password``). sshd reads it from a shadow file of
        the test's own, bind-mounted over /etc/shadow in a private mount namespace: the
        machine's accounts are never touched."""
        self.netns = netns  # run inside this network namespace (its own 127.0.0.1)
        self.shadow: Path | None = None
        self.dir = base / name
        self.dir.mkdir(parents=True)
        self.port = free_port()
        self.host_key = keygen(self.dir / "ssh_host_ed25519_key")
        keys = self.dir / "authorized_keys"
        keys.write_text("".join(p.with_suffix(".pub").read_text() for p in authorized))
        self.config = self.dir / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {self.host_key}\n"
            f"PidFile {self.dir / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {keys}\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "PermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "AllowTcpForwarding yes\n"
            "PermitOpen any\n"
            "MaxSessions 50\n"
            "MaxStartups 50\n"
            "LogLevel DEBUG1\n"
        )
        if root_password is not None:
            hashed = subprocess.run(
                ["openssl", "passwd", "-6", "-stdin"],
                input=root_password,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            self.shadow = self.dir / "shadow"
            self.shadow.write_text(f"root:{hashed}:19000:0:99999:7:::\n")
            self.shadow.chmod(0o600)
            text = self.config.read_text()
            text = text.replace("PasswordAuthentication no", "PasswordAuthentication yes")
            text = text.replace("PermitRootLogin prohibit-password", "PermitRootLogin yes")
            self.config.write_text(text + "AuthenticationMethods publickey,password\n")
        self.log = self.dir / "sshd.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sshd:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        argv = [str(SSHD), "-D", "-e", "-f", str(self.config)]
        if self.shadow is not None:  # unshare and sh exec: sshd keeps the pid started here
            argv = [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                'mount --bind "$0" /etc/shadow && exec "$@"',
                str(self.shadow),
                *argv,
            ]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns, *argv]  # execs sshd: the same pid
        listening = self.log_text().count("Server listening") if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log_text()[-2000:]}")
            if self.netns:  # not reachable from here: its own log says when it listens
                if self.log_text().count("Server listening") > listening:
                    return self
                time.sleep(0.05)
                continue
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen within 10 s")

    def stop(self) -> None:
        """Kill sshd and every connection process it forked (they call setsid, so they are
        found by parentage, read from /proc before the parent goes)."""
        if self.proc is not None and self.proc.poll() is None:
            for pid in [*descendants(self.proc.pid), self.proc.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def rotate_host_key(self) -> None:
        self.host_key.unlink()
        self.host_key.with_suffix(".pub").unlink()
        keygen(self.host_key)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")
