"""Every message govnet raises for people goes through the catalogue.

test_i18n_catalogue.py checks that every *marked* msgid has Chinese; this test checks that
the messages are marked at all. It reads govnet/ (AST, no import) and fails when an error, a
Diagnostic or a helper that carries a message is given English as a bare string literal,
f-string, ``+`` of those or ``"…".format()`` instead of ``_("… {name}", name=…)``:

- a GovnetError subclass (found through the class tree, any module) or a click usage error,
  at the position of its ``message`` parameter (``TransportError(host, message)``);
- ``Diagnostic(file, line, column, path, message)``;
- any govnet function or method with a parameter named message / msg / problem / reason
  (``state.error(doc, path, message)``, ``CheckResult.failed(message)``, ``_error(file,
  message)``): findings' messages and input diagnostics;
- ``ValueError`` raised in a pydantic validator (a function decorated ``field_validator``,
  ``model_validator``, …): pydantic turns it into the inventory's, config's or rules'
  ``FILE:LINE:COL: key: message``.

A literal whose text has no word in it (``f"{device}: {exc}"``) joins messages that are
already translated and is not counted.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache

from tests.conftest import ROOT

MESSAGE_PARAMS = {"message", "msg", "problem", "reason"}
CLICK_ERRORS = {
    "BadParameter",
    "UsageError",
    "ClickException",
    "BadOptionUsage",
    "BadArgumentUsage",
    "FileError",
}

# Errors outside GovnetError's tree whose message people read: an ssh_config file's problem
# (shown as an inventory diagnostic), a notifier's delivery failure (shown by 'notify test' and
# the outbox).
PEOPLE_READ = {"SshConfigError", "DeliveryError"}

# Sites whose text is not for people, each with why. Keep it short: a message a person can
# read belongs in the catalogue.
NOT_FOR_PEOPLE: dict[tuple[str, str], str] = {
    ("govnet/lab/http.py", "_response"): "an HTTP reason phrase on the wire (RFC 9110), "
    "read by the probes, not by people",
    ("govnet/lab/sshsim.py", "filterwarnings"): "a pattern matching a library's warning",
    ("govnet/transport/snmp_pysnmp.py", "filterwarnings"): "a pattern matching a library's warning",
}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


@cache
def _trees() -> dict[str, ast.Module]:
    return {
        str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted((ROOT / "govnet").rglob("*.py"))
    }


@cache
def error_classes() -> dict[str, int]:
    """GovnetError's subclasses (and click's usage errors) → the position of their message
    argument (-1: the class takes no message, e.g. InputError takes diagnostics)."""
    bases: dict[str, list[str]] = {}
    own: dict[str, int] = {}
    for tree in _trees().values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases.setdefault(node.name, []).extend(_name(b) for b in node.bases)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    names = [a.arg for a in item.args.posonlyargs + item.args.args][1:]
                    own[node.name] = next(
                        (i for i, a in enumerate(names) if a in MESSAGE_PARAMS), -1
                    )
    out = dict.fromkeys(("GovnetError", *CLICK_ERRORS, *PEOPLE_READ), 0)
    grew = True
    while grew:
        grew = False
        for name, parents in bases.items():
            parent = next((b for b in parents if b in out), None)
            if name not in out and parent is not None:
                out[name] = own.get(name, out[parent])
                grew = True
    return out


@cache
def message_helpers() -> dict[str, set[int]]:
    """Functions with a message parameter → its positions (self/cls not counted)."""
    out: dict[str, set[int]] = {}
    for tree in _trees().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name != "__init__":
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                names = [a for a in names if a not in ("self", "cls")]
                for i, arg in enumerate(names):
                    if arg in MESSAGE_PARAMS:
                        out.setdefault(node.name, set()).add(i)
    return out


def _words(parts: list[str]) -> bool:
    """Words a person reads: two, at least (a single token such as ``broken-chain`` or
    ``invalid`` is a code the program matches, not a sentence)."""
    return bool(re.search(r"[A-Za-z]{2,}\s+\S", "".join(parts)))


def bare(node: ast.expr) -> bool:
    """English given as is: a literal or f-string with words, or ``+`` / ``%`` / ``.format``
    built from one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and _words([node.value])
    if isinstance(node, ast.JoinedStr):
        return _words([str(v.value) for v in node.values if isinstance(v, ast.Constant)])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return bare(node.left) or (isinstance(node.op, ast.Add) and bare(node.right))
    if isinstance(node, ast.Call) and _name(node.func) == "format":
        return isinstance(node.func, ast.Attribute) and bare(node.func.value)
    return False


