"""The validation toolkit every file reader shares (govnet/validation.py)."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from govnet.durations import Duration
from govnet.errors import Diagnostic
from govnet.validation import (
    Listed,
    Regex,
    Strict,
    StrictStripped,
    TextSpec,
    check_regex,
    diagnostics_from,
    first_problem,
    listify,
    message_for,
    validate_at,
)
from govnet.yamlsrc import load_yaml


class Inner(Strict):
    name: str
    port: int = 22


class Outer(Strict):
    kind: Literal["a", "b"] = "a"
    inner: Inner | None = None
    roles: Annotated[list[str], Listed] = Field(default_factory=list)
    pattern: Regex | None = None
    every: Duration = 60.0


def errors_of(model: type[BaseModel], data: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return info.value


def test_strict_forbids_unknown_keys_and_is_frozen() -> None:
    errors_of(Inner, {"name": "x", "colour": "red"})
    inner = Inner(name="x")
    with pytest.raises(ValidationError):
        inner.name = "y"


def test_strict_stripped_drops_surrounding_whitespace_and_strict_keeps_it() -> None:
    class Stripped(StrictStripped):
        name: str

    assert Stripped(name="  core-1 ").name == "core-1"
    assert Inner(name="  core-1 ").name == "  core-1 "


def test_text_spec_needs_both_languages() -> None:
    assert TextSpec.model_validate({"en": " Core ", "zh": "核心"}) == TextSpec(en="Core", zh="核心")
    err = errors_of(TextSpec, {"en": "Core", "zh": " "}).errors()[0]
    assert message_for(err, TextSpec).startswith("String should have at least 1 character")


def test_listify_makes_one_string_a_list_and_leaves_the_rest() -> None:
    assert listify("core") == ["core"]
    assert listify(["a", "b"]) == ["a", "b"]
    assert listify(None) is None
    assert Outer.model_validate({"roles": "core"}).roles == ["core"]


def test_check_regex_accepts_good_patterns_and_names_bad_ones() -> None:
    assert check_regex(r"^snmp-agent\s+\S+") == r"^snmp-agent\s+\S+"
    assert check_regex(5) == 5  # not a string: left to the field's type
    with pytest.raises(ValueError, match=r"bad regular expression '\(unclosed'"):
        check_regex("(unclosed")
    err = errors_of(Outer, {"pattern": "(unclosed"}).errors()[0]
    assert message_for(err, Outer).startswith("bad regular expression '(unclosed': ")


def test_durations_use_the_one_grammar() -> None:
    assert Outer.model_validate({"every": "1h30m"}).every == 5400.0
    err = errors_of(Outer, {"every": "soon"}).errors()[0]
    assert message_for(err) == "bad duration 'soon' (e.g. 90s, 5m, 1.5h, 7d, 2w, 1y or 1h30m)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"inner": {"name": "x", "prot": 1}},
            "unknown key (known: name, port); did you mean 'port'?",
        ),
        ({"inner": {}}, "required key is missing"),
        ({"inner": "x"}, "must be a mapping"),
        ({"kind": "c"}, "Input should be 'a' or 'b', got 'c'"),
        (
            {"inner": {"name": "x", "port": "ssh"}},
            "Input should be a valid integer, unable to parse string as an integer, got 'ssh'",
        ),
    ],
)
def test_message_for_says_what_is_wrong_the_same_way_everywhere(
    data: dict[str, object], message: str
) -> None:
    err = errors_of(Outer, data).errors()[0]
    assert message_for(err, Outer) == message


def test_unknown_key_without_a_model_has_no_suggestion() -> None:
    err = errors_of(Inner, {"name": "x", "prot": 1}).errors()[0]
    assert message_for(err) == "unknown key"


def test_diagnostics_from_locates_each_error_at_file_line_column() -> None:
    text = "servers:\n  - kind: c\n    inner:\n      nmae: x\n"
    doc, problems = load_yaml(text, "f.yaml")
    assert doc is not None and not problems
    exc = errors_of(Outer, doc.data["servers"][0])
    found = [str(d) for d in diagnostics_from(exc, doc, ("servers", 0), Outer)]
    assert found == [
        "f.yaml:2:5: servers[0].kind: Input should be 'a' or 'b', got 'c'",
        "f.yaml:3:5: servers[0].inner.name: required key is missing",
        "f.yaml:4:7: servers[0].inner.nmae: unknown key (known: name, port); did you mean 'name'?",
    ]


def test_diagnostics_from_reports_one_problem_per_key_and_skips_what_the_caller_asks() -> None:
    def positive(v: object) -> object:
        if isinstance(v, int) and v <= 0:
            raise ValueError(f"must be positive, got {v}")
        return v

    def named(v: object) -> object:
        if not isinstance(v, str):
            raise ValueError(f"must be a name, got {v!r}")
        return v

    class Either(Strict):  # like an inventory's IPv4 | IPv6 address
        value: Annotated[int, BeforeValidator(positive)] | Annotated[str, BeforeValidator(named)]

    doc, _ = load_yaml("value: -1\nother: 2\n", "u.yaml")
    assert doc is not None
    exc = errors_of(Either, doc.data)
    assert [e["loc"][0] for e in exc.errors()].count("value") == 2  # one per union member
    found = diagnostics_from(exc, doc, model=Either)
    assert [(d.line, d.path) for d in found] == [(1, "value"), (2, "other")]
    skipped = diagnostics_from(exc, doc, model=Either, skip=lambda loc: loc == ["value"])
    assert skipped == found[1:2]


def test_first_problem_gives_a_dotted_key_path_and_the_message() -> None:
    exc = errors_of(Outer, {"inner": {"name": "x", "port": "ssh"}, "kind": "c"})
    where, message = first_problem(exc, Outer)
    assert where == "kind"
    assert message == "Input should be 'a' or 'b', got 'c'"
    exc = errors_of(Outer, {"inner": {"name": "x", "nmae": "x"}})
    assert first_problem(exc, Outer) == (
        "inner.nmae",
        "unknown key (known: name, port); did you mean 'name'?",
    )


def test_validate_at_returns_the_model_or_collects_located_problems() -> None:
    doc, _ = load_yaml("a:\n  name: x\nb:\n  port: 2\n", "v.yaml")
    assert doc is not None
    problems: list[Diagnostic] = []
    assert validate_at(Inner, doc.data["a"], doc, ("a",), problems) == Inner(name="x")
    assert validate_at(Inner, doc.data["b"], doc, ("b",), problems) is None
    assert [str(d) for d in problems] == ["v.yaml:3:1: b.name: required key is missing"]
