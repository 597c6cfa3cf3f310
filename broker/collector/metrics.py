"""The collector's Prometheus metrics (prometheus-client), in a registry of their own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from broker.collector.validate import REASONS


class Metrics:
    """Counters, gauges and histograms served at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "poise_collector_messages",
            "Messages received, by result (stored, duplicate, status, ignored)",
            ["result"],
            registry=r,
        )
        self.rejected = Counter(
            "poise_collector_rejected",
            "Messages rejected, by reason (never stored)",
            ["reason"],
            registry=r,
        )
        for reason in (*REASONS, "store_refused"):
            self.rejected.labels(reason)
        for result in ("stored", "duplicate", "status", "ignored"):
            self.messages.labels(result)
        self.commit_seconds = Histogram(
            "poise_collector_commit_seconds",
            "Time to write and commit one batch",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=r,
        )
        self.batch_size = Histogram(
            "poise_collector_batch_messages",
            "Messages per committed batch",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
            registry=r,
        )
        self.latency = Histogram(
            "poise_collector_publish_to_commit_seconds",
            "Device timestamp to commit (includes clock skew and outbox delays)",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600),
            registry=r,
        )
        self.store_errors = Counter(
            "poise_collector_store_errors", "Failed commits (retried)", registry=r
        )
        self.queue_depth = Gauge(
            "poise_collector_queue_depth", "Received messages waiting for the writer", registry=r
        )
        self.devices_online = Gauge(
            "poise_collector_devices_online", "Devices whose latest status is online", registry=r
        )
        self.devices_known = Gauge("poise_collector_devices", "Devices in the registry", registry=r)
        self.connected = Gauge(
            "poise_collector_mqtt_connected", "1 while connected to the broker", registry=r
        )

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (for tests and ``/healthz``)."""
        v = self.registry.get_sample_value(name, labels or None)
        return 0.0 if v is None else float(v)
