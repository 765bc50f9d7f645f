"""The device CLI behind each simulated SSH session, free of any transport.

:class:`DeviceState` is what one device remembers — its running and saved configuration (kept
in ``state_dir`` so they survive a restart), tables and behaviour — shared by all its sessions.
:class:`Shell` is one login: it takes typed lines and returns what the device prints, prompt
included. Everything that differs between vendors comes from their :class:`~govnet.lab.vendors.
Vendor` row; the shell dispatches on the row's *action* names, never on platform names.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from govnet.errors import LabError
from govnet.i18n import _
from govnet.lab.configtree import ConfigNode, ConfigTree
from govnet.lab.data import LabDeviceData
from govnet.lab.vendors import Command, Vendor, get_vendor, render_neighbors, render_table

log = logging.getLogger("govnet.lab.ssh")

RUNNING = "running.cfg"
STARTUP = "startup.cfg"
FILE_MARK = "### file: "  # linux seed configs bundle several files
DEFAULTS = Path(__file__).parent / "seeds" / "defaults"


def default_config(platform: str) -> str:
    """The seed running config of devices without one (``{hostname}`` placeholder)."""
    path = DEFAULTS / f"{platform}.cfg"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LabError(
            _("no default configuration for platform {platform!r}", platform=platform)
        ) from exc


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_bundle(text: str, default_path: str) -> dict[str, str]:
    """``### file: /etc/x`` sections → {path: content}; unmarked text → ``default_path``."""
    files: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith(FILE_MARK):
            if current is not None or any(x.strip() for x in lines):
                files[current or default_path] = "\n".join(lines).strip("\n") + "\n"
            current, lines = line[len(FILE_MARK) :].strip(), []
        else:
            lines.append(line)
    if current is not None or any(x.strip() for x in lines):
        files[current or default_path] = "\n".join(lines).strip("\n") + "\n"
    return files


@dataclass
class DeviceState:
    """One simulated device's memory, shared by its sessions."""

    name: str
    vendor: Vendor
    data: LabDeviceData
    state_dir: Path
    hostname: str | None = None  # fixed prompt name; None → the configured sysname/hostname
    password: str | None = None  # the login password (linux sudo asks for it)
    running: ConfigTree | None = None
    startup: str = ""
    files: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def load(
        cls,
        name: str,
        platform: str,
        data: LabDeviceData,
        state_dir: Path,
        hostname: str | None = None,
        password: str | None = None,
    ) -> DeviceState:
        """Saved state from ``state_dir`` if any, else the lab data's seed or the default."""
        try:
            vendor = get_vendor(platform)
        except KeyError as exc:
            raise LabError(f"{name}: {exc.args[0]}") from None
        seed = data.running_config
        if seed is None:
            seed = default_config(platform).replace("{hostname}", hostname or name)
        state = cls(
            name=name,
            vendor=vendor,
            data=data,
            state_dir=state_dir,
            hostname=hostname,
            password=password,
        )
        dialect = vendor.config
        if dialect is None:
            state.files = parse_bundle(seed, "/etc/ssh/sshd_config")
            state.files.setdefault("/etc/hostname", f"{hostname or name}\n")
            return state
        try:
            running_path, startup_path = state_dir / RUNNING, state_dir / STARTUP
            running = running_path.read_text("utf-8") if running_path.is_file() else seed
            state.startup = startup_path.read_text("utf-8") if startup_path.is_file() else seed
        except OSError as exc:
            raise LabError(
                _(
                    "{name}: cannot read saved state in {state_dir}: {exc}",
                    name=name,
                    state_dir=state_dir,
                    exc=exc,
                )
            ) from exc
        state.running = ConfigTree.parse(running, dialect.syntax, dialect.is_top_section)
        return state

    def host(self) -> str:
        """The name in the prompt."""
        if self.hostname:
            return self.hostname
        if self.running is not None and self.vendor.config is not None:
            node = self.running.top(self.vendor.config.hostname_keyword)
            if node is not None and len(node.text.split()) > 1:
                return node.text.split(maxsplit=1)[1]
        etc = self.files.get("/etc/hostname", "").strip()
        return etc or self.name

    def running_text(self) -> str:
        return self.running.render() if self.running is not None else ""

    def persist(self) -> None:
        """Write the running configuration to ``state_dir`` (atomic replace)."""
        write_atomic(self.state_dir / RUNNING, self.running_text())

    def save(self) -> None:
        """Running → startup, both on disk."""
        self.startup = self.running_text()
        self.persist()
        write_atomic(self.state_dir / STARTUP, self.startup)

    def uptime(self) -> dict[str, int]:
        minutes = int(time.monotonic() - self.started) // 60
        return {
            "weeks": minutes // (7 * 24 * 60),
            "days": minutes // (24 * 60) % 7,
            "hours": minutes // 60 % 24,
            "minutes": minutes % 60,
        }


