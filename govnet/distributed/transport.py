"""kombu's Redis transport, surviving a broker outage while a batch is running.

With ``task_acks_late`` a running batch's message is unacknowledged. When Redis goes away,
Celery 5.7 closes the broken connection before reconnecting; closing the channel tries to put
its unacknowledged messages back into Redis (``restore_unacked_once``), which needs a fresh
connection that cannot be made: kombu raises ``AttributeError`` (its transport has already
dropped the connection) and the worker stops with "Unrecoverable error" — every worker
that was collecting a batch when Redis restarted is gone.

Nothing needs restoring at that moment: Redis itself keeps each delivered message in its
``unacked`` index until it is acknowledged, and one of the workers puts it back into its
queue after the visibility timeout (``GOVNET_BROKER_VISIBILITY``). So the restore on close is
skipped when the broker cannot be reached; the worker reconnects and goes on, and the batch
runs again at worst (its devices' first results are kept, see govnet/store/distributed.py).
Likewise the acknowledgement of a batch that finishes after its channel was closed by the
outage fails with ``AttributeError``, which Celery treats as fatal too: it is turned into the
connection error it is, which Celery logs ("Couldn't ack") and survives; the message returns
after the visibility timeout and its batch is stored once.
"""

from __future__ import annotations

import logging
from typing import IO, Any

import redis.exceptions
from kombu.transport import redis as kredis

log = logging.getLogger(__name__)
GONE = "the channel was closed by a broker outage; the message returns after the visibility timeout"


class QoS(kredis.QoS):
    def restore_unacked_once(self, stderr: IO[str] | None = None) -> Any:
        try:
            return super().restore_unacked_once(stderr)  # type: ignore[no-untyped-call]
        except (AttributeError, *kredis.Transport.connection_errors) as exc:
            log.warning(
                "broker unreachable while closing the channel (%s: %s): %d unacknowledged "
                "message(s) stay in Redis and return after the visibility timeout",
                type(exc).__name__,
                exc,
                len(self._delivered),
            )
            self._delivered.clear()  # theirs is the broker's copy now
            self._delivered.restored = True  # type: ignore[attr-defined]
            return None

    def ack(self, delivery_tag: Any) -> None:
        try:
            super().ack(delivery_tag)  # type: ignore[no-untyped-call]
        except AttributeError as exc:
            raise redis.exceptions.ConnectionError(GONE) from exc

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            super().reject(delivery_tag, requeue)  # type: ignore[no-untyped-call]
        except AttributeError as exc:
            raise redis.exceptions.ConnectionError(GONE) from exc


class Channel(kredis.Channel):
    QoS = QoS


class Transport(kredis.Transport):
    Channel = Channel


PATH = f"{__name__}:Transport"
