"""Prometheus metrics of one serving app, kept by the app itself (no global registry).

Labels: ``deployment``, ``model_version``, ``variant`` on the request, batch and model
series, plus ``protocol`` and ``code`` on request counts; the per-variant gauges (up, traffic
weight) have ``deployment`` and ``variant`` only, so a variant that never loaded has them too;
``stead_serving_worker_info{pid}`` names the worker process (each ``--workers`` process
counts for itself). Every update happens on the event loop, so
a series is a plain list of numbers: a request costs a dictionary look-up, two additions
and a bisection, with no lock. ``render()`` hands the numbers to prometheus_client, which
writes the text format; it is imported on the first scrape, not at start.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["ServingMetrics", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # prometheus_client's CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
_BATCH_BUCKETS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)
_VARIANT = ("deployment", "model_version", "variant")


class _Family:
    """One metric: its series by label values. A counter's or gauge's series is ``[value]``;
    a histogram's is one count per bucket (not cumulative), the count above the last bucket,
    then the sum."""

    def __init__(self, name: str, help: str, kind: str, labels: Sequence[str],
                 buckets: Sequence[float] = ()) -> None:
        self.name, self.help, self.kind, self.labels = name, help, kind, tuple(labels)
        self.buckets = tuple(buckets)
        self.series: dict[tuple[str, ...], list[float]] = {}

    def child(self, values: tuple[str, ...]) -> list[float]:
        s = self.series.get(values)
        if s is None:
            s = self.series[values] = [0.0] * (len(self.buckets) + 2 if self.kind == "histogram" else 1)
        return s

    def observe(self, s: list[float], value: float) -> None:
        s[bisect_left(self.buckets, value)] += 1
        s[-1] += value

    def collect(self) -> Any:
        """This family as prometheus_client's metric family."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
        from prometheus_client.utils import floatToGoString

        if self.kind == "histogram":
            histogram = HistogramMetricFamily(self.name, self.help, labels=self.labels)
            bounds = [floatToGoString(b) for b in (*self.buckets, float("inf"))]
            for values, s in list(self.series.items()):
                total, buckets = 0.0, list[tuple[str, float]]()
                for bound, n in zip(bounds, s):
                    total += n
                    buckets.append((bound, total))
                histogram.add_metric(list(values), buckets, s[-1])
            return histogram
        kind = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        family = kind(self.name, self.help, labels=self.labels)
        for values, s in list(self.series.items()):
            family.add_metric(list(values), s[0])
        return family


class _Collector:
    """The app's families, for a prometheus_client registry of their own."""

    def __init__(self, families: Sequence[_Family]) -> None:
        self.families = families

    def collect(self) -> Iterator[Any]:
        for family in self.families:
            yield family.collect()


class ServingMetrics:
    """The counters and histograms of one app; ``render()`` is the ``/metrics`` body."""

    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self._requests = _Family("stead_serving_requests", "Inference requests answered.", "counter",
                                 (*_VARIANT, "protocol", "code"))
        self._errors = _Family("stead_serving_errors", "Inference requests that failed, by kind.", "counter",
                               (*_VARIANT, "kind"))
        self._latency = _Family("stead_serving_request_duration_seconds",
                                "Time from request received to answer, seconds.", "histogram", _VARIANT,
                                _LATENCY_BUCKETS)
        self._batch = _Family("stead_serving_batch_size", "Requests run through the model together.", "histogram",
                              _VARIANT, _BATCH_BUCKETS)
        self._shadow = _Family("stead_serving_shadow_comparisons", "Shadow answers compared with the answer returned.",
                               "counter", (*_VARIANT, "result"))
        self._ready = _Family("stead_serving_model_ready", "1 when the variant's model is loaded and warm.", "gauge",
                              _VARIANT)
        self._swaps = _Family("stead_serving_model_swaps", "Models swapped in after an alias moved.", "counter",
                              _VARIANT)
        self._up = _Family("stead_serving_variant_up", "1 when the variant serves (its model loaded and warm), "
                           "0 when it is loading or failed.", "gauge", ("deployment", "variant"))
        self._weight = _Family("stead_serving_variant_traffic_weight", "Percent of live traffic the variant gets "
                               "now (the weights applied: a variant that is down gets 0).", "gauge",
                               ("deployment", "variant"))
        self._polls = _Family("stead_serving_store_polls", "Times the server read its deployment and the registry.",
                              "counter", ("deployment",))
        self._worker = _Family("stead_serving_worker_info", "The worker process these figures are from "
                               "(each of `stead serve --workers N` keeps its own).", "gauge", ("pid",))
        self._worker.child((str(os.getpid()),))[0] = 1.0
        self._families = (self._worker, self._requests, self._errors, self._latency, self._batch, self._shadow, self._ready,
                          self._swaps, self._up, self._weight, self._polls)
        # (version, variant, protocol, code) -> (request count series, latency series)
        self._request_series: dict[tuple[str, str, str, int], tuple[list[float], list[float]]] = {}
        self._registry: Any = None  # prometheus_client's, made on the first scrape

    def request(self, version: str, variant: str, protocol: str, code: int, seconds: float) -> None:
        key = (version, variant, protocol, code)
        pair = self._request_series.get(key)
        if pair is None:
            pair = self._request_series[key] = (
                self._requests.child((self.deployment, version, variant, protocol, str(code))),
                self._latency.child((self.deployment, version, variant)))
        pair[0][0] += 1
        self._latency.observe(pair[1], seconds)
        if code >= 400:
            kind = "timeout" if code == 504 else "client" if code < 500 else "server"
            self._errors.child((self.deployment, version, variant, kind))[0] += 1

    def batch(self, version: str, variant: str, size: int) -> None:
        self._batch.observe(self._batch.child((self.deployment, version, variant)), size)

    def shadow(self, version: str, variant: str, result: str) -> None:
        self._shadow.child((self.deployment, version, variant, result))[0] += 1

    def ready(self, version: str, variant: str, value: bool) -> None:
        self._ready.child((self.deployment, version, variant))[0] = 1.0 if value else 0.0

    def swapped(self, version: str, variant: str) -> None:
        self._swaps.child((self.deployment, version, variant))[0] += 1

    def variant(self, variant: str, up: bool, weight: float) -> None:
        """Whether ``variant`` serves, and the percent of live traffic it gets."""
        self._up.child((self.deployment, variant))[0] = 1.0 if up else 0.0
        self._weight.child((self.deployment, variant))[0] = weight

    def forget_variant(self, variant: str) -> None:
        """``variant`` left the deployment: its gauges go."""
        self._up.series.pop((self.deployment, variant), None)
        self._weight.series.pop((self.deployment, variant), None)

    def polled(self) -> None:
        self._polls.child((self.deployment,))[0] += 1

    def render(self) -> bytes:
        """The ``/metrics`` body (Prometheus text format 0.0.4)."""
        if self._registry is None:
            from prometheus_client import CollectorRegistry

            self._registry = CollectorRegistry(auto_describe=False)
            self._registry.register(_Collector(self._families))  # type: ignore[arg-type]
        from prometheus_client.exposition import generate_latest

        return generate_latest(self._registry)
