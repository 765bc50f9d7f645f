"""Credential references: ``env:NAME``, ``file:PATH``, ``cmd:COMMAND``, ``keyring:SERVICE/USER``
or ``prompt``, resolved only when needed.

``cmd:`` runs a command without a shell (``cmd:pass show net/core``, ``cmd:secret-tool lookup
net core``, ``cmd:vault kv get -field=password secret/net/core``) and takes the first line it
prints; it must finish within ``GOVNET_SECRET_CMD_TIMEOUT`` seconds (10). ``keyring:`` asks the
`keyring` library (the OS keyring: Secret Service / GNOME Keyring / KWallet, or any backend
named by ``PYTHON_KEYRING_BACKEND`` or keyringrc.cfg) for the password of USER in SERVICE (the
last ``/`` separates them), within the same timeout. Each ``cmd:``/``keyring:`` reference is
resolved at most once per run (cached in memory only).

Plain-text secrets are refused by the inventory loader. Every value resolved here is
registered with :data:`REDACTOR`, which masks it in any text govnet prints or logs.
"""

from __future__ import annotations

import contextlib
import getpass
import html
import json
import logging
import os
import re
import shlex
import signal
import subprocess
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from govnet import i18n
from govnet.errors import SecretError
from govnet.limits import LimitError, limits, read_regular

MASK = "***"
_REF = re.compile(
    r"^(?:env:(?P<env>[A-Za-z_][A-Za-z0-9_]*)|file:(?P<file>.+)|cmd:(?P<cmd>.+)"
    r"|keyring:(?P<keyring>[^\n]+/[^/\n]+)|(?P<prompt>prompt))$",
    re.S,
)
CMD_TIMEOUT = 10.0
_cmd_cache: dict[str, str] = {}
_keyring_cache: dict[tuple[str, str], str] = {}
_cmd_lock = threading.Lock()


