"""The antivirus policy and the verdicts it gives one endpoint.

The policy is the ``check:`` of the rules in ``playbooks/antivirus.yaml`` (kind ``antivirus``):
approved products by name pattern, the maximum signature age per zone, whether real-time
protection and a network (centrally managed) edition are required, and which terminal kinds
run no antivirus at all. :func:`assess` judges one endpoint for all three controls at once;
the check kind and ``govnet av status`` both use it, so they always agree.

Ages are whole days between the signature date and the date of the snapshot that reported it
(the console's local day), never "now": a week-old export is judged as of its own date. When
that snapshot is itself older than the zone's limit the verdict says so (a note in the message
and the evidence) without changing the verdict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field

from govnet.av.join import Current, Match, current
from govnet.av.parse import CHINA, local_date
from govnet.core.vocabulary import Evidence, Status
from govnet.i18n import _
from govnet.inventory.model import Device
from govnet.inventory.terminals import TERMINAL
from govnet.validation import Regex, Strict

Test = Literal["installed", "signatures-fresh", "centrally-managed"]
Live = Literal["snmp", "ssh"]
LIVE: tuple[Live, ...] = ("snmp", "ssh")
TESTS: tuple[Test, ...] = ("installed", "signatures-fresh", "centrally-managed")
DEFAULT_MAX_AGE = {"internet": 7, "external": 7, "internal": 30, "classified": 30}


class Approved(Strict):
    name: str = Field(min_length=1)
    pattern: Regex  # searched in "product vendor", any case


class AvPolicy(Strict):
    """The policy: a rule's ``check.policy`` (written once in playbooks/antivirus.yaml)."""

    approved: list[Approved] = Field(default_factory=list)  # empty: any antivirus counts
    max_signature_age_days: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_MAX_AGE)
    )
    default_max_signature_age_days: int = Field(default=30, ge=0)
    realtime_required: bool = True
    network_edition_required: bool = True
    exempt_kinds: list[str] = Field(default_factory=lambda: ["printer", "phone", "camera"])
    sources: str = "av-sources.yaml"  # relative to the playbook's folder
    live: list[Live] = Field(default_factory=lambda: list(LIVE))

    @cached_property
    def patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        return [(a.name, re.compile(a.pattern, re.I)) for a in self.approved]

    def limit(self, zone: str) -> int:
        return self.max_signature_age_days.get(zone, self.default_max_signature_age_days)

    def approved_as(self, record_product: str | None, vendor: str | None) -> str | None:
        """The approved name a product matches, or None (every product when none listed)."""
        text = f"{record_product or ''} {vendor or ''}".strip()
        if not self.approved:
            return text or "antivirus"
        return next((name for name, p in self.patterns if p.search(text)), None)

    def exempt(self, endpoint: Device) -> bool:
        return endpoint.role == TERMINAL and (endpoint.description or "") in self.exempt_kinds


class AntivirusParams(Strict):
    """A rule's ``check:`` for kind ``antivirus``: which control it tests, and the policy."""

    test: Test
    policy: AvPolicy = Field(default_factory=AvPolicy)


@dataclass(frozen=True)
class Verdict:
    status: Status
    message: str
    evidence: tuple[Evidence, ...] = ()


State = Literal[
    "ok",
    "exempt",
    "no-data",
    "unreadable",
    "not-covered",
    "unapproved",
    "not-running",
    "stale",
    "unknown-age",
    "standalone",
]


@dataclass
class Assessment:
    """One endpoint judged for the three controls."""

    endpoint: Device
    products: list[Current]
    verdicts: dict[str, Verdict]
    state: State
    limit: int
    age_days: int | None = None
    data_age_days: int | None = None  # how old the snapshot behind the age is, as of now
    notes: list[str] = field(default_factory=list)

    @property
    def main(self) -> Current | None:
        return self.products[0] if self.products else None


def _describe(c: Current) -> str:
    r = c.record
    parts = [r.product or r.vendor or "antivirus"]
    if r.client_version and r.client_version not in parts[0]:
        parts.append(r.client_version)
    if r.edition:
        parts.append(f"({r.edition})")
    return " ".join(parts)


