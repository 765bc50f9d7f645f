"""A cache of the validated inventory, so an unchanged inventory loads in ~0.1 s.

Two entries per inventory location (the ``-i`` paths), in ``$GOVNET_CACHE_DIR`` or
``$XDG_CACHE_HOME/govnet`` (``~/.cache/govnet``), a 0700 folder of 0600 files:

- ``<id>.core``: the inventory without its CSV terminals, keyed by the SHA-256 of every YAML
  file that fed it (names and contents), the govnet version and the cache format;
- ``<id>.terminals``: the CSV terminals, keyed by that digest plus the SHA-256 of every terminals
  CSV, read only when a command looks at terminals.

Referenced secret files are not part of the key and never read: secrets stay references.

The entries are pickles, which only govnet writes; each starts with an HMAC-SHA256 of the rest
under a random key kept in the same 0700 folder (``key``, 0600), then the format and the key
digest: an entry of another format, other code or other inputs is refused before it is
unpickled, a corrupt one when its HMAC does not match. What is pickled is mostly columns of
plain values: the devices (rebuilt as objects on load: 50,000 in ~0.1 s, a third of unpickling
them as objects), the terminals' texts as one string a column and their addresses as one array
(split or read when a command first uses them).
A folder that is not ours or is open to others is not used. Any mismatch, a corrupt or
truncated entry, or a read error means "no cache": the inventory is loaded in full, as
``--no-cache`` (``GOVNET_NO_CACHE=1``) always does.
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import hmac
import ipaddress
import os
import pickle
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govnet import __version__

FORMAT = b"govnet-inventory-cache-3\n"  # 3: devices as columns
_HMAC_LEN = 32


def cache_dir() -> Path:
    explicit = os.environ.get("GOVNET_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "govnet"


def entry_id(roots: Sequence[Path]) -> str:
    """One cache slot per set of ``-i`` paths (as absolute paths)."""
    text = "\0".join(str(Path(r).absolute()) for r in roots)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@functools.cache
def code_fingerprint() -> bytes:
    """govnet's own code and data (names, sizes, mtimes): a changed validation rule or platform
    table invalidates the cache even where the version number stays (a development install)."""
    package = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".yaml", ".yml", ".json", ".txt", ".j2") and path.is_file():
            info = path.stat()
            h.update(f"{path.relative_to(package)}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return h.digest()


def digest(parts: Sequence[tuple[str, bytes]]) -> str:
    """The key of what fed a load: names and contents, govnet's code and the cache format."""
    h = hashlib.sha256(FORMAT + code_fingerprint())
    for name, data in parts:
        h.update(b"\0" + name.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def _safe_dir(create: bool) -> Path | None:
    """The cache folder if it is ours and closed to others (made 0700 when ``create``)."""
    folder = cache_dir()
    try:
        if create:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        return None
    if info.st_mode & 0o077:
        try:
            folder.chmod(0o700)
        except OSError:
            return None
    return folder


def _key(folder: Path, create: bool) -> bytes | None:
    path = folder / "key"
    try:
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if info.st_uid != os.geteuid() or info.st_mode & 0o077:
                return None
            key = fh.read(64)
        return key if len(key) >= 32 else None
    except FileNotFoundError:
        if not create:
            return None
    except OSError:
        return None
    key = os.urandom(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another govnet made it just now
        return _key(folder, create=False)
    except OSError:
        return None
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def _reduce_v4(a: ipaddress.IPv4Address) -> tuple[Any, tuple[int]]:
    return ipaddress.IPv4Address, (int(a),)  # from an int: no text to parse on load


def _reduce_v6(a: ipaddress.IPv6Address) -> tuple[Any, tuple[int]]:
    return ipaddress.IPv6Address, (int(a),)


_DISPATCH = copyreg.dispatch_table.copy()
_DISPATCH[ipaddress.IPv4Address] = _reduce_v4
_DISPATCH[ipaddress.IPv6Address] = _reduce_v6


class _MacWriter:
    """A file that keeps the HMAC of what is written (the entry is never whole in memory)."""

    def __init__(self, fh: Any, mac: hmac.HMAC) -> None:
        self.fh = fh
        self.mac = mac

    def write(self, data: bytes) -> int:
        self.mac.update(data)
        written: int = self.fh.write(data)
        return written


def save(name: str, key_digest: str, value: Any, *, flat: bool = False) -> None:
    """Write one entry atomically (best effort: a cache that cannot be written is no error).

    ``flat``: ``value`` holds no object twice (lists of plain values): pickled without a memo,
    which for 300,000 terminals saves ~150 MB of peak memory.
    """
    folder = _safe_dir(create=True)
    key = _key(folder, create=True) if folder else None
    if folder is None or key is None:
        return
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"\0" * _HMAC_LEN)
            out = _MacWriter(fh, hmac.new(key, digestmod=hashlib.sha256))
            out.write(_header(key_digest))
            pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = _DISPATCH
            pickler.fast = flat
            pickler.dump(value)
            fh.seek(0)
            fh.write(out.mac.digest())
        os.replace(tmp, folder / name)
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError, ValueError):
        tmp.unlink(missing_ok=True)


def load(name: str, key_digest: str) -> Any | None:
    """The value saved under ``name`` for exactly ``key_digest``, or None."""
    folder = _safe_dir(create=False)
    key = _key(folder, create=False) if folder else None
    if folder is None or key is None:
        return None
    try:
        with open(folder / name, "rb") as fh:
            info = os.fstat(fh.fileno())
            if info.st_uid != os.geteuid() or not stat.S_ISREG(info.st_mode):
                return None
            raw = bytearray(info.st_size)  # read in one piece, never copied (~20 MB)
            if fh.readinto(raw) != info.st_size or fh.read(1):
                return None  # changed while read
    except OSError:
        return None
    view = memoryview(raw)
    mac, body = view[:_HMAC_LEN], view[_HMAC_LEN:]
    header = _header(key_digest)
    if body[: len(header)] != header:
        return None  # another format, other code or other inputs: never unpickled
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        return None  # corrupt, truncated or not written by us: load in full
    try:
        return pickle.loads(body[len(header) :])
    except Exception:
        return None


def _header(key_digest: str) -> bytes:
    """What an entry starts with (after its HMAC): the format and the key it was saved for,
    so an entry of another format, other code or other inputs is refused unread."""
    return FORMAT + key_digest.encode("ascii", "replace") + b"\n"
