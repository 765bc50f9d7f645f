"""A small hierarchical model of a device's running configuration.

Network devices print their configuration as indented sections separated by comment lines
(``#`` on Huawei/H3C, ``!`` on Cisco-like systems)::

    #                                   !
     sysname HW1                        hostname R1
    #                                   !
    interface GigabitEthernet0/0/1      interface GigabitEthernet0/1
     port link-type access               ip address 10.0.0.1 255.255.255.0
    #                                   !
    return                              end

:class:`ConfigTree` parses that text into nodes (one per line, children by indentation),
applies configuration-mode edits (:meth:`ConfigTree.set_line`, :meth:`ConfigTree.negate`,
:meth:`ConfigTree.open_section`) and renders back the same text. Separator groups are kept,
so ``render(parse(text)) == text`` for text the devices themselves print.

Vendor differences are passed in as data (:class:`ConfigSyntax`, :class:`EditRules`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConfigSyntax:
    """How one vendor prints its configuration."""

    comment: str  # separator / comment character: "#" or "!"
    footer: str  # last line: "return" or "end"
    leaf_indent: int = 0  # indentation of top-level leaf lines (Huawei/H3C: 1, Cisco: 0)
    indent: int = 1  # spaces per nesting level
    header_mark: str = "!"  # lines starting with it before the body are a header ("!Software")


@dataclass(frozen=True)
class EditRules:
    """How configuration-mode lines change the tree (vendor data)."""

    negation: str  # "undo" or "no"
    # Line prefixes (whole words) that hold one value: a new line replaces the old one.
    single_valued: Sequence[str] = ()
    # Negations that leave no trace when there is nothing to remove (e.g. "undo shutdown").
    no_trace: Sequence[str] = ()
    # Negations of features that are on by default: the device prints them even after
    # removing the positive line (e.g. "undo telnet server enable", "no ip http server").
    shown: Sequence[str] = ()
    # Lines that state a default the device does not print: entering one only removes its
    # recorded negation (Comware V7: "ip http enable").
    unprinted_defaults: Sequence[str] = ()
    # Lines keyed by part of their text (regex, group 1 = the key): a new line with the key
    # of a present one replaces it (an ACL's "rule 5 …" replaces the old rule 5).
    keyed: Sequence[str] = ()
    # Lines the device refuses whatever the context (regexes on the whole line, negation
    # word included): sections that always exist (VRP "undo user-interface vty 16 20").
    refused: Sequence[str] = ()
    # Top-level print order (regexes): the device prints its configuration in a fixed order
    # of features whatever the order lines were entered in; a new top-level line goes after
    # the last present line of the same or an earlier rank. Lines no pattern matches are
    # placed beside their feature (first word).
    order: Sequence[str] = ()

    def is_refused(self, line: str) -> bool:
        return any(re.search(p, line) for p in self.refused)

    def rank(self, text: str) -> int | None:
        body = text.split(" ", 1)[1] if text.startswith(self.negation + " ") else text
        return next((i for i, p in enumerate(self.order) if re.search(p, body)), None)


@dataclass(eq=False)
class ConfigNode:
    """One configuration line and the lines nested under it."""

    text: str
    parent: ConfigNode | None = field(default=None, repr=False)
    children: list[ConfigNode] = field(default_factory=list, repr=False)
    section: bool = False  # prints at column 0 at top level even without children
    group: int = 0  # top-level separator block this node belongs to
    # The order children print in, removed ones included, and the separator block of removed
    # ones: a line added back returns to its place, as a device prints its configuration in a
    # fixed order whatever the order lines were entered in.
    order: list[str] = field(default_factory=list, repr=False)
    removed_groups: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def is_section(self) -> bool:
        return self.section or bool(self.children)

    def child(self, text: str) -> ConfigNode | None:
        """The direct child whose text is exactly ``text``."""
        return next((c for c in self.children if c.text == text), None)

    def path(self) -> list[ConfigNode]:
        """Nodes from the top-level ancestor down to this node (root excluded)."""
        nodes: list[ConfigNode] = []
        node: ConfigNode | None = self
        while node is not None and node.parent is not None:
            nodes.append(node)
            node = node.parent
        return nodes[::-1]

    def walk(self) -> Iterator[ConfigNode]:
        for c in self.children:
            yield c
            yield from c.walk()


def _words_start(text: str, prefix: str) -> bool:
    """``text`` begins with the whole words of ``prefix``."""
    return text == prefix or text.startswith(prefix + " ")


class ConfigTree:
    """A parsed running configuration that can be edited and rendered back."""

    def __init__(self, syntax: ConfigSyntax, header: Sequence[str] = ()) -> None:
        self.syntax = syntax
        self.header = list(header)  # comment lines before the first block ("!Software …")
        self.root = ConfigNode(text="")
        self._groups = itertools.count(1)

    # ----------------------------------------------------------------- parse / render
    @classmethod
    def parse(
        cls,
        text: str,
        syntax: ConfigSyntax,
        is_section: Callable[[str], bool] | None = None,
    ) -> ConfigTree:
        """Read configuration text as the device prints it (header/footer optional)."""
        tree = cls(syntax)
        group = next(tree._groups)
        stack: list[tuple[int, ConfigNode]] = [(-1, tree.root)]
        seen_body = False
        for raw in text.splitlines():
            line = raw.rstrip()
            stripped = line.strip()
            if not stripped:
                continue
            indent = len(line) - len(line.lstrip(" "))
            if stripped == syntax.comment:
                seen_body = True
                group = next(tree._groups)
                stack = [(-1, tree.root)]
                continue
            if stripped.startswith((syntax.comment, syntax.header_mark)) and indent == 0:
                if not seen_body:
                    tree.header.append(stripped)
                continue  # comments inside the body are not configuration
            if indent == 0 and stripped == syntax.footer:
                break
            seen_body = True
            while stack[-1][0] >= indent:
                stack.pop()
            parent = stack[-1][1]
            node = ConfigNode(text=stripped, parent=parent, group=group)
            if parent is tree.root:
                node.section = indent < syntax.leaf_indent or bool(
                    is_section and is_section(stripped)
                )
            parent.children.append(node)
            stack.append((indent, node))
        return tree

    def lines(self) -> list[str]:
        """The configuration body as the device prints it, without header/footer."""
        out: list[str] = []
        previous: int | None = None
        for node in self.root.children:
            if node.group != previous:
                out.append(self.syntax.comment)
                previous = node.group
            indent = 0 if node.is_section else self.syntax.leaf_indent
            out.append(" " * indent + node.text)
            out.extend(self._child_lines(node, 1))
        out.append(self.syntax.comment)
        return out

    def _child_lines(self, node: ConfigNode, depth: int) -> Iterator[str]:
        pad = " " * (self.syntax.indent * depth)
        for c in node.children:
            yield pad + c.text
            yield from self._child_lines(c, depth + 1)

    def render(self) -> str:
        """Header, body and footer, newline-terminated (the text saved to disk)."""
        return "\n".join([*self.header, *self.lines(), self.syntax.footer]) + "\n"

    # ----------------------------------------------------------------- queries
    def top(self, keyword: str) -> ConfigNode | None:
        """The first top-level line starting with the word(s) ``keyword``."""
        return next((n for n in self.root.children if _words_start(n.text, keyword)), None)

    def find(self, *texts: str) -> ConfigNode | None:
        """The node at the path of exact texts, e.g. ``find("interface Vlanif10")``."""
        node: ConfigNode | None = self.root
        for t in texts:
            node = node.child(t) if node else None
        return node

    # ----------------------------------------------------------------- edits
    @staticmethod
    def _known_order(parent: ConfigNode) -> list[str]:
        if not parent.order:
            parent.order = [c.text for c in parent.children]
        return parent.order

    def _remove(self, parent: ConfigNode, node: ConfigNode) -> None:
        """Take ``node`` out of ``parent``, remembering its place (``ConfigNode.order``)."""
        self._known_order(parent)
        parent.removed_groups[node.text] = node.group
        parent.children.remove(node)

    def _restore(self, parent: ConfigNode, node: ConfigNode) -> bool:
        """Put a line that stood here before back in its place; False if it never did."""
        order = self._known_order(parent)
        if node.text not in order or node.text not in parent.removed_groups:
            return False
        at = order.index(node.text)
        present = {c.text: i for i, c in enumerate(parent.children)}
        before = next((present[t] for t in reversed(order[:at]) if t in present), None)
        after = next((present[t] for t in order[at + 1 :] if t in present), None)
        node.group = parent.removed_groups.pop(node.text)
        if before is not None:
            parent.children.insert(before + 1, node)
        elif after is not None:
            parent.children.insert(after, node)
        else:
            parent.children.append(node)
        return True

    def _remember(self, parent: ConfigNode, node: ConfigNode) -> None:
        """Record where a new line went in the order children print in."""
        order = self._known_order(parent)
        if node.text in order:
            return
        at = parent.children.index(node)
        previous = parent.children[at - 1].text if at > 0 else None
        order.insert(order.index(previous) + 1 if previous in order else 0, node.text)

    def _insert(self, parent: ConfigNode, node: ConfigNode, rules: EditRules) -> None:
        """Append under ``parent``; at top level next to the same feature (first word).

        A line that was removed before goes back to its old place instead."""
        node.parent = parent
        if not self._restore(parent, node):
            self._place(parent, node, rules)
            self._remember(parent, node)

    def _place(self, parent: ConfigNode, node: ConfigNode, rules: EditRules) -> None:
        if parent is not self.root:
            parent.children.append(node)
            return
        rank = rules.rank(node.text)
        if rank is not None and self._place_ranked(node, rank, rules):
            return
        family = _family(node.text, rules.negation)
        kin = [
            i for i, n in enumerate(parent.children) if _family(n.text, rules.negation) == family
        ]
        if not kin:
            node.group = next(self._groups)
            parent.children.append(node)
            return
        last = kin[-1]
        neighbour = parent.children[last]
        node.group = next(self._groups) if node.section or neighbour.is_section else neighbour.group
        parent.children.insert(last + 1, node)

    def _place_ranked(self, node: ConfigNode, rank: int, rules: EditRules) -> bool:
        """Insert a top-level line by the vendor's print order; False if no line is ranked."""
        children = self.root.children
        ranks = [rules.rank(c.text) for c in children]
        if all(r is None for r in ranks):
            return False
        before = [i for i, r in enumerate(ranks) if r is not None and r <= rank]
        at = before[-1] + 1 if before else next(i for i, r in enumerate(ranks) if r is not None)
        prev = children[at - 1] if at > 0 else None
        same = prev is not None and ranks[at - 1] == rank and not prev.is_section
        node.group = (
            prev.group if prev is not None and same and not node.section else next(self._groups)
        )
        children.insert(at, node)
        return True

    def set_line(self, parent: ConfigNode, text: str, rules: EditRules) -> bool:
        """Apply a positive configuration line under ``parent``; True if the tree changed."""
        if parent.child(text) is not None:
            return False
        # Configuring a feature replaces its displayed negation, also when the line carries
        # values the negation does not ("local-aaa-user wrong-password retry-interval 5 …"
        # replaces "undo local-aaa-user wrong-password").
        mark = rules.negation + " "
        negated = [
            c
            for c in parent.children
            if c.text.startswith(mark) and _words_start(text, c.text[len(mark) :])
        ]
        for old in negated:
            self._remove(parent, old)
        for key in rules.single_valued:
            if _words_start(text, key):
                for old in [c for c in parent.children if _words_start(c.text, key)]:
                    self._remove(parent, old)
                    negated.append(old)
                break
        for pattern in rules.keyed:
            m = re.match(pattern, text)
            if m:
                for old in [c for c in parent.children if re.match(pattern, c.text)]:
                    if re.match(pattern, old.text)[1] == m[1]:  # type: ignore[index]
                        self._remove(parent, old)
                        negated.append(old)
        if text in rules.unprinted_defaults:
            return bool(negated)
        self._insert(parent, ConfigNode(text=text), rules)
        return True

    def negate(self, parent: ConfigNode, body: str, rules: EditRules) -> bool:
        """Apply ``<negation> body``: remove what it names, or record the negation line.

        Negations of on-by-default features (``rules.shown``) are recorded either way.
        """
        exact = parent.child(body)
        victims = (
            [exact]
            if exact is not None
            else [c for c in parent.children if c.text.startswith(body + " ")]
        )
        where = parent.children.index(victims[0]) if victims else -1
        for v in victims:
            self._remove(parent, v)
        if any(_words_start(body, q) for q in rules.shown):
            line = f"{rules.negation} {body}"
            if where < 0:
                return self.set_line(parent, line, rules)
            # printed where the positive line was
            node = ConfigNode(text=line, parent=parent, group=victims[0].group)
            parent.children.insert(where, node)
            return True
        if victims or any(_words_start(body, q) for q in rules.no_trace):
            return bool(victims)
        return self.set_line(parent, f"{rules.negation} {body}", rules)

    def open_section(self, parent: ConfigNode, text: str, rules: EditRules) -> ConfigNode:
        """Enter (creating if needed) the section ``text`` under ``parent``."""
        node = parent.child(text)
        if node is None:
            node = ConfigNode(text=text, section=True)
            self._insert(parent, node, rules)
        return node


def _family(text: str, negation: str) -> str:
    """The feature a line belongs to: its first word after any negation word."""
    words = text.split()
    if len(words) > 1 and words[0] == negation:
        return words[1]
    return words[0] if words else ""