def _evidence(c: Current) -> Evidence:
    r = c.record
    bits = []
    if r.sig_version:
        bits.append(f"signatures {r.sig_version}")
    if r.sig_date:
        bits.append(f"dated {r.sig_date.isoformat()}")
    if r.realtime_on is not None:
        bits.append(f"real-time {'on' if r.realtime_on else 'off'}")
    if r.running is not None:
        bits.append("running" if r.running else "not running")
    if r.last_seen:
        bits.append(f"last seen {r.last_seen.astimezone(CHINA):%Y-%m-%d %H:%M}")
    extra = [f"{k}={v}" for k, v in sorted(r.detail.items()) if k in ("freshclam", "process")]
    text = _describe(c) + (": " + ", ".join(bits + extra) if bits or extra else "")
    sources = ", ".join(x.source for x in c.sources[:3])
    note = _("from {sources}; joined by {by}", sources=sources, by=c.by)
    if c.note:
        note += _(" ({note})", note=c.note)
    return Evidence(text, None, note)


def _skip(reason: str) -> Verdict:
    return Verdict(Status.SKIP, _("not applicable: {reason}", reason=reason))


def _installed(policy: AvPolicy, products: list[Current]) -> tuple[Verdict, State]:
    evidence = tuple(_evidence(c) for c in products)
    approved = [c for c in products if policy.approved_as(c.record.product, c.record.vendor)]
    if not approved:
        names = ", ".join(_describe(c) for c in products)
        allowed = ", ".join(a.name for a in policy.approved)
        return Verdict(
            Status.FAIL,
            _(
                "not an approved product: {names} (approved: {allowed})",
                names=names,
                allowed=allowed,
            ),
            evidence,
        ), "unapproved"
    problems = []
    for c in approved:
        r = c.record
        if r.running is False:
            problems.append(_("{product} is installed but not running", product=_describe(c)))
        elif policy.realtime_required and r.realtime_on is False:
            problems.append(_("{product}: real-time protection is off", product=_describe(c)))
        else:
            realtime = {
                True: _(", real-time protection on"),
                False: _(", real-time protection off"),
                None: "",
            }[r.realtime_on]
            unknown = (
                _(" (the source does not report real-time protection)")
                if policy.realtime_required and r.realtime_on is None
                else ""
            )
            return Verdict(Status.PASS, f"{_describe(c)}{realtime}{unknown}", evidence), "ok"
    return Verdict(Status.FAIL, _("; ").join(problems), evidence), "not-running"


def _days(a: datetime, b: datetime, tz: timezone) -> int:
    return (local_date(a, tz) - local_date(b, tz)).days


def _fresh(
    policy: AvPolicy, endpoint: Device, products: list[Current], now: datetime, a: Assessment
) -> Verdict:
    approved = [c for c in products if policy.approved_as(c.record.product, c.record.vendor)]
    judged = approved or products
    limit = a.limit
    worst: tuple[int, Current] | None = None
    unknown = []
    evidence = []
    notes = []
    for c in judged:
        src = c.sig_record
        if src is None or src.sig_date is None or src.as_of is None:
            unknown.append(_describe(c))
            continue
        as_of = src.as_of
        age = max(0, (local_date(as_of, CHINA) - src.sig_date).days)
        data_age = max(0, _days(now, as_of, CHINA))
        text = (
            f"{_describe(c)}: signatures {src.sig_version or ''} dated "
            f"{src.sig_date.isoformat()}, {age} day(s) old as of "
            f"{as_of.astimezone(CHINA):%Y-%m-%d %H:%M}"
        ).replace("signatures  ", "signatures ")
        note = _(
            "{zone} allows {limit} day(s); from {source}",
            zone=endpoint.zone,
            limit=limit,
            source=src.source,
        )
        if data_age > limit:
            stale = _(
                "the data is {age} day(s) old, older than the {limit}-day limit itself: "
                "import a newer export",
                age=data_age,
                limit=limit,
            )
            note += _("; ") + stale
            notes.append(stale)
        evidence.append(Evidence(text, None, note))
        if worst is None or age > worst[0]:
            worst = (age, c)
            a.age_days, a.data_age_days = age, data_age
    suffix = _(" (note: {note})", note=notes[0]) if notes else ""
    a.notes.extend(notes)
    if worst is not None and worst[0] > limit:
        src = worst[1].sig_record
        assert src is not None and src.sig_date is not None
        return Verdict(
            Status.FAIL,
            _(
                "signatures {age} days old ({date}); {zone} allows {limit}{suffix}",
                age=worst[0],
                date=src.sig_date.isoformat(),
                zone=endpoint.zone,
                limit=limit,
                suffix=suffix,
            ),
            tuple(evidence),
        )
    if unknown:
        names = ", ".join(unknown)
        message = _("no source reports the signature date of {names}", names=names)
        return Verdict(Status.ERROR, message, tuple(evidence))
    assert worst is not None
    return Verdict(
        Status.PASS,
        _(
            "signatures {age} day(s) old; {zone} allows {limit}{suffix}",
            age=worst[0],
            zone=endpoint.zone,
            limit=limit,
            suffix=suffix,
        ),
        tuple(evidence),
    )