def _cmd_timeout() -> float:
    try:
        return max(0.1, float(os.environ.get("GOVNET_SECRET_CMD_TIMEOUT", CMD_TIMEOUT)))
    except ValueError:
        return CMD_TIMEOUT


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` in its own process group; on timeout the whole group is killed (a
    wrapper's children would otherwise keep the pipe open and the read hanging)."""
    with subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return subprocess.CompletedProcess(argv, proc.returncode, out, b"")


def _run_secret_cmd(command: str, what: str) -> str:
    """The first line ``command`` prints (run without a shell), cached for this run. The
    messages name the program, never its arguments' output."""
    with _cmd_lock:
        if command in _cmd_cache:
            return _cmd_cache[command]
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise SecretError(
                i18n._(
                    "{what}: cannot parse cmd: reference ({exc}); fix its quoting",
                    what=what,
                    exc=exc,
                )
            ) from None
        if not argv:
            raise SecretError(i18n._("{what}: empty cmd: reference; give a command", what=what))
        timeout = _cmd_timeout()
        try:
            done = _run(argv, timeout)
        except FileNotFoundError:
            raise SecretError(
                i18n._(
                    "{what}: command {argv!r} not found; install it or fix the path",
                    what=what,
                    argv=argv[0],
                )
            ) from None
        except subprocess.TimeoutExpired:
            raise SecretError(
                i18n._(
                    "{what}: command {argv!r} did not finish within {timeout:g} s (is it "
                    "waiting for a passphrase? unlock the store first); set "
                    "GOVNET_SECRET_CMD_TIMEOUT",
                    what=what,
                    argv=argv[0],
                    timeout=timeout,
                )
            ) from None
        except OSError as exc:
            raise SecretError(
                i18n._(
                    "{what}: cannot run {argv!r}: {strerror}",
                    what=what,
                    argv=argv[0],
                    strerror=exc.strerror,
                )
            ) from None
        if done.returncode != 0:
            raise SecretError(
                i18n._(
                    "{what}: command {argv!r} failed (exit {returncode}); run it by hand to see "
                    "why",
                    what=what,
                    argv=argv[0],
                    returncode=done.returncode,
                )
            )
        lines = done.stdout.decode("utf-8", "replace").splitlines()
        value = lines[0].rstrip("\r") if lines else ""
        if not value:
            raise SecretError(
                i18n._(
                    "{what}: command {argv!r} printed nothing; check the entry",
                    what=what,
                    argv=argv[0],
                )
            )
        _cmd_cache[command] = value
        return value


def _keyring_lookup(service: str, username: str) -> str | None:
    import keyring

    return keyring.get_password(service, username)


def _read_keyring(entry: str, what: str) -> str:
    """The password of ``SERVICE/USER`` from the keyring library's backend, cached for this run.
    A locked, missing or hanging keyring is one line naming the entry, never a value."""
    with _cmd_lock:
        if ("keyring", entry) in _keyring_cache:
            return _keyring_cache["keyring", entry]
    service, _, username = entry.rpartition("/")
    service, username = service.strip(), username.strip()
    if not service or not username:
        raise SecretError(
            i18n._(
                "{what}: keyring reference needs SERVICE/USER, e.g. keyring:govnet/admin", what=what
            )
        )
    timeout = _cmd_timeout()
    box: dict[str, Any] = {}

    def ask() -> None:
        try:
            box["value"] = _keyring_lookup(service, username)
        except BaseException as exc:  # carried to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=ask, name="govnet-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise SecretError(
            i18n._(
                "{what}: the keyring did not answer within {timeout:g} s for "
                "{service}/{username} (is it locked and waiting for a password? unlock it "
                "first); set GOVNET_SECRET_CMD_TIMEOUT",
                what=what,
                timeout=timeout,
                service=service,
                username=username,
            )
        )
    error = box.get("error")
    if error is not None:
        from keyring.errors import KeyringLocked, NoKeyringError

        if isinstance(error, NoKeyringError):
            why = "no keyring backend is available; install one or set PYTHON_KEYRING_BACKEND"
        elif isinstance(error, KeyringLocked):
            why = "the keyring is locked; unlock it first"
        else:
            text = REDACTOR(str(error)).strip().splitlines()
            why = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
        raise SecretError(
            i18n._(
                "{what}: cannot read keyring entry {service}/{username} ({why})",
                what=what,
                service=service,
                username=username,
                why=why,
            )
        )
    value = box.get("value")
    if not value:
        raise SecretError(
            i18n._(
                "{what}: no password for {username!r} in keyring service {service!r}; store it "
                "with: keyring set {service_arg} {user_arg}",
                what=what,
                username=username,
                service=service,
                service_arg=shlex.quote(service),
                user_arg=shlex.quote(username),
            )
        )
    with _cmd_lock:
        _keyring_cache["keyring", entry] = value
    return str(value)


def renderings(value: str) -> set[str]:
    """Every way a secret is seen spelled in logs and messages, besides itself.

    netmiko logs its expect patterns ``re.escape``'d ("Pattern found: …AuthK\\-XYZZY\\-55…")
    and ``repr``'d ("Pattern not detected: '…'"), writes as ``b'…'``; JSON logs escape quotes,
    backslashes and (ASCII mode) non-ASCII; shells quote; HTML and URLs escape.
    """
    forms = {value, re.escape(value), shlex.quote(value), html.escape(value)}
    forms.add(urllib.parse.quote(value, safe=""))
    for text in (value, re.escape(value)):
        forms.add(repr(text)[1:-1])
        forms.add(json.dumps(text)[1:-1])
        forms.add(json.dumps(text, ensure_ascii=False)[1:-1])
        forms.add(repr(text.encode("utf-8"))[2:-1])
        forms.add(json.dumps(json.dumps(text))[3:-3])  # a JSON log line quoting a JSON text
    return {f for f in forms if f}


def trie_pattern(words: Iterable[str]) -> str:
    """One regex matching any of ``words``, longest first, as a trie: ``re`` tries the
    branches of a flat alternation one by one at every position (600 ms per MB with 100
    secrets in 15 spellings each); a trie's branches share their prefixes."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:  # a word ends here, longer ones go on: try them first (greedy)
            return f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else f"{body}?"
        return body

    return build(trie)


class Redactor:
    """Masks every secret value resolved so far, in any string, in any of its renderings.

    A secret cut in two (a channel read that ends mid-secret) cannot be recognised here:
    text is passed through whole (per command, per message), never in read-sized pieces.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if len(value) < 3:  # masking "a" everywhere would destroy output, not protect it
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                self._forms |= renderings(value)
                self._pattern = re.compile(trie_pattern(self._forms))

    def values(self) -> frozenset[str]:
        """The secrets registered so far (for code that must avoid echoing them)."""
        return frozenset(self._values)

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern else text


REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """Logging filter: no resolved secret reaches a log record's message or its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = REDACTOR(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:  # library messages quote input
            record.exc_text = REDACTOR(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _read_secret_file(path: Path, what: str) -> str:
    """A secret file's first-line text: a regular file (never a FIFO or device, which would
    block or never end) of at most ``secret_bytes``, UTF-8. The message never quotes it."""
    try:
        raw = read_regular(path, limits().secret_bytes, "secret_bytes", "secret")
    except LimitError as exc:
        raise SecretError(
            i18n._(
                "{what}: cannot read secret file {path}: {message}",
                what=what,
                path=path,
                message=exc.message,
            )
        ) from None
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise SecretError(
            i18n._("{what}: secret file {path} is not UTF-8 text", what=what, path=path)
        ) from None


def check_all(refs: Iterable[tuple[str, SecretRef]]) -> None:
    """Resolve every ``(what, ref)`` up front: an input error (exit 2) naming each secret that
    cannot be had, raised before any device is contacted rather than once per device."""
    users: dict[SecretRef, list[str]] = {}
    for what, ref in refs:
        users.setdefault(ref, []).append(what)
    problems: list[str] = []
    for ref, whats in users.items():
        try:
            ref.check(whats[0])
        except SecretError as exc:
            others = f" (also needed for {len(whats) - 1} more)" if len(whats) > 1 else ""
            problems.append(f"{exc}{others}")
    if problems:
        raise SecretError("; ".join(problems))


@dataclass(frozen=True)
class SecretRef:
    """A reference to a secret; ``str()`` never shows the value."""

    ref: str
    base_dir: Path = field(default=Path("."), compare=False)

    @classmethod
    def parse(cls, text: str, base_dir: Path | None = None) -> SecretRef:
        if not isinstance(text, str) or not _REF.match(text.strip()):
            raise ValueError(
                i18n._(
                    "plain-text secrets are not allowed; use env:NAME, file:PATH, cmd:COMMAND, "
                    "keyring:SERVICE/USER or prompt"
                )
            )
        return cls(text.strip(), base_dir or Path("."))

    @property
    def scheme(self) -> str:
        return self.ref.split(":", 1)[0]

    def resolve(self, what: str = "secret") -> str:
        m = _REF.match(self.ref)
        assert m is not None
        if m["env"]:
            value = os.environ.get(m["env"])
            if value is None:
                raise SecretError(
                    i18n._(
                        "{what}: environment variable {env} is not set; export it",
                        what=what,
                        env=m["env"],
                    )
                )
        elif m["file"]:
            path = Path(os.path.expanduser(m["file"]))
            if not path.is_absolute():
                path = self.base_dir / path
            value = _read_secret_file(path, what)
        elif m["cmd"]:
            value = _run_secret_cmd(m["cmd"].strip(), what)
        elif m["keyring"]:
            value = _read_keyring(m["keyring"].strip(), what)
        else:
            try:
                value = getpass.getpass(f"{what}: ")
            except (EOFError, OSError) as exc:
                raise SecretError(
                    i18n._("{what}: no terminal to prompt for the secret", what=what)
                ) from exc
        REDACTOR.add(value)
        return value

    def check(self, what: str = "secret") -> None:
        """Raise :class:`SecretError` now if resolving would fail (unset variable, unreadable
        file); ``prompt`` is left for when the session opens (it needs the operator)."""
        if self.scheme != "prompt":
            self.resolve(what)

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"SecretRef({self.scheme}:{MASK})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> SecretRef:
            if isinstance(value, SecretRef):
                return value
            return cls.parse(value)

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(lambda v: MASK)
        )
