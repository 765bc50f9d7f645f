"""SSH host keys: govnet's own known_hosts file, the system ones, and the trust policy.

No network here (``transport.ssh`` fetches keys and calls :func:`verify` during the SSH
handshake, after key exchange and before any authentication, so a refused key means no
password ever leaves). This module knows the file format and decides.

**Files.** govnet records keys in its own file, in OpenSSH ``known_hosts`` format (``host``
for port 22, ``[host]:port`` otherwise; ``ssh-keygen -F '[127.0.0.1]:2201' -f FILE`` works)
with a comment ``device=NAME first-seen=ISO-TIME via=HOW``. It lives beside the SQLite store
(``<store dir>/known_hosts``; ``$GOVNET_KNOWN_HOSTS`` overrides), created 0600 in a 0700
directory. The system files (``~/.ssh/known_hosts``, ``/etc/ssh/ssh_known_hosts``;
``$GOVNET_SYSTEM_KNOWN_HOSTS``, ``:``-separated, overrides, empty for none) are read, never
written: hashed names, ``,`` lists, ``*``/``?`` patterns, ``!`` negation and ``@revoked``
are understood; ``@cert-authority`` lines are ignored (govnet does not accept host
certificates).

**Policies** (``host_key_policy`` on a device, a group or the defaults):

- ``strict``: only a key already on record (either file) is accepted. An unknown key is
  refused; record it with ``govnet hostkeys accept DEVICE`` after checking its fingerprint.
- ``tofu`` (default), trust on first use: when nothing at all is on record for the
  device's ``host:port`` the key is learned and a warning names the device and the
  fingerprint. From then on the device must present a key on record: a different key —
  even of another type — is refused.
- ``accept-new``, as OpenSSH's ``StrictHostKeyChecking=accept-new``: a key is refused only
  when a key *of the same type* is on record and differs; a key of a type not yet on record
  is learned (added beside the others, with the same warning). Handy when firmware adds key
  types; weaker, since a man in the middle who offers only a new type is believed.

In every policy a key is refused when any entry of its type in any file disagrees (a
conflicting ``~/.ssh/known_hosts`` line counts), or when it is marked ``@revoked``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import fcntl
import fnmatch
import hashlib
import hmac
import logging
import os
import struct
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from govnet import i18n
from govnet.errors import GovnetError, TransportError
from govnet.inventory.model import HostKeyPolicy
from govnet.limits import LimitError, limits, read_regular

log = logging.getLogger("govnet.hostkeys")

POLICIES: tuple[str, ...] = get_args(HostKeyPolicy)
DEFAULT_POLICY: HostKeyPolicy = "tofu"
SYSTEM_FILES = ("~/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts")
FILE_NAME = "known_hosts"


class HostKeyError(TransportError):
    """A host key was refused: nothing was sent to the device."""

    kind = "hostkey"


# ----------------------------------------------------------------------------------- paths


def known_hosts_path(db_url: str | None = None) -> Path:
    """govnet's own file: ``$GOVNET_KNOWN_HOSTS``, else beside the SQLite store, else in
    ``$XDG_DATA_HOME/govnet`` (a PostgreSQL store has no directory)."""
    env = os.environ.get("GOVNET_KNOWN_HOSTS")
    if env:
        return Path(env).expanduser()
    url = db_url or os.environ.get("GOVNET_DB") or ""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///") :]).expanduser().parent / FILE_NAME
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "govnet" / FILE_NAME


def system_known_hosts() -> list[Path]:
    env = os.environ.get("GOVNET_SYSTEM_KNOWN_HOSTS")
    names = SYSTEM_FILES if env is None else [p for p in env.split(os.pathsep) if p]
    return [Path(p).expanduser() for p in names]


def host_pattern(host: str, port: int) -> str:
    """The name OpenSSH files a host under: ``host`` on port 22, ``[host]:port`` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


# ------------------------------------------------------------------------------------ keys


