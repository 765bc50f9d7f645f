"""Check kinds, registered by name.

A kind is a small object with a pydantic ``params`` model (the keys a rule's ``check:`` may
hold besides ``kind``), ``evaluate`` and ``required_commands``. Register one with::

    @register("config")
    class ConfigKind:
        params = ConfigParams
        def evaluate(self, device, facts, params): ...
        def required_commands(self, device, params): ...

A kind may also offer ``shared(params_list) -> Callable[[device, facts], None]``: the
offline engine calls it once per class of devices with the params of the kind's rules that
apply, and the function it returns once per device before those rules (work they share, such
as one search of the configuration for all their patterns). It must not change any verdict.

Kinds live in :mod:`govnet.checks.kinds`, one module each; every module of that package is
imported on the first lookup, so a new kind (``isolation``, ``antivirus``) is added by dropping
its module there.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from govnet.checks.facts import DeviceFacts
from govnet.core.vocabulary import Evidence, Status
from govnet.i18n import _
from govnet.inventory.model import Device


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What a kind says about one device under one rule."""

    status: Status
    evidence: tuple[Evidence, ...] = ()
    message: str = ""
    out_of_scope: str = ""  # a skip: the applies_to field that excluded the device

    @classmethod
    def passed(cls, message: str = "", evidence: Sequence[Evidence] = ()) -> CheckResult:
        return cls(Status.PASS, tuple(evidence), message)

    @classmethod
    def failed(cls, message: str, evidence: Sequence[Evidence] = ()) -> CheckResult:
        return cls(Status.FAIL, tuple(evidence), message)

    @classmethod
    def errored(cls, message: str, evidence: Sequence[Evidence] = ()) -> CheckResult:
        return cls(Status.ERROR, tuple(evidence), message)


_set_status, _set_evidence, _set_message, _set_scope = (
    CheckResult.__dict__[k].__set__ for k in ("status", "evidence", "message", "out_of_scope")
)


def new_result(status: Status, evidence: tuple[Evidence, ...], message: str) -> CheckResult:
    """``CheckResult(status, evidence, message)`` without the frozen dataclass's per-field
    ``object.__setattr__`` (kinds make one per device and rule)."""
    result: CheckResult = object.__new__(CheckResult)
    _set_status(result, status)
    _set_evidence(result, evidence)
    _set_message(result, message)
    _set_scope(result, "")
    return result


class CheckKind(Protocol):
    """What the engine needs from a kind."""

    name: str
    params: type[BaseModel]

    def evaluate(self, device: Device, facts: DeviceFacts, params: Any) -> CheckResult:
        """Judge ``device`` from ``facts``; never raise for bad device data (return error)."""
        ...

    def required_commands(self, device: Device, params: Any) -> set[str]:
        """The command lines the collector must run on ``device`` for this check."""
        ...


_KINDS: dict[str, CheckKind] = {}
_loaded = False

K = TypeVar("K")


def register(name: str) -> Callable[[type[K]], type[K]]:
    """Class decorator: instantiate the kind and register it under ``name``."""

    def decorate(cls: type[K]) -> type[K]:
        if name in _KINDS:
            raise ValueError(_("check kind {name!r} is registered twice", name=name))
        instance = cls()
        instance.name = name  # type: ignore[attr-defined]
        _KINDS[name] = instance  # type: ignore[assignment]
        return cls

    return decorate


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        package = importlib.import_module("govnet.checks.kinds")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"{package.__name__}.{info.name}")


def kinds() -> dict[str, CheckKind]:
    """Every registered kind by name."""
    _load_builtin()
    return dict(_KINDS)


def get_kind(name: str) -> CheckKind:
    _load_builtin()
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise KeyError(f"unknown check kind {name!r} (known: {known})") from None