def _managed(policy: AvPolicy, products: list[Current]) -> tuple[Verdict, bool]:
    evidence = tuple(_evidence(c) for c in products)
    if not policy.network_edition_required:
        return Verdict(
            Status.PASS, _("a network edition is not required by the policy"), evidence
        ), True
    approved = [c for c in products if policy.approved_as(c.record.product, c.record.vendor)]
    judged = approved or products
    network = [c for c in judged if c.record.edition == "network"]
    if network:
        managed = _("centrally managed: {product}", product=_describe(network[0]))
        return Verdict(Status.PASS, managed, evidence), True
    if all(c.record.edition is None for c in judged):
        names = ", ".join(_describe(c) for c in judged)
        unsaid = _("no source says which edition {names} is", names=names)
        return Verdict(Status.ERROR, unsaid, evidence), True
    names = ", ".join(_describe(c) for c in judged if c.record.edition == "standalone")
    return Verdict(
        Status.FAIL,
        _(
            "standalone edition: {names}; a centrally managed network edition is required",
            names=names,
        ),
        evidence,
    ), False


def assess(
    endpoint: Device,
    matches: Sequence[Match],
    policy: AvPolicy,
    now: datetime,
    errors: Sequence[str] = (),
    no_data: str | None = None,
) -> Assessment:
    """Judge ``endpoint`` from its joined records.

    ``errors`` are live collection failures for it (SNMP/SSH); ``no_data`` says why there is
    nothing to judge from at all (no snapshot imported) — both make ``error`` verdicts when no
    record joined, rather than a "not covered" failure.
    """
    limit = policy.limit(endpoint.zone)
    if policy.exempt(endpoint):
        v = _skip(
            _("{what} (exempt_kinds: no antivirus on such terminals)", what=endpoint.description)
        )
        return Assessment(endpoint, [], dict.fromkeys(TESTS, v), "exempt", limit)
    products = current(matches)
    if not products:
        if errors or no_data:
            why = "; ".join(errors) if errors else str(no_data)
            v = Verdict(Status.ERROR, why)
            return Assessment(
                endpoint, [], dict.fromkeys(TESTS, v), "unreadable" if errors else "no-data", limit
            )
        ident = ", ".join(x for x in (endpoint.mac, str(endpoint.address or "")) if x)
        fail = Verdict(
            Status.FAIL,
            _(
                "not covered: no antivirus record matches {name} ({ident})",
                name=endpoint.name,
                ident=ident,
            ),
        )
        skip = _skip(_("no antivirus installed (see av.installed)"))
        verdicts = {"installed": fail, "signatures-fresh": skip, "centrally-managed": skip}
        return Assessment(endpoint, [], verdicts, "not-covered", limit)
    a = Assessment(endpoint, products, {}, "ok", limit)
    installed, state = _installed(policy, products)
    fresh = _fresh(policy, endpoint, products, now, a)
    managed, is_managed = _managed(policy, products)
    if errors:  # judged from what other sources said; say what could not be asked
        installed = replace(
            installed,
            message=_(
                "{message} (not read now: {errors})",
                message=installed.message,
                errors="; ".join(errors),
            ),
        )
        a.notes.extend(errors)
    a.verdicts = {"installed": installed, "signatures-fresh": fresh, "centrally-managed": managed}
    if state == "ok":
        if fresh.status is Status.FAIL:
            state = "stale"
        elif fresh.status is Status.ERROR:
            state = "unknown-age"
        elif not is_managed:
            state = "standalone"
    a.state = state
    return a