# ---------------------------------------------------------------------- command grammar
@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    arg: _Node | None = None  # "{name}": any one word
    rest: Command | None = None  # "{...}": the rest of the line
    command: Command | None = None


def _build(commands: Sequence[Command]) -> _Node:
    root = _Node()
    for cmd in commands:
        node = root
        for word in cmd.words.split():
            if word == "{...}":
                node.rest = cmd
                break
            if word.startswith("{"):
                node.arg = node.arg or _Node()
                node = node.arg
            else:
                node = node.children.setdefault(word, _Node())
        else:
            node.command = cmd
    return root


@dataclass(frozen=True)
class _Match:
    command: Command | None
    args: list[str]
    error: str = ""  # "unrecognized" | "incomplete" | "ambiguous"
    at: int = 0  # index of the offending word (len(words) = after the last one)


def _match(root: _Node, words: list[str], abbreviations: bool) -> _Match:
    node, args = root, []
    for i, word in enumerate(words):
        if node.rest is not None and not node.children and node.arg is None:
            return _Match(node.rest, words[i:])
        nxt = node.children.get(word)
        if nxt is None and abbreviations:
            found = [k for k in node.children if k.startswith(word)]
            if len(found) > 1:
                return _Match(None, [], "ambiguous", i)
            nxt = node.children[found[0]] if found else None
        if nxt is None and node.arg is not None:
            args.append(word)
            nxt = node.arg
        if nxt is None:
            if node.rest is not None:
                return _Match(node.rest, words[i:])
            return _Match(None, [], "unrecognized", i)
        node = nxt
    if node.command is None:
        return _Match(None, [], "incomplete", len(words))
    return _Match(node.command, args)


_GRAMMAR: dict[str, tuple[_Node, _Node]] = {}


def _grammar(vendor: Vendor) -> tuple[_Node, _Node]:
    """(every exec command, the ones valid in configuration views) for a vendor."""
    if vendor.platform not in _GRAMMAR:
        anywhere = [c for c in vendor.commands if c.anywhere]
        _GRAMMAR[vendor.platform] = (_build(vendor.commands), _build(anywhere))
    return _GRAMMAR[vendor.platform]


_FILTERS = ("include", "exclude", "begin", "section", "grep")
_REDIRECT = re.compile(r"^\d?>>?\S*$|^\d?>&\d$")


def exec_command(vendor: Vendor, line: str) -> Command | None:
    """The exec command ``line`` runs on ``vendor`` (None: the device refuses it).

    The same grammar the shell answers with; the platform conformance test uses it to check
    that the lab answers every command govnet sends to the platform."""
    words = [w for w in line.partition(" | ")[0].split() if not _REDIRECT.match(w)]
    return _match(_grammar(vendor)[0], words, vendor.abbreviations).command


