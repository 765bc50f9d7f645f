"""YAML loading that remembers where every key and value came from.

Inventory and playbook errors must name ``file:line:column`` and the key path, so the loaders
compose the YAML node graph and build plain Python data alongside a map
``path tuple → (line, column)`` (1-based). Duplicate keys, which PyYAML accepts silently,
are reported as errors.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from govnet import limits as input_limits
from govnet.errors import Diagnostic
from govnet.i18n import _

try:  # the C loader composes ~10x faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on the build of PyYAML
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

SAFE_LOADER = _BaseLoader
"""The safe loader, libyaml's where PyYAML has it, for plain data without positions."""


class _Loader(_BaseLoader):
    """The safe loader with a memoised resolver.

    The composer asks the resolver for the tag of every scalar: half of the time of a large
    inventory went to regex matching the same zone, site and unit names over and over. Same
    tags as the safe loader's; SafeLoader has no path resolvers, so descend/ascend do nothing.
    """

    _memo: dict[str, str]

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._memo = {}

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._memo.get(value)
            if tag is None:
                tag = self._memo[value] = super().resolve(kind, value, (True, False))  # type: ignore[no-untyped-call]
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


Path_ = tuple[str | int, ...]


@dataclass
class SourceDoc:
    """One YAML file: its data, and the position of every path in it.

    ``lazy``: the positions below the entries of its sections (``devices.sw-1.address``) are
    found when first asked for, by parsing that entry's text again (see :class:`_Lazy`).
    """

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    lazy: _Lazy | None = None

    def where(self, path: Path_) -> tuple[int, int]:
        """The position of ``path`` or of its nearest ancestor that has one."""
        p = tuple(path)
        if self.lazy is not None and len(p) > _KEPT:
            self.lazy.fill(self, p[:_KEPT])
        while p:
            if p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), (1, 1))

    def diag(self, path: Path_, message: str, severity: str = "error") -> Diagnostic:
        line, col = self.where(path)
        return Diagnostic(self.file, line, col, dotted(path), message, severity)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_STR_TAG = "tag:yaml.org,2002:str"
_SCALAR = yaml.ScalarEvent
# First characters of a plain scalar the resolver may tag as other than a string (it looks
# resolvers up by the first character): any other plain scalar is a string.
_RESOLVED = frozenset(_Loader.yaml_implicit_resolvers)
# Digits with two or more dots (an IPv4 address, a version): a string to the resolver (its int
# and float patterns allow one dot at most, timestamps need a dash), decided without asking it.
_DOTTED_NUMBERS = re.compile(r"[0-9]+(?:\.[0-9]+){2,}").fullmatch
_FLATTEN_TAGS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


