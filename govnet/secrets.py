"""Credential references: ``env:NAME``, ``file:PATH`` or ``prompt``, resolved only when needed.

Plain-text secrets are refused by the inventory loader. Every value resolved here is
registered with :data:`REDACTOR`, which masks it in any text govnet prints or logs.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from govnet.errors import SecretError
from govnet.limits import LimitError, limits, read_regular

MASK = "***"
_REF = re.compile(r"^(?:env:(?P<env>[A-Za-z_][A-Za-z0-9_]*)|file:(?P<file>.+)|(?P<prompt>prompt))$")


class Redactor:
    """Masks every secret value resolved so far, in any string."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if len(value) < 3:  # masking "a" everywhere would destroy output, not protect it
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                alts = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alts))

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern else text


REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """Logging filter: no resolved secret reaches a log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = REDACTOR(record.getMessage())
        record.args = None
        return True


def _read_secret_file(path: Path, what: str) -> str:
    """A secret file's first-line text: a regular file (never a FIFO or device, which would
    block or never end) of at most ``secret_bytes``, UTF-8. The message never quotes it."""
    try:
        raw = read_regular(path, limits().secret_bytes, "secret_bytes", "secret")
    except LimitError as exc:
        raise SecretError(f"{what}: cannot read secret file {path}: {exc.message}") from None
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise SecretError(f"{what}: secret file {path} is not UTF-8 text") from None


@dataclass(frozen=True)
class SecretRef:
    """A reference to a secret; ``str()`` never shows the value."""

    ref: str
    base_dir: Path = field(default=Path("."), compare=False)

    @classmethod
    def parse(cls, text: str, base_dir: Path | None = None) -> SecretRef:
        if not isinstance(text, str) or not _REF.match(text.strip()):
            raise ValueError(
                "plain-text secrets are not allowed; use env:NAME, file:PATH or prompt"
            )
        return cls(text.strip(), base_dir or Path("."))

    @property
    def scheme(self) -> str:
        return self.ref.split(":", 1)[0]

    def resolve(self, what: str = "secret") -> str:
        m = _REF.match(self.ref)
        assert m is not None
        if m["env"]:
            value = os.environ.get(m["env"])
            if value is None:
                raise SecretError(f"{what}: environment variable {m['env']} is not set; export it")
        elif m["file"]:
            path = Path(os.path.expanduser(m["file"]))
            if not path.is_absolute():
                path = self.base_dir / path
            value = _read_secret_file(path, what)
        else:
            try:
                value = getpass.getpass(f"{what}: ")
            except (EOFError, OSError) as exc:
                raise SecretError(f"{what}: no terminal to prompt for the secret") from exc
        REDACTOR.add(value)
        return value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"SecretRef({self.scheme}:{MASK})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> SecretRef:
            if isinstance(value, SecretRef):
                return value
            return cls.parse(value)

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(lambda v: MASK)
        )
