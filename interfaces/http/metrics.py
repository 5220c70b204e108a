"""Gauges of the event stream on `/metrics`: the relay's position and lag.

A collector reads them at scrape time (from Postgres, wherever the relay
runs). prometheus_client's registry is process-wide while apps come and go
(tests build many), so one collector is registered once and reads the most
recently wired Trawl.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from infrastructure.nats.status import RelayStatus

log = logging.getLogger(__name__)


class RelayCollector(Collector):
    def __init__(self) -> None:
        self.source: Callable[[], RelayStatus | None] = lambda: None

    def collect(self) -> Iterator[Metric]:
        try:
            status = self.source()
        except Exception:
            log.warning("relay status unavailable for /metrics", exc_info=True)
            return
        if status is None:
            return
        for name, text, value in (
            ("trawl_relay_position", "Log position the event stream holds up to.", status.position),
            ("trawl_relay_head", "Position of the newest event in the log.", status.head),
            ("trawl_relay_lag_events", "Events not yet on the stream.", status.lag_events),
            (
                "trawl_relay_lag_seconds",
                "Age of the oldest event not yet on the stream (0 when caught up).",
                status.lag_seconds,
            ),
        ):
            yield GaugeMetricFamily(name, text, value=value)


_collector: RelayCollector | None = None
_lock = threading.Lock()


def expose_relay(source: Callable[[], RelayStatus | None]) -> None:
    """Report `source()` on /metrics (registers the collector on first use)."""
    global _collector  # noqa: PLW0603 - one collector per process, by design
    with _lock:
        if _collector is None:
            _collector = RelayCollector()
            REGISTRY.register(_collector)
        _collector.source = source
