"""The serving metrics' text exposition, read back by the Prometheus client library's own
parser: counters, a gauge, histogram buckets (cumulative, +Inf, count, sum), escaped labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from stead.serving.metrics import ServingMetrics


def _samples(m: ServingMetrics) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    families = text_string_to_metric_families(m.render().decode())
    return {f.name: [(s.name, s.labels, s.value) for s in f.samples] for f in families}


def test_requests_errors_and_latency_histogram() -> None:
    m = ServingMetrics('churn "eu"\\1')
    for seconds in (0.0004, 0.0005, 0.003, 20.0):
        m.request("3", "default", "v2", 200, seconds)
    m.request("3", "default", "mlflow", 400, 0.001)
    m.request("3", "default", "v2", 504, 0.001)
    got = _samples(m)
    labels = {"deployment": 'churn "eu"\\1', "model_version": "3", "variant": "default"}
    assert ("stead_serving_requests_total", {**labels, "protocol": "v2", "code": "200"}, 4.0) in got[
        "stead_serving_requests"]
    assert {s[1]["kind"]: s[2] for s in got["stead_serving_errors"]} == {"client": 1.0, "timeout": 1.0}
    hist = {(s[0], s[1].get("le")): s[2] for s in got["stead_serving_request_duration_seconds"]}
    assert hist[("stead_serving_request_duration_seconds_bucket", "0.0005")] == 2  # le: value <= bound
    assert hist[("stead_serving_request_duration_seconds_bucket", "0.001")] == 4
    assert hist[("stead_serving_request_duration_seconds_bucket", "10.0")] == 5
    assert hist[("stead_serving_request_duration_seconds_bucket", "+Inf")] == 6
    assert hist[("stead_serving_request_duration_seconds_count", None)] == 6
    assert abs(hist[("stead_serving_request_duration_seconds_sum", None)] - 20.0059) < 1e-9


def test_batches_readiness_swaps_and_shadows() -> None:
    m = ServingMetrics("churn")
    for size in (1, 3, 64, 600):
        m.batch("2", "canary", size)
    m.ready("2", "canary", True)
    m.ready("1", "default", True)
    m.ready("1", "default", False)
    m.swapped("2", "canary")
    m.shadow("2", "canary", "mismatch")
    got = _samples(m)
    buckets = {s[1]["le"]: s[2] for s in got["stead_serving_batch_size"] if s[0].endswith("_bucket")}
    assert (buckets["1.0"], buckets["2.0"], buckets["4.0"], buckets["64.0"], buckets["512.0"], buckets["+Inf"]) == \
        (1, 1, 2, 3, 3, 4)
    assert {s[1]["variant"]: s[2] for s in got["stead_serving_model_ready"]} == {"canary": 1.0, "default": 0.0}
    assert [s[2] for s in got["stead_serving_model_swaps"] if s[0].endswith("_total")] == [1.0]
    assert [(s[1]["result"], s[2]) for s in got["stead_serving_shadow_comparisons"]] == [("mismatch", 1.0)]