class _TooMuch(Exception):
    """A document over a structural limit (alias expansion, depth) at ``path``."""

    def __init__(self, path: Path_, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class _Builder:
    """Plain data plus positions from a composed node graph, within limits.

    Aliases are allowed (playbooks share blocks with ``&policy``/``*policy`` and ``<<:``), but
    every node built again through an alias counts against ``max_alias_nodes``: a
    billion-laughs document stops at that budget instead of expanding into gigabytes.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.constructor = yaml.SafeLoader("")  # for scalar resolution only
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.seen: set[int] = set()  # collection nodes built once already
        self.alias_depth = 0  # > 0 while building through an alias
        self.alias_nodes = 0
        self.alias_path: Path_ = ()  # where the outermost alias being expanded is used
        caps = input_limits.limits()
        self.max_alias_nodes = caps.yaml_alias_nodes
        self.max_depth = caps.yaml_depth

    def build(self, node: yaml.Node, path: Path_) -> Any:
        if path not in self.positions:  # (a mapping's values are placed at their keys)
            if path and id(node) in self.seen:  # an alias: where it is used, not its anchor
                self.positions[path] = self.positions.get(path[:-1], (1, 1))
            else:
                self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        return self._value(node, path)

    def _value(self, node: yaml.Node, path: Path_) -> Any:
        """``node``'s data; its position is already recorded."""
        if type(node) is yaml.ScalarNode:
            if self.alias_depth:
                self._count(node)
            if node.tag == _STR_TAG:
                return node.value
            return self._construct(node)
        if len(path) > self.max_depth:
            raise _TooMuch(
                path,
                f"nested more than {self.max_depth} levels deep "
                f"({input_limits.raise_hint('yaml_depth')} if this is meant)",
            )
        again = id(node) in self.seen
        if again:
            if not self.alias_depth:
                self.alias_path = path
            self.alias_depth += 1
        else:
            self.seen.add(id(node))
        try:
            if self.alias_depth:
                self._count(node)
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._construct(node)
        finally:
            if again:
                self.alias_depth -= 1

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        pairs = node.value
        for key_node, _value in pairs:
            if key_node.tag in _FLATTEN_TAGS:
                return self._merged_mapping(node, path)
        out: dict[Any, Any] = {}
        positions = self.positions
        value = self._value
        for key_node, value_node in pairs:
            if type(key_node) is yaml.ScalarNode and key_node.tag == _STR_TAG:
                key = key_node.value
            else:
                key = self.build_scalar_key(key_node)
                if key is None:
                    self._diag(key_node, path, _("keys must be plain scalars"))
                    continue
            child = (*path, key)
            if key in out:
                line = positions[child][0]
                self._diag(
                    key_node,
                    child,
                    _("duplicate key {key!r} (first at line {line})", key=key, line=line),
                )
                continue
            mark = key_node.start_mark
            positions[child] = (mark.line + 1, mark.column + 1)
            out[key] = value(value_node, child)
        return out

    def _merged_mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        """A mapping with merge keys (``<<: *x``): merged pairs first, explicit keys win."""
        explicit = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        self.constructor.flatten_mapping(node)
        merged = len(node.value) - explicit
        out: dict[Any, Any] = {}
        explicit_keys: set[Any] = set()
        positions = self.positions
        for i, (key_node, value_node) in enumerate(node.value):
            key = self.build_scalar_key(key_node)
            if key is None:
                self._diag(key_node, path, _("keys must be plain scalars"))
                continue
            child = (*path, key)
            if i >= merged:
                if key in explicit_keys:
                    line = positions[child][0]
                    self._diag(
                        key_node,
                        child,
                        _("duplicate key {key!r} (first at line {line})", key=key, line=line),
                    )
                    continue
                explicit_keys.add(key)
            if key in out:  # a merged value overridden: its positions go with it
                for stale in [p for p in positions if p[: len(child)] == child]:
                    del positions[stale]
            mark = key_node.start_mark
            positions[child] = (mark.line + 1, mark.column + 1)
            out[key] = self._value(value_node, child)
        return out

    def _construct(self, node: yaml.Node) -> Any:
        """A tagged scalar's value; a bad one (``!!int x``) is a located YAML error."""
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, IndexError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"bad {node.tag.replace('tag:yaml.org,2002:', '!!')} value {node.value!r}",
                node.start_mark,
            ) from exc

    def _count(self, node: yaml.Node) -> None:
        self.alias_nodes += 1
        if self.alias_nodes > self.max_alias_nodes:
            raise _TooMuch(
                self.alias_path,
                f"aliases expand to more than {self.max_alias_nodes:,} nodes "
                f"(an alias bomb?); {input_limits.raise_hint('yaml_alias_nodes')} if this is meant",
            )

    def build_scalar_key(self, node: yaml.Node) -> str | int | None:
        if not isinstance(node, yaml.ScalarNode):
            return None
        if node.tag == _STR_TAG:
            return str(node.value)
        value = self._construct(node)
        if isinstance(value, bool) or value is None:
            return str(node.value)
        if isinstance(value, int):
            return value
        return str(value)

    def _diag(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.diagnostics.append(
            Diagnostic(
                self.file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                dotted(path),
                message,
            )
        )


_MISSING = object()
_KEPT = 2  # lazy documents keep the positions of paths this long (section, entry)
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks


@dataclass
class _Lazy:
    """Where each entry of a section ends, to parse the entry alone when a position below it is
    wanted: its text, with the lines and columns before it blanked, gives the same marks as
    the whole file. A fragment that does not come out where the entry was (or fails to parse)
    makes the whole file parse again with every position: the result is the same either way.
    """

    text: str
    ends: dict[Path_, tuple[int, int]]  # entry → (line, column) just past its value, 1-based
    done: set[Path_] = field(default_factory=set)
    _starts: list[int] | None = None

    def offset(self, line: int, column: int) -> int:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in _BREAKS.finditer(self.text)]
        return self._starts[line - 1] + column - 1

    def fill(self, doc: SourceDoc, entry: Path_) -> None:
        if entry in self.done:
            return
        self.done.add(entry)
        start, end = doc.positions.get(entry), self.ends.get(entry)
        if start is None or end is None or len(entry) != _KEPT:
            return  # not an entry: its ancestors' positions are all there is
        line, column = start
        piece = self.text[self.offset(*start) : self.offset(*end)]
        section = doc.data.get(entry[0]) if isinstance(doc.data, dict) else None
        keyed = not isinstance(section, list)  # "name: value", or a list item's value
        stream = _StreamBuilder("\n" * (line - 1) + " " * (column - 1) + piece)
        found, data = False, _MISSING  # a fragment that fails to parse: the whole file again
        try:
            found, data = stream.document()
        except (_Unusual, yaml.YAMLError, RecursionError):
            found = False
        finally:
            stream.parser.dispose()
        root = stream.positions.get((entry[-1],) if keyed else ())
        if keyed:
            data = data.get(entry[-1], _MISSING) if isinstance(data, dict) else _MISSING
        try:
            same = data == doc.data[entry[0]][entry[-1]]
        except (LookupError, TypeError):
            same = False
        if not found or root != start or not same:
            self._everything(doc)
            return
        cut = 1 if keyed else 0
        for path, where in stream.positions.items():
            if len(path) > cut:
                doc.positions.setdefault((*entry, *path[cut:]), where)

    def _everything(self, doc: SourceDoc) -> None:
        """The whole file again, keeping every position (a fragment did not fit)."""
        full, _diagnostics = load_yaml(self.text, doc.file)
        if full is not None:
            doc.positions.update(full.positions)
        doc.lazy = None


