"""Prometheus metrics of one serving app, on a registry of its own (never the global one).

Labels: ``deployment``, ``model_version``, ``variant`` on every series, plus ``protocol``
and ``code`` on request counts. Label children are cached, so a request costs a few
dictionary look-ups and counter increments.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["ServingMetrics", "CONTENT_TYPE"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_VARIANT = ("deployment", "model_version", "variant")


class ServingMetrics:
    """The counters and histograms of one app; ``render()`` is the ``/metrics`` body."""

    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self._requests = Counter("stead_serving_requests", "Inference requests answered.",
                                 (*_VARIANT, "protocol", "code"), registry=r)
        self._errors = Counter("stead_serving_errors", "Inference requests that failed, by kind.",
                               (*_VARIANT, "kind"), registry=r)
        self._latency = Histogram("stead_serving_request_duration_seconds",
                                  "Time from request received to answer, seconds.", _VARIANT,
                                  buckets=_LATENCY_BUCKETS, registry=r)
        self._batch = Histogram("stead_serving_batch_size", "Requests run through the model together.",
                                _VARIANT, buckets=_BATCH_BUCKETS, registry=r)
        self._shadow = Counter("stead_serving_shadow_comparisons",
                               "Shadow answers compared with the answer returned.", (*_VARIANT, "result"), registry=r)
        self._ready = Gauge("stead_serving_model_ready", "1 when the variant's model is loaded and warm.",
                            _VARIANT, registry=r)
        self._swaps = Counter("stead_serving_model_swaps", "Models swapped in after an alias moved.",
                              _VARIANT, registry=r)
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._cache.get(key)
        if child is None:
            child = self._cache[key] = metric.labels(self.deployment, *labels)
        return child

    def request(self, version: str, variant: str, protocol: str, code: int, seconds: float) -> None:
        self._child(self._requests, version, variant, protocol, str(code)).inc()
        self._child(self._latency, version, variant).observe(seconds)
        if code >= 400:
            kind = "timeout" if code == 504 else "client" if code < 500 else "server"
            self._child(self._errors, version, variant, kind).inc()

    def batch(self, version: str, variant: str, size: int) -> None:
        self._child(self._batch, version, variant).observe(size)

    def shadow(self, version: str, variant: str, result: str) -> None:
        self._child(self._shadow, version, variant, result).inc()

    def ready(self, version: str, variant: str, value: bool) -> None:
        self._child(self._ready, version, variant).set(1 if value else 0)

    def swapped(self, version: str, variant: str) -> None:
        self._child(self._swaps, version, variant).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
