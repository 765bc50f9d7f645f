"""Playbooks: YAML files of rules, validated as strictly as the inventory.

A playbook file::

    name: mlps2-baseline            # optional; defaults to the file name
    title: {en: …, zh: …}
    description: {en: …, zh: …}     # optional
    rules:
      - id: huawei.mgmt.ssh-only
        control: mgmt.ssh-only      # an id from govnet/data/controls.yaml
        title: {en: …, zh: …}
        description: {en: …, zh: …} # optional: how the rule decides (heuristics, defaults)
        severity: high              # critical | high | medium | low
        applies_to: {platform: [huawei], role: [], zone: [], tags: []}   # empty = all
        check: {kind: config, …}    # the kind's own keys, validated by its params model
        remediation: {en: …, zh: …}
        references: [GB/T 22239-2019 8.1.4.1 …]

Every problem in every file is reported at once, located as
``playbooks/x.yaml:12:5: rules[3].check.must_match[0]: bad regular expression …``, and raised
as one :class:`~govnet.errors.PlaybookError`. Unknown keys, unknown controls, kinds and
platforms (with a close-match suggestion) and duplicate rule ids (also across files) are errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from govnet.checks.registry import get_kind, kinds
from govnet.core.controls import controls
from govnet.core.vocabulary import Severity, Text
from govnet.errors import Diagnostic, PlaybookError
from govnet.i18n import _
from govnet.inventory.model import Device, Name, Role
from govnet.platforms import platforms
from govnet.validation import Listed, StrictStripped, TextSpec, validate_at
from govnet.yamlsrc import Path_, SourceDoc, load_yaml_file, suggest, yaml_files

# ----------------------------------------------------------------------------- raw specs


def _platform(value: Any) -> Any:
    if isinstance(value, str) and value not in platforms():
        raise ValueError(_("unknown platform {value!r}", value=value) + suggest(value, platforms()))
    return value


PlatformName = Annotated[str, BeforeValidator(_platform)]


class AppliesTo(StrictStripped):
    """Which devices a rule tests; each list is any-of, an empty list means all."""

    platform: Annotated[list[PlatformName], Listed] = Field(default_factory=list)
    role: Annotated[list[Role], Listed] = Field(default_factory=list)
    zone: Annotated[list[Name], Listed] = Field(default_factory=list)
    tags: Annotated[list[Name], Listed] = Field(default_factory=list)


class RuleSpec(StrictStripped):
    id: Name
    control: str
    title: TextSpec
    description: TextSpec | None = None
    severity: Literal["critical", "high", "medium", "low"]
    applies_to: AppliesTo = AppliesTo()
    check: Any
    remediation: TextSpec | None = None
    references: Annotated[list[str], Listed] = Field(default_factory=list)


class PlaybookSpec(StrictStripped):
    name: Name | None = None
    title: TextSpec | None = None
    description: TextSpec | None = None
    rules: list[Any] = Field(min_length=1)


# ----------------------------------------------------------------------------- resolved


def _text(spec: TextSpec) -> Text:
    return Text(en=spec.en, zh=spec.zh)


@dataclass(frozen=True)
class Rule:
    """A validated rule: its check kind's params are already the kind's model."""

    id: str
    control: str
    title: Text
    severity: Severity
    applies_to: AppliesTo
    kind: str
    params: BaseModel
    remediation: Text = field(default_factory=Text)
    references: tuple[str, ...] = ()
    description: Text = field(default_factory=Text)
    playbook: str = ""
    source: str = ""  # file:line of the rule

    @cached_property
    def clause(self) -> str:
        control = controls().get(self.control)
        return control.clause if control else ""

    def not_applicable(self, device: Device) -> str | None:
        """Why the rule does not apply to ``device``, or None when it does."""
        miss = self.out_of_scope(device)
        return None if miss is None else miss[1]

    def out_of_scope(self, device: Device) -> tuple[str, str] | None:
        """``(field, why)`` when ``applies_to`` excludes ``device`` (field: platform, role,
        zone or tags), else None. A rule for another platform is not a test of this device
        at all (JUnit leaves it out); the other fields make a skipped test."""
        a = self.applies_to
        if a.platform and device.platform not in a.platform:
            return "platform", f"platform {device.platform} is not one of {', '.join(a.platform)}"
        if a.role and device.role not in a.role:
            return "role", f"role {device.role} is not one of {', '.join(a.role)}"
        if a.zone and device.zone not in a.zone:
            return "zone", f"zone {device.zone} is not one of {', '.join(a.zone)}"
        if a.tags and not device.tags.intersection(a.tags):
            return "tags", f"device has none of the tags {', '.join(a.tags)}"
        return None

    def applies(self, device: Device) -> bool:
        return self.not_applicable(device) is None


@dataclass
class Playbook:
    name: str
    path: str
    rules: list[Rule] = field(default_factory=list)
    title: Text = field(default_factory=Text)
    description: Text = field(default_factory=Text)


# ----------------------------------------------------------------------------- loading


@dataclass
class _State:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rule_ids: dict[str, str] = field(default_factory=dict)  # id → file:line of first definition
    names: dict[str, str] = field(default_factory=dict)  # playbook name → file

    def error(self, doc: SourceDoc, path: Path_, message: str) -> None:
        self.diagnostics.append(doc.diag(path, message))


def load_playbooks(paths: Path | Sequence[Path]) -> list[Playbook]:
    """Load and validate playbook files (or directories of them).

    Raises :class:`PlaybookError` carrying every problem found in every file.
    """
    roots = [paths] if isinstance(paths, Path) else list(paths)
    state = _State()
    files: list[Path] = []
    for root in roots:
        if not root.exists():
            state.diagnostics.append(
                Diagnostic(str(root), 0, 0, "", _("no such file or directory"))
            )
            continue
        found = yaml_files(root)
        if not found:
            state.diagnostics.append(Diagnostic(str(root), 0, 0, "", _("no *.yaml files here")))
        files.extend(found)
    books: list[Playbook] = []
    for file in files:
        doc, diags = load_yaml_file(file, kind="playbook")
        state.diagnostics.extend(diags)
        if doc is not None:
            book = _load_doc(state, doc, file)
            if book is not None:
                books.append(book)
    if any(d.severity == "error" for d in state.diagnostics):
        raise PlaybookError(state.diagnostics)
    return books


def _load_doc(state: _State, doc: SourceDoc, file: Path) -> Playbook | None:
    if not isinstance(doc.data, dict):
        state.error(doc, (), _("the top level must be a mapping with 'rules'"))
        return None
    spec = validate_at(PlaybookSpec, doc.data, doc, (), state.diagnostics)
    name = (spec.name if spec and spec.name else None) or file.stem
    if name in state.names:
        state.error(
            doc,
            ("name",),
            _("playbook {name!r} is also defined in {names}", name=name, names=state.names[name]),
        )
    state.names.setdefault(name, doc.file)
    raw_rules = doc.data.get("rules")
    rules: list[Rule] = []
    if isinstance(raw_rules, list):
        for i, raw in enumerate(raw_rules):
            rule = _load_rule(state, doc, ("rules", i), raw, name)
            if rule is not None:
                rules.append(rule)
    if spec is None:
        return None
    return Playbook(
        name=name,
        path=doc.file,
        rules=rules,
        title=_text(spec.title) if spec.title else Text(name, name),
        description=_text(spec.description) if spec.description else Text(),
    )


def _load_rule(state: _State, doc: SourceDoc, path: Path_, raw: Any, playbook: str) -> Rule | None:
    if not isinstance(raw, dict):
        state.error(doc, path, _("a rule must be a mapping"))
        return None
    spec = validate_at(RuleSpec, raw, doc, path, state.diagnostics)
    # Parts a failed RuleSpec cannot vouch for are checked anyway: all errors at once.
    control = raw.get("control")
    if isinstance(control, str) and control not in controls():
        state.error(
            doc,
            (*path, "control"),
            _("unknown control {control!r}", control=control) + suggest(control, controls()),
        )
        spec = None
    kind_params = _load_check(state, doc, (*path, "check"), raw.get("check"), "check" in raw)
    rule_id = raw.get("id")
    if isinstance(rule_id, str):
        line = doc.where((*path, "id"))[0]
        here = f"{doc.file}:{line}"
        first = state.rule_ids.get(rule_id)
        if first is not None:
            state.error(
                doc,
                (*path, "id"),
                _("duplicate rule id {rule_id!r} (first at {first})", rule_id=rule_id, first=first),
            )
            spec = None
        else:
            state.rule_ids[rule_id] = here
    if spec is None or kind_params is None:
        return None
    kind, params = kind_params
    return Rule(
        id=spec.id,
        control=spec.control,
        title=_text(spec.title),
        severity=Severity(spec.severity),
        applies_to=spec.applies_to,
        kind=kind,
        params=params,
        remediation=_text(spec.remediation) if spec.remediation else Text(),
        references=tuple(spec.references),
        description=_text(spec.description) if spec.description else Text(),
        playbook=playbook,
        source=f"{doc.file}:{doc.where(path)[0]}",
    )


def _load_check(
    state: _State, doc: SourceDoc, path: Path_, raw: Any, present: bool
) -> tuple[str, BaseModel] | None:
    if not present:
        return None  # RuleSpec reported the missing key
    if not isinstance(raw, dict):
        state.error(doc, path, _("must be a mapping with 'kind' and the kind's keys"))
        return None
    if "kind" not in raw:
        state.error(doc, path, _("required key 'kind' is missing") + suggest("", kinds()))
        return None
    kind_name = raw["kind"]
    if not isinstance(kind_name, str) or kind_name not in kinds():
        state.error(
            doc,
            (*path, "kind"),
            _("unknown check kind {kind_name!r}", kind_name=kind_name)
            + suggest(kind_name, kinds()),
        )
        return None
    model = get_kind(kind_name).params
    body = {k: v for k, v in raw.items() if k != "kind"}
    params = validate_at(model, body, doc, path, state.diagnostics)
    return None if params is None else (kind_name, params)
