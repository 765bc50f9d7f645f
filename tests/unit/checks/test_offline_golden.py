"""The offline engine's findings over the bench's generated configs equal a saved golden set.

bench/audit_offline_bench.py grows the lab's Huawei, H3C and Cisco running configs to 48 ports
and flips settings at random; the findings the engine gave on such configs (seeded) before it
was optimised are saved in tests/fixtures/golden/. Any change in status, message, evidence,
skip reason, device/rule fields or order is a difference. Only the golden's rules are compared,
so rules added to the baseline later (other platforms) do not disturb it.

Regenerate (only after checking a difference is intended)::

    python -m tests.unit.checks.test_offline_golden --update
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from govnet.checks.engine import DeviceFacts, evaluate
from govnet.checks.model import Finding
from govnet.checks.playbook import Playbook, load_playbooks
from govnet.inventory.model import Device

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "fixtures" / "golden" / "offline-audit-findings.json.gz"
SEED = 7
PER_PLATFORM = 30
ROLES = ("access", "aggregation", "core")
ZONES = ("internal", "external")


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "audit_offline_bench", ROOT / "bench" / "audit_offline_bench.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sources_digest(bench: ModuleType) -> str:
    h = hashlib.sha256()
    for platform in sorted(bench.SOURCES):
        h.update(platform.encode() + b"\0" + bench.SOURCES[platform].read_bytes())
    return h.hexdigest()


def _inputs(bench: ModuleType) -> tuple[list[Device], dict[str, DeviceFacts]]:
    rng = random.Random(SEED)
    devices: list[Device] = []
    facts: dict[str, DeviceFacts] = {}
    platforms = list(bench.SOURCES)
    for i in range(PER_PLATFORM * len(platforms)):
        platform = platforms[i % len(platforms)]
        name = f"sw{i:03d}"
        role, zone = ROLES[i % len(ROLES)], ZONES[(i // 3) % len(ZONES)]
        devices.append(
            Device(
                name=name,
                host="127.0.0.1",
                platform=platform,
                role=role,
                zone=zone,
                site="city",
                tags=frozenset({"golden"} if i % 5 == 0 else set()),
            )
        )
        facts[name] = DeviceFacts(name, config=bench.generate(platform, 48, rng))
    return devices, facts


def _canonical(f: Finding) -> dict[str, Any]:
    # Everything but ``elapsed`` (a timing).
    return {**f.to_dict(), "out_of_scope": f.out_of_scope}


def _current(playbooks: list[Playbook]) -> tuple[str, list[dict[str, Any]]]:
    bench = _bench()
    devices, facts = _inputs(bench)
    return _sources_digest(bench), [_canonical(f) for f in evaluate(devices, facts, playbooks)]


def _baseline() -> list[Playbook]:
    return load_playbooks(ROOT / "playbooks" / "mlps2-baseline.yaml")


def test_findings_equal_the_golden_set() -> None:
    golden = json.loads(gzip.decompress(GOLDEN.read_bytes()))
    playbooks = _baseline()
    known = {rule.id for book in playbooks for rule in book.rules}
    missing = sorted(set(golden["rules"]) - known)
    assert not missing, f"golden rules no longer in the baseline: {missing}"
    digest, findings = _current(playbooks)
    assert digest == golden["sources"], (
        "the lab configs the bench grows changed: regenerate the golden set (see docstring)"
    )
    wanted = set(golden["rules"])
    findings = [f for f in findings if f["rule"] in wanted]
    assert len(findings) == len(golden["findings"])
    for i, (got, want) in enumerate(zip(findings, golden["findings"], strict=True)):
        assert got == want, f"finding {i} ({want['device']} {want['rule']}) differs"
    statuses = {f["status"] for f in findings}
    assert statuses == {"pass", "fail", "skip"}  # the set exercises every verdict


def _update() -> None:
    playbooks = _baseline()
    digest, findings = _current(playbooks)
    rules = [rule.id for book in playbooks for rule in book.rules]
    data = {"sources": digest, "rules": rules, "findings": findings}
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
    GOLDEN.write_bytes(gzip.compress(raw, mtime=0))
    print(f"{GOLDEN}: {len(findings)} findings, {len(raw)} bytes before compression")


if __name__ == "__main__" and "--update" in sys.argv:
    _update()


def test_first_word_prefilter_finds_what_a_full_scan_finds() -> None:
    """Every baseline pattern: lines pre-filtered by first word, then matched, are exactly the
    lines a regex search over the whole text finds (lab configs and generated ones)."""
    from govnet.checks.kinds.config import ConfigParams
    from govnet.core.configtext import _first_words, parse_config

    patterns = set()
    for book in _baseline():
        for rule in book.rules:
            if not isinstance(rule.params, ConfigParams):
                continue
            for c in rule.params.clauses:
                patterns.update([*c.if_match, *c.if_no_match, *c.where, *c.unless])
                patterns.update([*c.must_match, *c.must_not_match])
                patterns.update(p for p in (c.section, c.value and c.value.match) if p)
    import re

    from govnet.checks.kinds.config import compile_regex

    # forms the baseline does not use, where a careless pre-filter would lose lines
    patterns.update(
        compile_regex(p)
        for p in (
            "^shutdown",
            "^descr",
            "^(shutdown|description)",
            "^(shutdown|description)$",
            "^(shutdown|description) ",
            "^interface ?X",
            "^(interface|vlan) ?X",
            "^descriptiona?",
            "^(description|shutdown)x?",
            "^interface X$",
            "^(?:interface|shutdown)",
        )
    )
    patterns.add(re.compile("^SHUTDOWN", re.M | re.I))
    bench = _bench()
    rng = random.Random(SEED)
    texts = [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("inventory/**/*.cfg"))]
    texts += [bench.generate(platform, 8, rng) for platform in bench.SOURCES]
    texts.append(
        "interface X\n  description a\n#\n descriptionx\ndescription\nshutdown now\n"
        "shutdownx\ninterfaceX\ninterface X\nvlanX\ndescriptiona b\n"
    )
    indexed = 0
    for text in texts:
        cfg = parse_config(text)
        for pattern in patterns:
            words = _first_words(pattern)
            if words is None:
                continue
            indexed += 1
            assert cfg._scan_words(pattern, words) == cfg._scan_slow(pattern), pattern.pattern
    assert indexed > 100


def test_the_passing_shortcut_judges_as_the_full_check() -> None:
    """evaluate_config first tries a tight pass for compliant configurations; on every rule
    and generated configuration (passing and failing), its result is the full judgement's."""
    from govnet.checks.kinds.config import ConfigParams, _judge, evaluate_config
    from govnet.core.configtext import parse_config

    devices, facts = _inputs(_bench())
    rules = [r for book in _baseline() for r in book.rules if isinstance(r.params, ConfigParams)]
    judged = 0
    for device in devices[::4]:
        text = facts[device.name].config
        assert text is not None
        for rule in rules:
            params = rule.params
            if rule.applies(device) and isinstance(params, ConfigParams):
                got = evaluate_config(parse_config(text), params, device.platform)
                assert got == _judge(parse_config(text), params, device.platform), rule.id
                judged += 1
    assert judged > 200
