"""Reaching devices through a bastion (issue 20): what the extra hop costs.

Starts a private lab and Debian's sshd (tests/sshd.py) as the bastion, then, for the lab's
SSH switches, times a session (login, ``running_config``, logout) directly and through the
bastion (one shared bastion login, one ``direct-tcpip`` channel per device), the bastion
login itself, a ``cmd:`` and a ``keyring:`` secret (first run, then cached), a host key fetch
(``govnet hostkeys scan``) directly and through the bastion, and ssh_config lookups. Median
of R rounds.

    .venv/bin/python bench/bastion_bench.py      # root, openssh-server installed

Prints figures; asserts nothing (the machines are noisy).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govnet.inventory import load_inventory  # noqa: E402
from govnet.inventory.model import CredentialSpec, JumpHost  # noqa: E402
from govnet.lab import launcher  # noqa: E402
from govnet.secrets import SecretRef, _cmd_cache  # noqa: E402
from govnet.transport.jump import pool  # noqa: E402
from govnet.transport.ssh import SshOptions, SshSession, fetch_host_key  # noqa: E402
from tests.integration.conftest import relocate_lab  # noqa: E402
from tests.sshd import Sshd, keygen  # noqa: E402

ROUNDS = int(os.environ.get("GOVNET_BENCH_ROUNDS", "5"))
SWITCHES = ["int-core-1", "ext-core-1", "int-agg-east", "ext-agg-east", "int-acc-west"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        os.environ["GOVNET_KNOWN_HOSTS"] = str(base / "known_hosts")
        path = relocate_lab(base / "inv")
        state = base / "state"
        launcher.up(path, state)
        key = keygen(base / "ops")
        b1 = Sshd(base / "sshd", "b1", [key]).start()
        try:
            inv = load_inventory(path)
            creds = CredentialSpec(username="root", key_file=str(key))
            hop = JumpHost("b1", "127.0.0.1", b1.port, creds, max_channels=16)
            direct = [inv.devices[n] for n in SWITCHES]
            via = [replace(d, jump=(hop,)) for d in direct]
            options = SshOptions(retries=0)

            def session(device: object) -> float:
                started = time.perf_counter()
                with SshSession(device, options) as s:  # type: ignore[arg-type]
                    s.fetch("running_config")
                return time.perf_counter() - started

            for d in direct + via:  # learn host keys, warm caches
                session(d)
            bastion = pool().get((hop,))
            logins: list[float] = []
            for _ in range(ROUNDS):
                bastion.close()
                started = time.perf_counter()
                channel, release = bastion.open(via[0], options.host_keys())
                logins.append(time.perf_counter() - started)
                channel.close()
                release()
            rows = {"direct": [], "via bastion": []}  # type: ignore[var-annotated]
            before = bastion.logins
            for _ in range(ROUNDS):
                rows["direct"].append(sum(session(d) for d in direct) / len(direct))
                rows["via bastion"].append(sum(session(d) for d in via) / len(via))
            print(
                f"bastion login (TCP + kex + host key check + publickey), median of {ROUNDS}: "
                f"{statistics.median(logins) * 1000:.1f} ms"
            )
            for name, values in rows.items():
                print(
                    f"session (login, running_config, logout), {name}: "
                    f"{statistics.median(values) * 1000:.1f} ms per device "
                    f"(range {min(values) * 1000:.1f}-{max(values) * 1000:.1f})"
                )
            shared = bastion.logins - before
            print(f"bastion logins for {ROUNDS * len(via)} device sessions: {shared}")
            secret = base / "pw"
            secret.write_text("Bench-Secret-1\n")
            ref = SecretRef.parse(f"cmd:cat {secret}")
            _cmd_cache.clear()
            started = time.perf_counter()
            ref.resolve("bench")
            first = time.perf_counter() - started
            started = time.perf_counter()
            ref.resolve("bench")
            cached = time.perf_counter() - started
            print(f"cmd: secret: first {first * 1000:.1f} ms, cached {cached * 1e6:.1f} µs")

            # host key fetch (`govnet hostkeys scan`): key exchange only, direct and via b1
            store = options.host_keys()
            fetches = {"direct": [], "via bastion": []}  # type: ignore[var-annotated]
            for _ in range(ROUNDS):
                for name, devices in (("direct", direct), ("via bastion", via)):
                    started = time.perf_counter()
                    for d in devices:
                        fetch_host_key(d, store)
                    fetches[name].append((time.perf_counter() - started) / len(devices))
            for name, values in fetches.items():
                print(
                    f"host key fetch, {name}: {statistics.median(values) * 1000:.1f} ms per device"
                )

            # keyring: through the keyring library (tests/keyringfile.py's JSON backend)
            import keyring

            from govnet import secrets
            from tests.keyringfile import JsonKeyring

            os.environ["GOVNET_TEST_KEYRING"] = str(base / "keyring.json")
            keyring.set_keyring(JsonKeyring())
            keyring.set_password("bench", "admin", "Bench-Keyring-2")
            secrets._keyring_cache.clear()
            kref = SecretRef.parse("keyring:bench/admin")
            started = time.perf_counter()
            kref.resolve("bench")
            first = time.perf_counter() - started
            started = time.perf_counter()
            kref.resolve("bench")
            cached = time.perf_counter() - started
            print(f"keyring: secret: first {first * 1000:.1f} ms, cached {cached * 1e6:.1f} µs")

            # ssh_config: one Host lookup per device at inventory load
            from govnet.inventory.sshconfig import SshConfigFile

            config = base / "ssh_config"
            config.write_text(
                "".join(
                    f"Host sw-{i:05d}\n  HostName 10.{i // 65536}.{i // 256 % 256}.{i % 256}\n"
                    "  User ops\n  ProxyJump b1\n"
                    for i in range(2000)
                )
                + "Host *\n  ServerAliveInterval 10\n"
            )
            started = time.perf_counter()
            parsed = SshConfigFile(config)
            parse = time.perf_counter() - started
            started = time.perf_counter()
            for i in range(0, 2000, 10):
                parsed.lookup(f"sw-{i:05d}")
            per = (time.perf_counter() - started) / 200
            print(
                f"ssh_config with 2000 Host blocks: parse {parse * 1000:.1f} ms, "
                f"{per * 1000:.2f} ms per device looked up"
            )
        finally:
            pool().close()
            b1.stop()
            launcher.down(state)


if __name__ == "__main__":
    main()
