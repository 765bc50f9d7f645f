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
from typing import Any, Protocol, TypeVar, cast

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


class _NewResult:
    """``CheckResult(status, evidence, message)`` at a third of the cost (kinds make one per
    device and rule): same slots, plain stores, then the class becomes ``CheckResult`` (see
    ``govnet.checks.model._NewFinding`` for why CPython allows it)."""

    __slots__ = ("evidence", "message", "out_of_scope", "status")

    def __init__(self, status: Status, evidence: tuple[Evidence, ...], message: str) -> None:
        self.status = status
        self.evidence = evidence
        self.message = message
        self.out_of_scope = ""
        self.__class__ = CheckResult  # type: ignore[assignment]


#: ``CheckResult(status, evidence, message)``, equal to it, faster.
new_result = cast(Callable[[Status, tuple[Evidence, ...], str], CheckResult], _NewResult)


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
