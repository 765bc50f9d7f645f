"""The Celery application: broker URL, queues per zone, reliability settings."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from celery import Celery

from govnet.errors import ExitCode, GovnetError
from govnet.i18n import _
from govnet.secrets import SecretRef

TASK = "govnet.collect_batch"
QUEUE_PREFIX = "govnet.zone."
NO_ZONE = "govnet.zone._none"  # devices without a zone
ENV_VISIBILITY = "GOVNET_BROKER_VISIBILITY"  # seconds before an unacknowledged task is redelivered
DEFAULT_VISIBILITY = 300.0


class BrokerError(GovnetError):
    """The broker cannot be reached or is misconfigured (exit 3, like an unreachable device)."""

    exit_code = ExitCode.UNREACHABLE


def queue_for(zone: str | None) -> str:
    return QUEUE_PREFIX + zone if zone else NO_ZONE


def queues_for(zones: Iterable[str | None]) -> list[str]:
    return sorted({queue_for(z) for z in zones})


def visibility_timeout() -> float:
    raw = os.environ.get(ENV_VISIBILITY)
    if not raw:
        return DEFAULT_VISIBILITY
    try:
        value = float(raw)
    except ValueError:
        raise GovnetError(
            _("{var}={raw!r}: not a number of seconds", var=ENV_VISIBILITY, raw=raw)
        ) from None
    if value <= 0:
        raise GovnetError(
            _("{var}={raw!r}: must be more than 0 seconds", var=ENV_VISIBILITY, raw=raw)
        )
    return value


def broker_url(url: str | None, password: SecretRef | None = None) -> str:
    """The URL to connect with: ``--broker`` / GOVNET_BROKER / config ``broker``, and the
    config's ``broker_password`` reference resolved into it."""
    if not url:
        raise GovnetError(
            _(
                "no broker: pass --broker redis://HOST:PORT/DB, set GOVNET_BROKER, or put "
                "'broker:' in govnet.yaml"
            )
        )
    if not re.match(r"^rediss?://", url):
        raise GovnetError(
            _("--broker {url}: must be a redis:// or rediss:// URL", url=safe_broker(url))
        )
    if password is None:
        return url
    parts = urlsplit(url)
    secret = quote(password.resolve("broker_password"), safe="")
    user = quote(parts.username or "", safe="")
    host = parts.hostname or ""
    netloc = f"{user}:{secret}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def safe_broker(url: str) -> str:
    """The URL as it may be shown (no password)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    netloc = f"{parts.username or ''}:***@{netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def make_app(url: str) -> Celery:
    """A Celery app on ``url`` with govnet's reliability settings (no result backend)."""
    from govnet.distributed import transport

    visibility = visibility_timeout()
    app = Celery("govnet", broker=url, set_as_current=False)
    conf: dict[str, Any] = {
        "broker_transport": transport.PATH,  # Redis, surviving an outage mid-batch
        "task_acks_late": True,  # a task is acknowledged when done, not when received
        "task_reject_on_worker_lost": True,  # a pool process lost mid-task: back to the queue
        "worker_prefetch_multiplier": 1,  # reserve no more than the worker is running
        "task_ignore_result": True,  # results go into the govnet store
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_default_queue": NO_ZONE,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # a worker waits out a broker outage
        "broker_transport_options": {
            "visibility_timeout": visibility,  # a killed worker's task is redelivered after it
            "unacked_restore_interval": max(1, min(10, int(visibility / 2))),
            "unacked_restore_throttle": 1,
        },
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "enable_utc": True,
    }
    app.conf.update(conf)
    return app