@dataclass(frozen=True)
class HostKey:
    """A public host key as sent on the wire (the SSH key blob)."""

    blob: bytes

    @property
    def keytype(self) -> str:
        (length,) = struct.unpack(">I", self.blob[:4])
        return self.blob[4 : 4 + length].decode("ascii", "replace")

    @property
    def base64(self) -> str:
        return base64.b64encode(self.blob).decode("ascii")

    @property
    def fingerprint(self) -> str:
        """OpenSSH's ``SHA256:…`` fingerprint (``ssh-keygen -lf``)."""
        digest = base64.b64encode(hashlib.sha256(self.blob).digest()).decode("ascii")
        return "SHA256:" + digest.rstrip("=")

    def __str__(self) -> str:
        return f"{self.keytype} {self.fingerprint}"

    @classmethod
    def parse(cls, keytype: str, text: str) -> HostKey:
        """A key from a known_hosts line's type and base64 fields (ValueError if bad)."""
        try:
            blob = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ValueError(i18n._("key is not valid base64")) from exc
        if len(blob) < 8:
            raise ValueError(i18n._("key is too short"))
        key = cls(blob)
        (length,) = struct.unpack(">I", blob[:4])
        if length > len(blob) - 4 or key.keytype != keytype:
            raise ValueError(i18n._("key data is not a {keytype} key", keytype=keytype))
        return key


# --------------------------------------------------------------------------------- entries


def _hashed(hosts: str) -> tuple[bytes, bytes] | None:
    """(salt, HMAC) of a hashed host field ``|1|salt|hmac`` (a single name), else None."""
    if not hosts.startswith("|1|") or "," in hosts:
        return None
    try:
        _, _, salt, digest = hosts.split("|", 3)
        return base64.b64decode(salt), base64.b64decode(digest)
    except (ValueError, binascii.Error):
        return None


def _pattern_match(name: str, pattern: str) -> bool:
    if pattern.startswith("|1|"):  # hashed: |1|base64(salt)|base64(HMAC-SHA1(salt, name))
        try:
            _, _, salt, digest = pattern.split("|", 3)
            mac = hmac.new(base64.b64decode(salt), name.encode(), hashlib.sha1).digest()
            return hmac.compare_digest(mac, base64.b64decode(digest))
        except (ValueError, binascii.Error):
            return False
    if "*" in pattern or "?" in pattern:  # OpenSSH patterns know only * and ?
        return fnmatch.fnmatchcase(name.lower(), pattern.lower().replace("[", "[[]"))
    return name.lower() == pattern.lower()


@dataclass(frozen=True)
class Entry:
    """One known_hosts line."""

    source: Path
    line: int
    hosts: str  # the line's host field (patterns, maybe hashed)
    key: HostKey
    marker: str = ""  # "" | "@revoked" | "@cert-authority"
    comment: str = ""

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def matches(self, name: str) -> bool:
        """OpenSSH's rule: a negated pattern that matches wins; else any positive match."""
        hit = False
        for pattern in self.hosts.split(","):
            if pattern.startswith("!"):
                if _pattern_match(name, pattern[1:]):
                    return False
            elif _pattern_match(name, pattern):
                hit = True
        return hit

    def meta(self) -> dict[str, str]:
        """``device``, ``first-seen`` and ``via`` from a line govnet wrote."""
        out: dict[str, str] = {}
        for token in self.comment.split():
            key, sep, value = token.partition("=")
            if sep:
                out[key] = value
        return out

    def to_line(self) -> str:
        parts = [self.marker] if self.marker else []
        parts += [self.hosts, self.key.keytype, self.key.base64]
        if self.comment:
            parts.append(self.comment)
        return " ".join(parts)


def parse_known_hosts(text: str, source: Path) -> tuple[list[Entry], list[str]]:
    """Entries of a known_hosts text, and one message per line that could not be read."""
    entries: list[Entry] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 4 if line.startswith("@") else 3)
        marker = ""
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
        if len(fields) < 3:
            problems.append(f"{source}:{number}: expected 'HOSTS KEYTYPE KEY', ignored")
            continue
        hosts, keytype, data = fields[:3]
        try:
            key = HostKey.parse(keytype, data)
        except ValueError as exc:
            problems.append(f"{source}:{number}: {exc}, ignored")
            continue
        comment = fields[3] if len(fields) > 3 else ""
        entries.append(Entry(source, number, hosts, key, marker, comment))
    return entries, problems


# ---------------------------------------------------------------------------------- verdicts

Status = Literal["known", "new", "changed", "revoked"]


