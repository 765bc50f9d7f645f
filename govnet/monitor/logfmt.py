"""Structured logs for the daemon: one JSON object per line (journald, Loki, grep -F).

``{"ts": "2026-05-01T10:00:07.123Z", "level": "info", "logger": "govnet.monitor.poller",
"msg": "device state changed", "device": "ext-acc-town", "from": "unreachable", "to": "down"}``

Fields passed with ``extra=`` become keys; secrets are masked (the shared RedactingFilter).
``text`` keeps the plain one-line format with the fields appended as ``key=value``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from govnet.logs import for_stderr
from govnet.secrets import REDACTOR, RedactingFilter
from govnet.textsafe import visible

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        out: dict[str, Any] = {
            "ts": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(_extras(record))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return REDACTOR(json.dumps(out, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={_value(v)}" for k, v in _extras(record).items())
        line = f"govnetd: {record.levelname.lower()}: {record.getMessage()}"
        if extras:
            line += f" {extras}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return visible(REDACTOR(line))


def _value(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return json.dumps(text, ensure_ascii=False) if (" " in text or not text) else text


def setup(fmt: str, verbosity: int = 0, quiet: bool = False) -> None:
    """Route every record through one handler on stderr in ``fmt`` (json | text).

    ``quiet`` (``govnet -q monitor run``, cron): errors only, unless -v asks for more.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(for_stderr(JsonFormatter() if fmt == "json" else TextFormatter()))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    if verbosity > 1:
        root.setLevel(logging.DEBUG)
    elif quiet and not verbosity:
        root.setLevel(logging.ERROR)
        logging.getLogger("govnet.monitor").setLevel(logging.ERROR)
    else:
        root.setLevel(logging.WARNING)
        logging.getLogger("govnet.monitor").setLevel(logging.INFO)
