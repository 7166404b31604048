"""Prometheus metrics of one serving app, kept by the app itself (no global registry).

Labels: ``deployment``, ``model_version``, ``variant`` on every series, plus ``protocol``
and ``code`` on request counts; ``stead_serving_worker_info{pid}`` names the worker process
(each ``--workers`` process counts for itself). ``render()`` writes the Prometheus text format (0.0.4).
Every update happens on the event loop, so a series is a plain list of numbers: a request
costs a dictionary look-up, two additions and a bisection, and serving imports no
metrics library at start.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Sequence

__all__ = ["ServingMetrics", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
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

    def render(self, out: list[str]) -> None:
        name = f"{self.name}_total" if self.kind == "counter" else self.name
        out.append(f"# HELP {name} {_escape_help(self.help)}\n# TYPE {name} {self.kind}\n")
        for values, s in self.series.items():
            labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in zip(self.labels, values))
            if self.kind != "histogram":
                out.append(f"{name}{{{labels}}} {_number(s[0])}\n")
                continue
            total = 0.0
            for bound, n in zip((*self.buckets, float("inf")), s):
                total += n
                out.append(f'{name}_bucket{{{labels},le="{_number(bound)}"}} {_number(total)}\n')
            out.append(f"{name}_count{{{labels}}} {_number(total)}\n{name}_sum{{{labels}}} {_number(s[-1])}\n")


def _number(x: float) -> str:
    if x == float("inf"):
        return "+Inf"
    return repr(float(x))


def _escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


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
        self._worker = _Family("stead_serving_worker_info", "The worker process these figures are from "
                               "(each of `stead serve --workers N` keeps its own).", "gauge", ("pid",))
        self._worker.child((str(os.getpid()),))[0] = 1.0
        self._families = (self._worker, self._requests, self._errors, self._latency, self._batch, self._shadow, self._ready,
                          self._swaps)
        # (version, variant, protocol, code) -> (request count series, latency series)
        self._request_series: dict[tuple[str, str, str, int], tuple[list[float], list[float]]] = {}

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

    def render(self) -> bytes:
        out: list[str] = []
        for family in self._families:
            family.render(out)
        return "".join(out).encode()