def _pipe(text: str, how: str, pattern: str) -> str:
    rx = re.compile(pattern)
    lines = text.split("\n")
    if how in ("include", "grep"):
        return "\n".join(ln for ln in lines if rx.search(ln))
    if how == "exclude":
        return "\n".join(ln for ln in lines if not rx.search(ln))
    if how == "begin":
        start = next((i for i, ln in enumerate(lines) if rx.search(ln)), len(lines))
        return "\n".join(lines[start:])
    keep: list[str] = []  # section: matching top-level lines and what is indented below them
    inside = False
    for ln in lines:
        if ln[:1] not in (" ", ""):
            inside = bool(rx.search(ln))
        if inside and ln.strip():
            keep.append(ln)
    return "\n".join(keep)


# ---------------------------------------------------------------------- the shell
class Shell:
    """One CLI session on a device: lines in, what the device prints out."""

    def __init__(self, state: DeviceState, username: str) -> None:
        self.state = state
        self.vendor = state.vendor
        self.user = username
        self.privileged = True
        self.context: list[ConfigNode] | None = None  # None: exec; []: configuration root
        self.closed = False
        self._pending: Callable[[str], str] | None = None  # answers a question we asked
        self._elevated = False  # linux "sudo -s"
        self.echo = True  # False while a password is being typed
        self._labels: list[str] = []
        self._all, self._anywhere = _grammar(self.vendor)
        self._actions: dict[str, Callable[[Command, list[str]], str]] = {
            "say": lambda c, a: c.text,
            "running": self._running,
            "startup": self._startup,
            "version": self._version,
            "arp": lambda c, a: render_table(self.vendor, "arp", self.state.data.tables),
            "mac": lambda c, a: render_table(self.vendor, "mac", self.state.data.tables),
            "interfaces": lambda c, a: render_table(
                self.vendor, "interfaces", self.state.data.tables
            ),
            "lldp": lambda c, a: render_neighbors(self.vendor, self.state.data.tables),
            "cdp": lambda c, a: render_neighbors(self.vendor, self.state.data.tables, "cdp"),
            "lldp-brief": lambda c, a: render_neighbors(
                self.vendor, self.state.data.tables, "lldp-brief"
            ),
            "clock": lambda c, a: datetime.now().strftime(c.text),
            "configure": self._configure,
            "save": self._save,
            "logout": self._logout,
            "enable": lambda c, a: self._set_privileged(True),
            "disable": lambda c, a: self._set_privileged(False),
            "hostname": lambda c, a: self.state.host(),
            "whoami": lambda c, a: self.user,
            "echo": lambda c, a: " ".join(a),
            "cat": self._cat,
            "sudo": self._sudo,
        }

    # ------------------------------------------------------------------ prompt & greeting
    @property
    def prompt(self) -> str:
        host = self.state.host()
        dialect = self.vendor.config
        if self.context is not None and dialect is not None:
            if not self.context:
                return dialect.prompt.format(host=host)
            labels = self._labels if dialect.nested_labels else self._labels[-1:]
            return dialect.section_prompt.format(host=host, label="-".join(labels))
        if (self.user == "root" or self._elevated) and self.vendor.root_prompt:
            return self.vendor.root_prompt.format(host=host, user="root")
        if not self.privileged and self.vendor.user_prompt:
            return self.vendor.user_prompt.format(host=host, user=self.user)
        return self.vendor.exec_prompt.format(host=host, user=self.user)

    def greeting(self) -> str:
        banner = self.vendor.banner.format(now=datetime.now())
        return f"{banner}\n{self.prompt}" if banner else self.prompt

    # ------------------------------------------------------------------ input
    def handle(self, line: str) -> str:
        """Process one typed line; returns the device's reply followed by the next prompt."""
        prompt = self.prompt
        if self._pending is not None:
            answer, self._pending = self._pending, None
            out = answer(line)
        else:
            out = self._dispatch(line, prompt)
        if self._pending is not None or self.closed:
            return out  # a question is the prompt; after logout there is none
        return f"{out}\n{self.prompt}" if out else self.prompt

    def run(self, line: str) -> str:
        """Run one command without prompts (SSH ``exec`` requests)."""
        return self._dispatch(line, "")

    def _dispatch(self, line: str, prompt: str) -> str:
        text = line.strip()
        if not text:
            return ""
        literal = self.state.data.behaviour.commands.get(text)
        if literal is not None and self.context is None:
            return literal.rstrip("\n")
        if self.context is not None:
            return self._config_line(line, prompt)
        return self._exec(line, prompt, self._all)

    def _error(self, kind: str, line: str, prompt: str, at: int) -> str:
        spans = [m.span() for m in re.finditer(r"\S+", line)]
        col = spans[at][0] if at < len(spans) else len(line.rstrip()) + 1
        word = line.split()[at] if at < len(spans) else ""
        template: str = getattr(self.vendor.errors, kind)
        caret = " " * (len(prompt) + col) + "^"
        return str(template.format(caret=caret, word=word, line=line.strip()))

    def _exec(self, line: str, prompt: str, grammar: _Node) -> str:
        body, bar, filt = line.partition(" | ")
        words = [w for w in body.split() if not _REDIRECT.match(w)]
        quiet_errors = any(w.startswith("2>") for w in body.split())
        m = _match(grammar, words, self.vendor.abbreviations)
        if m.command is None:
            return self._error(m.error, line, prompt, m.at)
        if m.command.privileged and not self.privileged:
            return self._error("unrecognized", line, prompt, 0)
        out = self._actions[m.command.action](m.command, m.args)
        if quiet_errors:
            out = "\n".join(ln for ln in out.split("\n") if not ln.startswith("cat: "))
        if bar:
            fw = filt.split(maxsplit=1)
            how = [f for f in _FILTERS if fw and f.startswith(fw[0])]
            if len(fw) < 2 or len(how) != 1:
                return self._error("unrecognized", line, prompt, len(body.split()) + 1)
            try:
                out = _pipe(out, how[0], fw[1])
            except re.error:
                return self._error("unrecognized", line, prompt, len(body.split()) + 2)
        return out

    # ------------------------------------------------------------------ configuration mode
    def _config_line(self, line: str, prompt: str) -> str:
        dialect = self.vendor.config
        tree = self.state.running
        assert dialect is not None and tree is not None and self.context is not None
        words = line.split()
        first = words[0]
        if first == dialect.up_word:
            if self.context:
                self.context.pop()
                self._labels.pop()
            else:
                self.context = None
            return ""
        if first == dialect.end_word:
            self.context, self._labels = None, []
            return ""
        if dialect.exec_prefix and first == dialect.exec_prefix and len(words) > 1:
            shift = line.index(first) + len(first) + 1
            return self._exec(line[shift:], prompt + " " * shift, self._all)
        kind, first = self._first_word(first)
        if kind == "exec":
            return self._exec(line, prompt, self._anywhere)
        if kind != "config":
            return self._error(kind, line, prompt, 0)

        negated = first == dialect.rules.negation
        body = words[1:] if negated else [first, *words[1:]]
        if not body:
            return self._error("incomplete", line, prompt, len(words))
        keyword_at = 1 if negated else 0
        found = [k for k in dialect.keywords if k == body[0]] or [
            k for k in dialect.keywords if k.startswith(body[0])
        ]
        if dialect.numbered_entries and body[0].isdigit() and self.context:
            found = [body[0]]  # a numbered entry inside a section (RGOS "10 permit …")
        if len(found) != 1:
            kind = "ambiguous" if found else "unrecognized"
            return self._error(kind, line, prompt, keyword_at)
        body = [found[0], *body[1:]]
        if body[0] == "interface":
            if len(body) < 2:
                return self._error("incomplete", line, prompt, len(words))
            name = dialect.canonical_interface(" ".join(body[1:]))
            if name is None:
                return self._error("unrecognized", line, prompt, keyword_at + 1)
            body = ["interface", name]
        text = " ".join(body)
        full = " ".join(words[:keyword_at] + body)
        if dialect.rules.is_refused(full):
            return self._error("unrecognized", line, prompt, keyword_at)
        for pattern in self.state.data.behaviour.reject:
            if re.search(pattern, full) or re.search(pattern, line.strip()):
                return self._error("unrecognized", line, prompt, keyword_at)

        if self.context and dialect.is_global_only(text):
            if not dialect.global_fallback:
                return self._error("unrecognized", line, prompt, keyword_at)
            self.context, self._labels = [], []  # Cisco: leave the section, apply globally
        parent = self.context[-1] if self.context else tree.root
        if negated:
            changed = tree.negate(parent, text, dialect.rules)
        else:
            parent_text = self.context[-1].text if self.context else None
            label = dialect.section_label(text, parent_text)
            if label is None and self.context:
                label = dialect.section_label(text, None)  # another top-level section
                if label is not None:
                    self.context, self._labels, parent = [], [], tree.root
            if label is not None:
                changed = parent.child(text) is None
                self.context.append(tree.open_section(parent, text, dialect.rules))
                self._labels.append(label)
            else:
                changed = tree.set_line(parent, text, dialect.rules)
        if changed:
            self.state.persist()
        return ""

    def _first_word(self, word: str) -> tuple[str, str]:
        """Classify a configuration-mode line's first word: ("exec"|"config"|error, word)."""
        dialect = self.vendor.config
        assert dialect is not None
        exec_words = self._anywhere.children
        if word in exec_words:
            return "exec", word
        config_words = {*dialect.keywords, dialect.rules.negation}
        if word in config_words or (dialect.numbered_entries and word.isdigit() and self.context):
            return "config", word
        found = [("exec", k) for k in exec_words if k.startswith(word)]
        found += [("config", k) for k in config_words if k.startswith(word)]
        if len(found) == 1:
            return found[0]
        return ("ambiguous" if found else "unrecognized"), word

    # ------------------------------------------------------------------ actions
    def _running(self, command: Command, args: list[str]) -> str:
        body = self.state.running_text().rstrip("\n")
        head = self.vendor.running_header.format(size=len(body.encode()) + 1)
        return f"{head}\n{body}" if head else body

    def _startup(self, command: Command, args: list[str]) -> str:
        body = self.state.startup.rstrip("\n")
        head = self.vendor.startup_header.format(size=len(body.encode()) + 1)
        return f"{head}\n{body}" if head else body

    def _version(self, command: Command, args: list[str]) -> str:
        custom = self.state.data.behaviour.version
        if custom is not None:
            return custom.rstrip("\n")
        text: str = self.vendor.version.format(hostname=self.state.host(), **self.state.uptime())
        return text

    def _configure(self, command: Command, args: list[str]) -> str:
        if self.vendor.config is None or self.state.running is None:
            return ""
        self.context, self._labels = [], []
        return self.vendor.config.enter_banner

    def _save(self, command: Command, args: list[str]) -> str:
        if command.question:
            self._pending = lambda answer: (
                "" if answer.strip().lower() in ("n", "no") else self._do_save(command)
            )
            return command.question
        return self._do_save(command)

    def _sudo(self, command: Command, args: list[str]) -> str:
        def check(password: str) -> str:
            self.echo = True
            if self.state.password is not None and password != self.state.password:
                return "Sorry, try again.\nsudo: 1 incorrect password attempt"
            self._elevated = True
            return ""

        if self._elevated:
            return ""
        self._pending, self.echo = check, False
        return command.question.format(user=self.user)

    def _do_save(self, command: Command) -> str:
        if self.state.running is not None:
            self.state.save()
        return command.text

    def _logout(self, command: Command, args: list[str]) -> str:
        if self._elevated:
            self._elevated = False  # leave the root shell
            return ""
        self.closed = True
        return ""

    def _set_privileged(self, value: bool) -> str:
        self.privileged = value
        return ""

    def _cat(self, command: Command, args: list[str]) -> str:
        out: list[str] = []
        for path in args:
            content = self.state.files.get(path)
            if content is None:
                out.append(f"cat: {path}: No such file or directory")
            else:
                out.append(content.rstrip("\n"))
        return "\n".join(out)