def _validator_raises(tree: ast.Module) -> Iterator[ast.Call]:
    """``ValueError(…)`` raised in functions decorated as pydantic validators."""
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and any(
            "validator" in ast.unparse(d) for d in fn.decorator_list
        ):
            for node in ast.walk(fn):
                exc = node.exc if isinstance(node, ast.Raise) else None
                if isinstance(exc, ast.Call) and _name(exc.func) == "ValueError":
                    yield exc


def untranslated() -> Iterator[tuple[str, int, str]]:
    errors, helpers = error_classes(), message_helpers()
    for rel, tree in _trees().items():
        for call in _validator_raises(tree):
            if call.args and bare(call.args[0]):
                yield rel, call.lineno, f"ValueError({ast.unparse(call.args[0])[:80]})"
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            fn = _name(node.func)
            if (rel, fn) in NOT_FOR_PEOPLE:
                continue
            given = [k.value for k in node.keywords if k.arg in MESSAGE_PARAMS]
            if fn in errors:
                at = errors[fn]
                given += [node.args[at]] if 0 <= at < len(node.args) else []
            elif fn == "Diagnostic":
                given += node.args[4:5]
            elif fn in helpers:
                given += [node.args[i] for i in sorted(helpers[fn]) if i < len(node.args)]
            for arg in given:
                if bare(arg):
                    yield rel, node.lineno, f"{fn}({ast.unparse(arg)[:80]})"


def test_the_scan_sees_the_kinds_of_call_it_guards() -> None:
    errors = error_classes()
    assert errors["TransportError"] == 1  # (host, message)
    assert errors["AuthError"] == 1  # inherited
    assert errors["TransferError"] == 0
    assert errors["InputError"] == -1  # takes diagnostics, not a message
    assert errors["SshConfigError"] == 0 and errors["DeliveryError"] == 0
    assert "error" in message_helpers()  # the loaders' state.error(doc, path, message)
    validator = ast.parse(
        "@field_validator('x')\ndef check(cls, v):\n    raise ValueError(f'bad VLAN {v!r}')\n"
    )
    assert [bare(c.args[0]) for c in _validator_raises(validator)] == [True]
    sample = ast.parse(
        'raise StoreError(f"store {url}: cannot open")\n'
        'raise StoreError(_("store {url}: cannot open", url=url))\n'
        'raise ConnectError(host, "refused; is sshd running?")\n'
        'raise ConnectError(host, f"{where}: {exc}")\n'
    )
    calls = [n for n in ast.walk(sample) if isinstance(n, ast.Call) and _name(n.func) != "_"]
    flagged = [bare(c.args[errors[_name(c.func)]]) for c in calls]
    assert flagged == [True, False, True, False]


def test_no_user_facing_message_is_raised_in_bare_english() -> None:
    left = [f"{rel}:{line}: {what}" for rel, line, what in untranslated()]
    assert not left, (
        f"{len(left)} message(s) for people are not in the catalogue: say them as "
        "_(\"English {name}\", name=…) (govnet/i18n.py), run 'make messages' and translate "
        "them in govnet/locale/zh_CN/LC_MESSAGES/govnet.po:\n" + "\n".join(left)
    )