@dataclass(frozen=True)
class Verdict:
    """How a presented key compares with what is on record for ``host:port``."""

    status: Status
    presented: HostKey
    matched: tuple[Entry, ...] = ()  # entries equal to the presented key
    conflicts: tuple[Entry, ...] = ()  # entries that disagree with it (or revoke it)

    def accepted(self, policy: HostKeyPolicy) -> bool:
        return self.status == "known" or (self.status == "new" and policy != "strict")


def assess(entries: Sequence[Entry], key: HostKey, policy: HostKeyPolicy) -> Verdict:
    """Compare ``key`` with the entries on record for its host (see the module docstring)."""
    usable = [e for e in entries if e.marker != "@cert-authority"]
    revoked = [e for e in usable if e.marker == "@revoked" and e.key == key]
    if revoked:
        return Verdict("revoked", key, conflicts=tuple(revoked))
    plain = [e for e in usable if not e.marker]
    same_type = [e for e in plain if e.key.keytype == key.keytype]
    matched = tuple(e for e in same_type if e.key == key)
    differing = tuple(e for e in same_type if e.key != key)
    if differing:
        return Verdict("changed", key, matched, differing)
    if matched:
        return Verdict("known", key, matched)
    if plain and policy != "accept-new":  # tofu and strict pin every key type on record
        return Verdict("changed", key, conflicts=tuple(plain))
    return Verdict("new", key)


# ----------------------------------------------------------------------------------- store


class _Parsed:
    """One file's entries, indexed: literal names in a dict, the rest (hashed, patterns,
    negations) scanned once per name asked for and remembered."""

    def __init__(self, stamp: tuple[int, int, int], entries: list[Entry], lines: int = 0) -> None:
        self.stamp = stamp
        self.entries: list[Entry] = []
        self.lines = lines  # lines in the file (the next appended entry's number - 1)
        self._exact: dict[str, list[Entry]] = {}
        self._other: list[Entry] = []
        self._hashed: list[tuple[bytes, bytes, Entry]] = []  # salt, HMAC, entry
        self._memo: dict[str, list[Entry]] = {}
        self._lock = threading.Lock()
        for e in entries:
            self._index(e)

    def _index(self, e: Entry) -> None:
        self.entries.append(e)
        names = e.hosts.split(",")
        hashed = _hashed(e.hosts)
        if hashed is not None:
            self._hashed.append((*hashed, e))
        elif any(n.startswith(("!", "|")) or "*" in n or "?" in n for n in names):
            self._other.append(e)
        else:
            for n in dict.fromkeys(n.lower() for n in names):
                self._exact.setdefault(n, []).append(e)

    def appended(self, stamp: tuple[int, int, int], e: Entry) -> None:
        """The file grew by ``e`` (written by us under the lock): index it, no re-read."""
        with self._lock:
            self._index(e)
            self.lines = e.line
            self.stamp = stamp
            self._memo = {}

    def lookup(self, name: str) -> list[Entry]:
        with self._lock:
            found = self._memo.get(name)
        if found is None:
            hits = set(self._exact.get(name.lower(), ()))
            hits.update(e for e in self._other if e.matches(name))
            raw = name.encode()
            hits.update(e for salt, mac, e in self._hashed if hmac.digest(salt, raw, "sha1") == mac)
            found = sorted(hits, key=lambda e: e.line)  # file order
            with self._lock:
                self._memo[name] = found
        return found


_EMPTY = _Parsed((0, 0, 0), [])


def _read_known_hosts(path: Path) -> str:
    """A known_hosts file through the bounded reader: a regular file (a FIFO or
    device there never blocks) of at most ``config_bytes``; errors name the file (exit 2)."""
    try:
        raw = read_regular(path, limits().config_bytes, "config_bytes", "known hosts")
    except LimitError as exc:
        raise GovnetError(
            i18n._("{path}: cannot read known hosts: {message}", path=path, message=exc.message)
        ) from None
    return raw.decode("utf-8", errors="replace")


