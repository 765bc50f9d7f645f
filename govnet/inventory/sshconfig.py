"""OpenSSH client config (``~/.ssh/config`` or a given file) for devices that ask for it.

A device (or its group, zone or ``defaults``) with ``ssh_config: true`` (``~/.ssh/config``) or
``ssh_config: PATH`` is looked up by its ``host`` as ``ssh HOST`` would, with paramiko's
``SSHConfig`` (Host and Match blocks, ``%h``-style tokens, first value wins). What the inventory
sets explicitly wins; the file fills in the rest:

==================  =========================================================================
``HostName``        where to connect (the inventory's ``host`` is then an alias)
``Port``            when the inventory sets no ``port``
``User``            when the credentials name no ``username``
``IdentityFile``    when the credentials have no ``key_file`` (the first that exists)
``ProxyJump``       when the inventory gives no ``jump``: each hop is a ``bastions:`` entry of
                    that name, or else a hop built from the file (its own Host block for
                    HostName/Port/User/IdentityFile; the agent if it names no key; its own
                    ProxyJump, if any, comes before it in the chain)
==================  =========================================================================

``StrictHostKeyChecking`` and ``UserKnownHostsFile`` never weaken govnet's host-key check: the
inventory's ``host_key_policy`` applies, and a file saying ``no``/``off``/``accept-new`` or
``/dev/null`` gets a warning saying it is ignored. ``ProxyCommand`` is refused (use
``ProxyJump`` or ``jump:``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govnet import i18n

DEFAULT = Path("~/.ssh/config")
WEAK_CHECKING = {"no", "off", "accept-new"}


class SshConfigError(ValueError):
    """A file that cannot be read or a Host block govnet cannot follow (one line, no value)."""


@dataclass(frozen=True)
class HostEntry:
    """What the file says for one name."""

    host: str  # HostName, or the name itself
    port: int | None
    user: str | None
    key_file: str | None
    proxy_jump: tuple[str, ...] | None  # None: not set; (): ``ProxyJump none``
    ignored: tuple[str, ...]  # settings govnet does not follow, said in a warning


@dataclass(frozen=True)
class Hop:
    """One ``ProxyJump`` hop, resolved through the file."""

    alias: str  # as written in ProxyJump, without user@ and :port
    host: str
    port: int
    user: str | None
    key_file: str | None


def config_path(value: bool | str) -> Path:
    """``true`` = ``~/.ssh/config``; a path (already anchored at its YAML file by the loader)."""
    return (DEFAULT if value is True else Path(str(value))).expanduser()


class SshConfigFile:
    """One parsed file (the loader keeps one per path for the whole inventory)."""

    def __init__(self, path: Path) -> None:
        import paramiko

        self.path = path
        try:
            self._config = paramiko.SSHConfig.from_path(str(path))
        except FileNotFoundError:
            raise SshConfigError(
                i18n._("ssh_config {path} does not exist; fix the path", path=path)
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SshConfigError(
                i18n._("cannot read ssh_config {path}: {exc}", path=path, exc=exc)
            ) from None
        except Exception as exc:  # paramiko's ConfigParseError and the like
            raise SshConfigError(
                i18n._(
                    "ssh_config {path}: {problem}",
                    path=path,
                    problem=str(exc).splitlines()[0],
                )
            ) from None
        self._cache: dict[str, HostEntry] = {}
        self._index()

    def _index(self) -> None:
        """Which blocks a name can match without trying them all: paramiko tries every block
        and asks the OS for the local user name for each one that does not match (200 ms per
        lookup in a file of 2000 Host blocks). Blocks with plain names are indexed by name;
        patterns, negations and Match blocks are tried for every name, in file order."""
        blocks: list[dict[str, Any]] | None = getattr(self._config, "_config", None)
        self._blocks = blocks
        self._exact: dict[str, list[int]] = {}
        self._always: list[int] = []
        if blocks is None:
            return
        for i, block in enumerate(blocks):
            config = block.get("config", {})
            if "canonicalizehostname" in config:  # a second pass under another name: try all
                self._blocks = None
                return
            hosts = block.get("host", [])
            if isinstance(hosts, str):
                hosts = hosts.split(",")
            if block.get("matches") or any(c in p for p in hosts for c in "*?[!"):
                self._always.append(i)
            else:
                for pattern in hosts:
                    self._exact.setdefault(pattern, []).append(i)

    def _lookup(self, name: str) -> dict[str, Any]:
        import paramiko

        config = self._config
        if self._blocks is not None:
            wanted = sorted({*self._exact.get(name, ()), *self._always})
            config = paramiko.SSHConfig()
            config._config = [self._blocks[i] for i in wanted]
        try:
            return dict(config.lookup(name))
        except Exception as exc:  # a Match exec that fails, a bad token
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SshConfigError(
                i18n._(
                    "ssh_config {path}: Host {name}: {first}",
                    path=self.path,
                    name=name,
                    first=first,
                )
            ) from None

    def lookup(self, name: str) -> HostEntry:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        found = self._lookup(name)
        if found.get("proxycommand") and found["proxycommand"].lower() != "none":
            raise SshConfigError(
                i18n._(
                    "ssh_config {path}: Host {name} uses ProxyCommand, which govnet does not "
                    "run; use ProxyJump or the inventory's jump:",
                    path=self.path,
                    name=name,
                )
            )
        ignored: list[str] = []
        checking = str(found.get("stricthostkeychecking", "")).lower()
        if checking in WEAK_CHECKING:
            ignored.append(f"StrictHostKeyChecking {checking}")
        known = found.get("userknownhostsfile")
        if known and "/dev/null" in str(known).split():
            ignored.append("UserKnownHostsFile /dev/null")
        jump = found.get("proxyjump")
        hops: tuple[str, ...] | None = None
        if jump is not None:
            hops = (
                ()
                if jump.strip().lower() == "none"
                else tuple(h.strip() for h in jump.split(",") if h.strip())
            )
        entry = HostEntry(
            host=str(found.get("hostname") or name),
            port=self._port(name, found.get("port")),
            user=found.get("user"),
            key_file=_first_key(found.get("identityfile")),
            proxy_jump=hops,
            ignored=tuple(ignored),
        )
        self._cache[name] = entry
        return entry

    def _port(self, name: str, value: Any) -> int | None:
        if value is None:
            return None
        try:
            port = int(value)
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            raise SshConfigError(
                i18n._(
                    "ssh_config {path}: Host {name}: bad Port {value!r}",
                    path=self.path,
                    name=name,
                    value=value,
                )
            )
        return port

    def chain(self, hops: tuple[str, ...], seen: tuple[str, ...] = ()) -> list[Hop]:
        """The hops of a ``ProxyJump`` list, first hop first; a hop whose own Host block has
        a ``ProxyJump`` is reached through that chain first, as OpenSSH does."""
        out: list[Hop] = []
        for spec in hops:
            hop = self.hop(spec)
            if hop.alias in seen:
                raise SshConfigError(
                    i18n._(
                        "ssh_config {path}: ProxyJump loops through {alias}",
                        path=self.path,
                        alias=hop.alias,
                    )
                )
            inner = self.lookup(hop.alias).proxy_jump
            if inner:
                out += self.chain(inner, (*seen, hop.alias))
            out.append(hop)
        return out

    def hop(self, spec: str) -> Hop:
        """A ``ProxyJump`` element (``[user@]host[:port]``, or an ``ssh://`` URI) through the
        file's own Host block for that host."""
        text = spec.removeprefix("ssh://")
        user: str | None = None
        if "@" in text:
            user, _, text = text.rpartition("@")
        port: int | None = None
        if text.startswith("[") and "]" in text:  # [v6]:port
            inner, _, rest = text[1:].partition("]")
            text = inner
            if rest.startswith(":"):
                port = self._port(spec, rest[1:])
        elif text.count(":") == 1:
            text, _, number = text.partition(":")
            port = self._port(spec, number)
        if not text:
            raise SshConfigError(
                i18n._(
                    "ssh_config {path}: ProxyJump hop {spec!r} has no host",
                    path=self.path,
                    spec=spec,
                )
            )
        entry = self.lookup(text)
        return Hop(
            alias=text,
            host=entry.host,
            port=port or entry.port or 22,
            user=user or entry.user,
            key_file=entry.key_file,
        )


def _first_key(files: Any) -> str | None:
    """OpenSSH offers each IdentityFile in turn; govnet offers one: the first that exists
    (or the first named, so a missing file is reported as such)."""
    if not files:
        return None
    names = [str(Path(f).expanduser()) for f in files]
    return next((f for f in names if Path(f).is_file()), names[0])