class _Unusual(Exception):
    """Something the streaming builder leaves to the node builder (which says it best)."""


class _StreamBuilder:
    """Data and positions straight from libyaml's events, never holding the node graph.

    For plain documents only — no anchors, aliases, merge keys or tags, no duplicate or
    non-scalar keys, within the depth limit. Anything else raises :class:`_Unusual` and the
    document is composed and built by :class:`_Builder` instead, so results and messages are
    the same either way. A province inventory's node graph alone took ~270 MB.
    """

    def __init__(self, text: str, keep: int | None = None) -> None:
        self.parser = _Loader(text)
        self.memo = self.parser._memo  # plain scalar → tag, filled by the resolver
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.constructor = yaml.SafeLoader("")
        self.max_depth = input_limits.limits().yaml_depth
        # ``keep``: record positions of paths up to this long only, and where the values of
        # the paths that long end (for :class:`_Lazy`)
        self.keep = keep if keep is not None else self.max_depth + 2
        self.ends: dict[Path_, tuple[int, int]] = {}
        self.last: Any = None  # the last event of the value just built

    def document(self) -> tuple[bool, Any]:
        """(True, data) for a document, (False, None) for an empty stream."""
        get = self.parser.get_event
        get()  # StreamStart
        event = get()
        if isinstance(event, yaml.StreamEndEvent):
            return False, None
        if not isinstance(event, yaml.DocumentStartEvent):
            raise _Unusual
        data = self.build(get(), ())
        if not isinstance(get(), yaml.DocumentEndEvent):
            raise _Unusual
        if not isinstance(get(), yaml.StreamEndEvent):
            raise _Unusual  # a second document: the composer's error
        return True, data

    def build(self, event: Any, path: Path_) -> Any:
        if path not in self.positions:
            mark = event.start_mark
            self.positions[path] = (mark.line + 1, mark.column + 1)
        return self.value(event, path)

    def value(self, event: Any, path: Path_) -> Any:
        kind = type(event)
        if kind is _SCALAR:
            return self.scalar(event)
        if event.anchor is not None or event.tag is not None or len(path) > self.max_depth:
            raise _Unusual
        get = self.parser.get_event
        memo = self.memo
        dotted_numbers = _DOTTED_NUMBERS
        deep = len(path) >= self.keep  # no positions below here
        ends = self.ends if len(path) == self.keep - 1 else None  # children end where?
        # A plain untagged scalar the resolver already called a string (names, addresses:
        # nearly every scalar of an inventory) is taken inline, without a call per event.
        if kind is yaml.MappingStartEvent:
            out: dict[Any, Any] = {}
            positions = self.positions
            while True:
                key_event = get()
                if type(key_event) is not _SCALAR:
                    if type(key_event) is yaml.MappingEndEvent:
                        self.last = key_event
                        return out
                    raise _Unusual
                key = key_event.value
                if (
                    key_event.anchor is not None
                    or key_event.tag is not None
                    or not key_event.implicit[0]
                    or ((not key or key[0] in _RESOLVED) and memo.get(key) != _STR_TAG)
                ):
                    key = self.key(key_event)
                if key in out or key == "<<":
                    raise _Unusual
                if not deep:
                    child = (*path, key)
                    mark: Any = key_event.start_mark
                    positions[child] = (mark.line + 1, mark.column + 1)
                item = get()
                if (
                    type(item) is _SCALAR
                    and item.anchor is None
                    and item.tag is None
                    and item.implicit[0]
                    and (
                        ((text := item.value) and text[0] not in _RESOLVED)
                        or memo.get(text) == _STR_TAG
                        or dotted_numbers(text) is not None
                    )
                ):
                    out[key] = text
                else:
                    out[key] = self.value(item, (*path, key) if deep else child)
                if ends is not None:  # a scalar ends itself, a collection at its end event
                    mark = (item if type(item) is _SCALAR else self.last).end_mark
                    ends[child] = (mark.line + 1, mark.column + 1)
        if kind is yaml.SequenceStartEvent:
            items: list[Any] = []
            positions = self.positions
            while True:
                item = get()
                if type(item) is yaml.SequenceEndEvent:
                    self.last = item
                    return items
                child = (*path, len(items))
                if not deep and child not in positions:
                    mark = item.start_mark  # type: ignore[union-attr]
                    positions[child] = (mark.line + 1, mark.column + 1)
                if (
                    type(item) is _SCALAR
                    and item.anchor is None
                    and item.tag is None
                    and item.implicit[0]
                    and (
                        ((text := item.value) and text[0] not in _RESOLVED)
                        or memo.get(text) == _STR_TAG
                        or dotted_numbers(text) is not None
                    )
                ):
                    items.append(text)
                else:
                    items.append(self.value(item, child))
                if ends is not None:
                    mark = (item if type(item) is _SCALAR else self.last).end_mark
                    ends[child] = (mark.line + 1, mark.column + 1)
        raise _Unusual  # an alias

    def _tag(self, event: Any) -> str:
        if event.anchor is not None or event.tag is not None:
            raise _Unusual
        if event.implicit[0]:
            tag: str | None = self.memo.get(event.value)
            if tag is not None:
                return tag
        resolved: str = self.parser.resolve(yaml.ScalarNode, event.value, event.implicit)
        return resolved

    def scalar(self, event: Any) -> Any:
        self.last = event
        tag = self._tag(event)
        if tag == _STR_TAG:
            return event.value
        if tag == "tag:yaml.org,2002:merge":
            raise _Unusual
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, IndexError, TypeError, OverflowError) as exc:
            raise _Unusual from exc

    def key(self, event: Any) -> Any:
        if self._tag(event) == _STR_TAG:
            return event.value
        value = self.scalar(event)
        if isinstance(value, bool) or value is None:
            return str(event.value)
        if isinstance(value, int):
            return value
        return str(value)


