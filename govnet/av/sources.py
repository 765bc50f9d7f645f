"""``av-sources.yaml``: how each console's export maps to the normalised record, and how AV
products show up in software lists.

::

    utc_offset: "+08:00"            # local time of the consoles' exports
    values: {true: […], false: […], network: […], standalone: […], empty: […]}   # optional
    products:                       # the catalogue: one key per product (= AvRecord.vendor)
      qianxin:
        label: {zh: 奇安信天擎, en: Qi-AnXin Tianqing}
        installed: '天擎|tianqing'   # regex on hrSWInstalledName (case-insensitive search)
        running: '^QAXEntClient'     # regex on hrSWRunName
        edition: network             # its edition when nothing else says
        standalone: '个人版'          # optional: installed names that are standalone editions
    sources:                        # one key per export layout (`govnet av import --source`)
      qianxin:
        product: qianxin
        edition: network
        columns: {host: [终端名称, 计算机名称], ip: [IP地址], …}   # field → header aliases
        required: [signature_date]  # besides one of host/ip/mac
        signature: {version_date: '…', date_formats: ['%Y%m%d']}
        date_formats: []            # extra strptime formats for every date column

Validated strictly: unknown keys, fields, products and bad regexes are errors with
``file:line:column``, all at once (:class:`~govnet.errors.InputError`, exit 2).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import timezone
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError

from govnet.av.parse import (
    DEFAULT_EMPTY,
    DEFAULT_FALSE,
    DEFAULT_NETWORK,
    DEFAULT_STANDALONE,
    DEFAULT_TRUE,
    ValueProblem,
    check_version_pattern,
    parse_offset,
)
from govnet.errors import Diagnostic, InputError
from govnet.i18n import N_, _
from govnet.store.avrecords import Edition
from govnet.validation import Listed, Regex, Strict, diagnostics_from
from govnet.yamlsrc import load_yaml_file

SOURCES_FILE = "av-sources.yaml"  # in the playbooks folder (govnet/settings.py)


def default_sources() -> Path:
    """``av-sources.yaml`` of the configured playbooks folder (else the shipped one)."""
    from govnet.settings import active

    return active().playbook(SOURCES_FILE)


Field_ = Literal[
    "host",
    "ip",
    "mac",
    "zone",
    "unit",
    "product",
    "edition",
    "client_version",
    "signature_version",
    "signature_date",
    "realtime",
    "running",
    "online",
    "last_seen",
    "os",
]
FIELDS: tuple[str, ...] = Field_.__args__  # type: ignore[attr-defined]
IDENTITY = ("host", "ip", "mac")


def _version_regex(value: Any) -> Any:
    if isinstance(value, str):
        try:
            check_version_pattern(value)
        except re.error as exc:
            raise ValueError(
                _("bad regular expression {value!r}: {exc}", value=value, exc=exc)
            ) from None
    return value


def _offset(value: Any) -> Any:
    if isinstance(value, str):
        try:
            parse_offset(value)
        except ValueProblem as exc:
            raise ValueError(str(exc)) from None
    return value


VersionRegex = Annotated[str, BeforeValidator(_version_regex)]
Offset = Annotated[str, BeforeValidator(_offset)]
Words = Annotated[list[str], Listed]


class LabelSpec(Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class ValuesSpec(Strict):
    true: Words = Field(default_factory=lambda: list(DEFAULT_TRUE))
    false: Words = Field(default_factory=lambda: list(DEFAULT_FALSE))
    network: Words = Field(default_factory=lambda: list(DEFAULT_NETWORK))
    standalone: Words = Field(default_factory=lambda: list(DEFAULT_STANDALONE))
    empty: Words = Field(default_factory=lambda: list(DEFAULT_EMPTY))


class ProductSpec(Strict):
    label: LabelSpec
    installed: Regex | None = None
    running: Regex | None = None
    edition: Edition | None = None
    network: Regex | None = None
    standalone: Regex | None = None

    def installed_re(self) -> re.Pattern[str] | None:
        return re.compile(self.installed, re.I) if self.installed else None

    def running_re(self) -> re.Pattern[str] | None:
        return re.compile(self.running, re.I) if self.running else None

    def edition_of(self, name: str) -> Edition | None:
        if self.standalone and re.search(self.standalone, name, re.I):
            return "standalone"
        if self.network and re.search(self.network, name, re.I):
            return "network"
        return self.edition


class SignatureSpec(Strict):
    version_date: VersionRegex | None = None
    date_formats: Words = Field(default_factory=list)


class SourceSpec(Strict):
    label: LabelSpec
    product: str
    edition: Edition | None = None
    columns: dict[Field_, Annotated[list[str], Listed]]
    required: list[Field_] = Field(default_factory=list)
    signature: SignatureSpec = SignatureSpec()
    date_formats: Words = Field(default_factory=list)
    utc_offset: Offset | None = None
    values: ValuesSpec | None = None


class SourcesSpec(Strict):
    utc_offset: Offset = "+08:00"
    values: ValuesSpec = ValuesSpec()
    products: dict[str, ProductSpec] = Field(min_length=1)
    sources: dict[str, SourceSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Source:
    """One export layout, resolved: what :mod:`govnet.av.exports` reads a file with."""

    name: str
    spec: SourceSpec
    product: ProductSpec
    values: ValuesSpec
    tz: timezone
    where: str  # file:line of its definition, for error messages
    catalogue: dict[str, ProductSpec]

    def identify(self, name: str | None) -> tuple[str, ProductSpec]:
        """The catalogue product a product name belongs to (else the source's own)."""
        if name:
            for key, spec in self.catalogue.items():
                pattern = spec.installed_re()
                if pattern is not None and pattern.search(name):
                    return key, spec
        return self.spec.product, self.product

    @cached_property
    def version_re(self) -> re.Pattern[str] | None:
        pattern = self.spec.signature.version_date
        return check_version_pattern(pattern) if pattern else None

    def aliases(self, field: str) -> list[str]:
        return self.spec.columns.get(field, [])  # type: ignore[call-overload, no-any-return]


@dataclass(frozen=True)
class Catalogue:
    """The whole file: products by key and sources by name."""

    path: str
    products: dict[str, ProductSpec]
    sources: dict[str, Source]
    tz: timezone

    def source(self, name: str) -> Source:
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources))
            close = difflib.get_close_matches(name, list(self.sources), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            message = _(
                "--source {name!r}: no such source in {path} (known: {known}){hint}",
                name=name,
                path=self.path,
                known=known,
                hint=hint,
            )
            raise InputError(
                [Diagnostic(self.path, 0, 0, "sources", message)], "antivirus sources"
            ) from None


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate ``av-sources.yaml``; every problem at once as an InputError."""
    path = path or default_sources()
    if not path.exists():
        raise InputError(
            [
                Diagnostic(
                    str(path),
                    0,
                    0,
                    "",
                    _(
                        "no such file; pass --sources FILE (the shipped one is {shipped})",
                        shipped=default_sources(),
                    ),
                )
            ],
            "antivirus sources",
        )
    doc, diags = load_yaml_file(path)
    if doc is None or diags:
        raise InputError(diags, N_("antivirus sources"))
    try:
        spec = SourcesSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(
            diagnostics_from(exc, doc, model=SourcesSpec), "antivirus sources"
        ) from None
    problems: list[Diagnostic] = []
    for name, src in spec.sources.items():
        base = ("sources", name)
        if src.product not in spec.products:
            known = ", ".join(sorted(spec.products))
            message = _(
                "unknown product {product!r} (known: {known})", product=src.product, known=known
            )
            problems.append(doc.diag((*base, "product"), message))
        if not any(src.columns.get(f) for f in IDENTITY):  # type: ignore[call-overload]
            problems.append(doc.diag((*base, "columns"), _("map at least one of host, ip, mac")))
        for i, req in enumerate(src.required):
            if not src.columns.get(req):
                problems.append(
                    doc.diag(
                        (*base, "required", i), _("required field {req!r} has no columns", req=req)
                    )
                )
    if problems:
        raise InputError(problems, N_("antivirus sources"))
    tz = parse_offset(spec.utc_offset)
    sources = {
        name: Source(
            name,
            src,
            spec.products[src.product],
            src.values or spec.values,
            parse_offset(src.utc_offset) if src.utc_offset else tz,
            f"{doc.file}:{doc.where(('sources', name))[0]}",
            dict(spec.products),
        )
        for name, src in spec.sources.items()
    }
    return Catalogue(str(path), dict(spec.products), sources, tz)
