"""What housekeeping passes did, as Prometheus metrics (CONTRACT §6.1).

Real prometheus_client metrics on the app's registry, so that with
PROMETHEUS_MULTIPROC_DIR the worker that had the pass's turn is summed into every scrape.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from app.housekeeping.classes import REASONS


class ReapMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.objects = Counter(
            "s3auth_reaped_objects",
            "Objects removed by storage housekeeping, by class.",
            ["reason"],
            registry=registry,
        )
        self.bytes = Counter(
            "s3auth_reaped_bytes",
            "Bytes removed by storage housekeeping, by class.",
            ["reason"],
            registry=registry,
        )
        self.skipped = Counter(
            "s3auth_reap_skipped",
            "Passes that skipped a class because the list or the metagraph was missing or stale.",
            ["reason"],
            registry=registry,
        )
        for reason in REASONS:  # shown at 0 before the first pass
            self.objects.labels(reason)
            self.bytes.labels(reason)
            self.skipped.labels(reason)
        self.last_success = Gauge(
            "s3auth_reap_last_success_timestamp_seconds",
            "Unix time the last complete housekeeping pass of this process ended (0: none yet).",
            registry=registry,
            multiprocess_mode="max",
        )
        self.interval = Gauge(
            "s3auth_reap_interval_seconds",
            "REAP_INTERVAL_SECONDS: seconds between background passes (0: none).",
            registry=registry,
            multiprocess_mode="max",
        )