def load_yaml(
    text: str, file: str, lazy: bool = False
) -> tuple[SourceDoc | None, list[Diagnostic]]:
    """Parse ``text``; on a syntax error or a limit return ``(None, [diagnostic])``.

    ``lazy``: positions below a section's entries are found when first asked for (a large
    inventory with nothing to report never needs them: ~30 % of the parse).
    """
    if "&" not in text and "!" not in text:  # no anchor, no tag: try the streaming builder
        stream = _StreamBuilder(text, _KEPT if lazy else None)
        try:
            found, data = stream.document()
        except (_Unusual, yaml.YAMLError, RecursionError):
            pass  # composed below: same data, or the located error
        else:
            if not found:
                return SourceDoc(file, {}), []
            later = _Lazy(text, stream.ends) if lazy else None
            return SourceDoc(file, data, stream.positions, later), []
        finally:
            stream.parser.dispose()
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        return None, [
            Diagnostic(file, line, col, "", _("YAML syntax error: {problem}", problem=problem))
        ]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(file, 1, 1, "", _("YAML error: {exc}", exc=exc))]
    if node is None:
        return SourceDoc(file, {}), []
    builder = _Builder(file)
    try:
        data = builder.build(node, ())
    except _TooMuch as exc:
        line, col = SourceDoc(file, None, builder.positions).where(exc.path)
        shown = dotted(exc.path[:6]) + ("…" if len(exc.path) > 6 else "")
        return None, [Diagnostic(file, line, col, shown, exc.message)]
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Diagnostic(file, line, col, "", _("YAML error: {exc}", exc=exc.problem))]
    except RecursionError:
        return None, [Diagnostic(file, 1, 1, "", _("YAML nests too deeply (recursive alias?)"))]
    return SourceDoc(file, data, builder.positions), builder.diagnostics