class KnownHosts:
    """govnet's known_hosts file (read and written) and the system files (read only).

    Files are parsed once and re-read when they change on disk; writes hold an exclusive
    lock (``<file>.lock``) across processes and threads, and re-read the file first.
    """

    def __init__(self, path: Path, system: Sequence[Path] | None = None) -> None:
        self.path = path
        self.system = list(system_known_hosts() if system is None else system)
        self._cache: dict[Path, _Parsed] = {}
        self._mutex = threading.RLock()

    @classmethod
    def default(cls, db_url: str | None = None) -> KnownHosts:
        return cls(known_hosts_path(db_url))

    # -- reading
    def _parsed(self, path: Path) -> _Parsed:
        try:
            st = path.stat()
        except FileNotFoundError:
            return _EMPTY
        except OSError as exc:
            raise GovnetError(
                i18n._(
                    "{path}: cannot read known hosts: {strerror}", path=path, strerror=exc.strerror
                )
            ) from exc
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._mutex:
            cached = self._cache.get(path)
            if cached is not None and cached.stamp == stamp:
                return cached
        text = _read_known_hosts(path)
        entries, problems = parse_known_hosts(text, path)
        for problem in problems:
            log.warning("%s", problem)
        parsed = _Parsed(stamp, entries, len(text.splitlines()))
        with self._mutex:
            self._cache[path] = parsed
        return parsed

    def own(self) -> list[Entry]:
        """Every entry of govnet's own file."""
        return list(self._parsed(self.path).entries)

    def lookup(self, host: str, port: int) -> list[Entry]:
        """Every entry, govnet's file first then the system files, for ``host:port``."""
        name = host_pattern(host, port)
        out: list[Entry] = []
        for path in [self.path, *self.system]:
            out.extend(self._parsed(path).lookup(name))
        return out

    def preferred_types(self, host: str, port: int) -> list[str]:
        """Key types on record for ``host:port``, to ask the device for those first."""
        types = (e.key.keytype for e in self.lookup(host, port) if not e.marker)
        return list(dict.fromkeys(types))

    # -- writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._mutex:
            _private_dir(self.path.parent)
            lock = self.path.with_name(self.path.name + ".lock")
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def _rewrite(self, keep: Sequence[str]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("".join(f"{line}\n" for line in keep))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise GovnetError(
                i18n._(
                    "{path}: cannot write known hosts: {strerror}",
                    path=self.path,
                    strerror=exc.strerror,
                )
            ) from exc

    def _lines(self) -> list[str]:
        if not self.path.exists():
            return []
        return _read_known_hosts(self.path).splitlines()

    def _without(self, lines: list[str], name: str) -> tuple[list[str], list[Entry]]:
        """``lines`` minus the entries for ``name`` (other lines and comments kept)."""
        keep: list[str] = []
        removed: list[Entry] = []
        for number, line in enumerate(lines, 1):
            parsed, _ = parse_known_hosts(line, self.path)
            if parsed and not parsed[0].marker and parsed[0].matches(name):
                removed.append(dataclasses.replace(parsed[0], line=number))
                continue
            keep.append(line)
        return keep, removed

    def _add(self, device: str, name: str, key: HostKey, via: str, replace: bool) -> list[Entry]:
        """Under the lock: add ``key`` for ``name`` (``replace``: instead of govnet's own)."""
        seen = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"{name} {key.keytype} {key.base64} device={device} first-seen={seen} via={via}"
        if not replace:
            self._append(line, name, key, line.split(" ", 3)[3])
            return []
        lines, removed = self._without(self._lines(), name)
        self._rewrite([*lines, line])
        return removed

    def _append(self, line: str, name: str, key: HostKey, comment: str) -> None:
        """Under the lock: one line at the end, and the parsed file updated in place (a first
        contact costs the same with 10 or 10,000 devices on record)."""
        before = self._parsed(self.path)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                st = os.fstat(fd)
                ends_open = st.st_size > 0 and os.pread(fd, 1, st.st_size - 1) != b"\n"
                os.write(fd, (("\n" if ends_open else "") + line + "\n").encode())
                os.fsync(fd)
                after = os.fstat(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise GovnetError(
                i18n._(
                    "{path}: cannot write known hosts: {strerror}",
                    path=self.path,
                    strerror=exc.strerror,
                )
            ) from exc
        with self._mutex:
            if before is not _EMPTY and before.stamp == (st.st_mtime_ns, st.st_size, st.st_ino):
                entry = Entry(self.path, before.lines + 1, name, key, "", comment)
                before.appended((after.st_mtime_ns, after.st_size, after.st_ino), entry)
            else:  # new file, or changed behind our back: read it again next time
                self._cache.pop(self.path, None)

    def record(
        self, device: str, host: str, port: int, key: HostKey, via: str, replace: bool = False
    ) -> list[Entry]:
        """Add ``key`` for ``host:port`` to govnet's file (``replace``: instead of what govnet
        had for it). Returns the entries removed."""
        with self._locked():
            return self._add(device, host_pattern(host, port), key, via, replace)

    def forget(self, host: str, port: int) -> list[Entry]:
        """Remove govnet's entries for ``host:port``; returns them."""
        with self._locked():
            keep, removed = self._without(self._lines(), host_pattern(host, port))
            if removed:
                self._rewrite(keep)
        return removed

    def learn(self, device: str, host: str, port: int, key: HostKey, policy: HostKeyPolicy) -> bool:
        """Record ``key`` unless, re-read under the lock, it is known now (another process
        learned it) or no longer new (then :func:`verify` refuses). True if recorded."""
        with self._locked():
            if assess(self.lookup(host, port), key, policy).status != "new":
                return False
            self._add(device, host_pattern(host, port), key, policy, replace=False)
            return True


def _private_dir(path: Path) -> None:
    """Create ``path`` (and parents) 0700 if missing."""
    if not path.is_dir():
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise GovnetError(
                i18n._(
                    "{path}: cannot create directory: {strerror}", path=path, strerror=exc.strerror
                )
            ) from exc


# ---------------------------------------------------------------------------------- verify


def refusal(device: str, host: str, port: int, verdict: Verdict, own: Path) -> str:
    """The one-line reason a key was refused, with what to do."""
    where = f"{host}:{port}"
    new = verdict.presented
    accept = f"govnet hostkeys accept {device}"
    if verdict.status == "new":
        return (
            f"unknown host key at {where}: {new} (host_key_policy strict); nothing was sent. "
            f"Check the fingerprint on the device's console, then run: {accept}"
        )
    if verdict.status == "revoked":
        revoked = verdict.conflicts[0].where
        return f"host key {new} at {where} is @revoked in {revoked}; nothing was sent"
    old = "; ".join(f"{e.key} ({e.where})" for e in verdict.conflicts)
    msg = (
        f"HOST KEY CHANGED at {where}: on record {old}; presented {new}. Nothing was sent "
        "(a man in the middle, or the device was replaced or re-keyed)."
    )
    foreign = sorted({str(e.source) for e in verdict.conflicts if e.source != own})
    if foreign:
        name = host_pattern(host, port)
        removes = " and ".join(f"ssh-keygen -R '{name}' -f {f}" for f in foreign)
        return msg + (
            f" The conflicting entry is not govnet's: if the change is legitimate, run "
            f"{accept} and remove it with: {removes}"
        )
    return msg + f" If the change is legitimate, run: {accept}"


def verify(
    store: KnownHosts, device: str, host: str, port: int, policy: HostKeyPolicy, key: HostKey
) -> Verdict:
    """Accept ``key`` for ``device`` (learning it if the policy says so, with a warning) or
    raise :class:`HostKeyError`. Called before any authentication."""
    entries = store.lookup(host, port)
    verdict = assess(entries, key, policy)
    if verdict.status == "new" and policy != "strict":
        if store.learn(device, host, port, key, policy):
            others = sorted({e.key.keytype for e in entries if not e.marker})
            what = i18n._("first contact with")
            if others:
                what = i18n._("a new key type beside {types} at", types=", ".join(others))
            log.warning(
                "%s",
                i18n._(
                    "{device}: {what} {host}:{port}: learned host key {key} (host_key_policy "
                    "{policy}; recorded in {path})",
                    device=device,
                    what=what,
                    host=host,
                    port=port,
                    key=key,
                    policy=policy,
                    path=store.path,
                ),
            )
            return verdict
        verdict = assess(store.lookup(host, port), key, policy)  # someone else was quicker
    if verdict.status == "known":
        return verdict
    raise HostKeyError(device, refusal(device, host, port, verdict, store.path))
