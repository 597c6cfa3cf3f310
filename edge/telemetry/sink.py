"""The telemetry event sink: device events -> policy filter -> publisher (-> outbox -> MQTT).

Every event is passed through :meth:`edge.policy.OutboundFilter.outbound`, the only place that
decides what leaves the device; only what it returns is published. ``handle`` stores to the
outbox (one SQLite commit), so the runner must get this sink wrapped in a
:class:`~edge.device.sinks.SupervisedSink` (:func:`telemetry_sink` does that): the audio thread
then only does a bounded enqueue.
"""

from __future__ import annotations

import logging
from typing import Any

from edge.device.events import Event
from edge.device.sinks import SupervisedSink
from edge.policy import OutboundFilter
from edge.telemetry.publisher import Publisher

log = logging.getLogger(__name__)


class TelemetrySink:
    """Publishes what the policy lets out of each event. Blocking: run it supervised."""

    name = "telemetry"

    def __init__(self, publisher: Publisher, policy: Any, drain_timeout_s: float = 5.0) -> None:
        self.publisher = publisher
        self.filter = OutboundFilter(policy)
        self.drain_timeout_s = drain_timeout_s
        self.published = 0
        self.withheld = 0
        """Events the policy kept on the device."""
        self._agent: str | None = None

    def handle(self, event: Event) -> None:
        agent = getattr(event, "agent", None)
        if agent != self._agent and not self.filter.nothing:
            self._agent = agent  # a sign-in or sign-out: the retained status says who is here
            self.publisher.update_birth(agent=agent)
        out = self.filter.outbound(event)
        if out is None:
            self.withheld += 1
            return
        kind, body = out
        if self.publisher.publish(kind, body) is not None:
            self.published += 1

    def close(self) -> None:
        self.publisher.stop(self.drain_timeout_s)


def telemetry_sink(
    publisher: Publisher, policy: Any, queue_size: int = 1000, drain_timeout_s: float = 5.0
) -> SupervisedSink:
    """The sink for the runner: :class:`TelemetrySink` on its own thread behind a bounded queue
    (the publisher must already be started)."""
    return SupervisedSink(TelemetrySink(publisher, policy, drain_timeout_s), maxsize=queue_size)