def load_yaml_file(
    path: Path, display: str | None = None, kind: str = "yaml"
) -> tuple[SourceDoc | None, list[Diagnostic]]:
    """Read and parse one YAML file of a ``kind`` (its size cap: ``Limits.{kind}_bytes``)."""
    name = display or str(path)
    try:
        raw = input_limits.read_input(path, kind, name)
    except input_limits.LimitError as exc:
        return None, [exc.diagnostic]
    return load_yaml_bytes(raw, name)


def load_yaml_bytes(
    raw: bytes, name: str, lazy: bool = False
) -> tuple[SourceDoc | None, list[Diagnostic]]:
    """Parse a file's bytes (UTF-8, BOM allowed) read by the caller (``lazy``: see
    :func:`load_yaml`)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [
            Diagnostic(
                name,
                0,
                0,
                "",
                _("not UTF-8 text (byte {start}); save it as UTF-8", start=exc.start),
            )
        ]
    return load_yaml(text, name, lazy)


def yaml_files(path: Path) -> list[Path]:
    """A file, or every ``*.yaml``/``*.yml`` directly inside a directory (sorted)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def suggest(name: object, known: Iterable[str]) -> str:
    """`` (known: a, b, …); did you mean 'x'?`` for error messages."""
    names = sorted(known)
    close = difflib.get_close_matches(str(name), names, n=1)
    hint = _("; did you mean {name!r}?", name=close[0]) if close else ""
    listing = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return _(" (known: {listing}){hint}", listing=listing or _("none"), hint=hint)


def clean_loc(loc: Iterable[Any]) -> list[str | int]:
    """A pydantic error location without its union/validator tags: the key path only."""
    return [
        p
        for p in loc
        if isinstance(p, int) or (isinstance(p, str) and "[" not in p and p != "function-before")
    ]
