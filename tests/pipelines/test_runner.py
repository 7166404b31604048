"""Running pipelines in-process: records, cache, conditions, failures, retries, resume."""

from __future__ import annotations

import pytest

from stead.errors import InvalidParameter
from stead.pipelines import load_output, resume_pipeline, run_pipeline
from stead.pipelines.records import PipelineRecords
from stead.pipelines.store import open_pipeline_store

PIPE = """
import threading
import stead.pipelines as sp

RAN = []

def helper(x):
    return x * 2

@sp.step
def load(n: int) -> list:
    RAN.append("load")
    print("loading", n)
    return list(range(n))

@sp.step
def scale(data: list, factor: float) -> list:
    RAN.append("scale")
    return [helper(x) * factor for x in data]

@sp.step
def stats(data: list) -> int:
    RAN.append("stats")
    return len(data)

@sp.step
def score(data: list) -> float:
    RAN.append("score")
    return float(sum(data))

@sp.step
def publish(value: float) -> str:
    RAN.append("publish")
    return f"published {value}"

@sp.pipeline
def flow(n: int = 4, factor: float = 1.0, threshold: float = 5.0):
    data = load(n)
    stats(data)
    s = score(scale(data, factor))
    with sp.when(s > threshold):
        publish(s)
"""


def _statuses(run):
    return {s.step_id: s.status for s in run.steps}


def test_run_records_and_caches(settings, write_module):
    mod = write_module(PIPE)
    run = run_pipeline(mod.flow, settings=settings)
    assert run.status == "SUCCEEDED", run.error
    assert _statuses(run) == dict.fromkeys(["load", "stats", "scale", "score", "publish"], "SUCCEEDED")
    assert load_output(run, "publish", settings) == "published 12.0"
    stored = PipelineRecords(open_pipeline_store(settings)).get(run.run_id)
    assert stored.status == "SUCCEEDED" and stored.params == {"n": 4, "factor": 1.0, "threshold": 5.0}
    load_rec = stored.step("load")
    assert load_rec.logs == "loading 4\n" and load_rec.attempt == 1 and load_rec.duration is not None
    assert load_rec.outputs[0]["serializer"] == "json" and len(load_rec.outputs[0]["hash"]) == 64
    assert load_rec.start_time and load_rec.end_time and not load_rec.cache_hit

    mod.RAN.clear()
    again = run_pipeline(mod.flow, settings=settings)
    assert mod.RAN == [] and set(_statuses(again).values()) == {"CACHED"}
    assert all(s.cache_hit for s in PipelineRecords(open_pipeline_store(settings)).get(again.run_id).steps)


def test_calling_a_pipeline_runs_it_on_the_settings_of_the_process(settings, write_module):
    from stead.config import adopt_settings

    mod = write_module(PIPE)
    adopt_settings(settings)
    try:
        run = mod.flow(n=3)
    finally:
        adopt_settings(None)
    assert run.status == "SUCCEEDED" and "load" in mod.RAN
    assert PipelineRecords(open_pipeline_store(settings)).get(run.run_id).params["n"] == 3


def test_changing_one_parameter_reruns_exactly_downstream(settings, write_module):
    mod = write_module(PIPE)
    run_pipeline(mod.flow, settings=settings)
    mod.RAN.clear()
    run = run_pipeline(mod.flow, {"factor": 2.0}, settings=settings)
    assert sorted(mod.RAN) == ["publish", "scale", "score"]
    assert _statuses(run) == {"load": "CACHED", "stats": "CACHED", "scale": "SUCCEEDED",
                              "score": "SUCCEEDED", "publish": "SUCCEEDED"}
    mod.RAN.clear()
    run_pipeline(mod.flow, {"factor": 2.0}, settings=settings, no_cache=True)
    assert sorted(mod.RAN) == ["load", "publish", "scale", "score", "stats"]


def test_changing_called_user_code_invalidates_only_its_callers(settings, write_module):
    first = write_module(PIPE)
    run_pipeline(first.flow, settings=settings)
    second = write_module(PIPE.replace("return x * 2", "return x * 3"))
    run = run_pipeline(second.flow, settings=settings)
    assert second.RAN == ["scale", "score", "publish"]
    assert _statuses(run)["load"] == "CACHED" and _statuses(run)["stats"] == "CACHED"


def test_condition_false_skips(settings, write_module):
    mod = write_module(PIPE)
    run = run_pipeline(mod.flow, {"threshold": 100}, settings=settings)
    assert run.status == "SUCCEEDED"
    assert _statuses(run)["publish"] == "SKIPPED"
    assert "condition score.output > 100 is false" in run.step("publish").error


def test_cache_false_step_always_runs(settings, write_module):
    mod = write_module(PIPE.replace("@sp.step\ndef stats", "@sp.step(cache=False)\ndef stats"))
    run_pipeline(mod.flow, settings=settings)
    mod.RAN.clear()
    run = run_pipeline(mod.flow, settings=settings)
    assert mod.RAN == ["stats"] and _statuses(run)["stats"] == "SUCCEEDED"


FAILING = """
import stead.pipelines as sp

ATTEMPTS = []

@sp.step
def ok() -> int:
    return 1

@sp.step(retries=2)
def flaky(x: int) -> int:
    ATTEMPTS.append(x)
    if len(ATTEMPTS) < 3:
        raise RuntimeError(f"flake {len(ATTEMPTS)}")
    return x + 1

@sp.step
def boom(x: int) -> int:
    raise ValueError("bad data in column 'age'")

@sp.step
def after(x: int) -> int:
    return x

@sp.step
def lock_maker(x: int):
    import threading
    return threading.Lock()

@sp.pipeline
def retrying():
    after(flaky(ok()))

@sp.pipeline
def failing():
    a = ok()
    after(after(boom(a)))
    flaky(a)

@sp.pipeline
def unstorable():
    after(lock_maker(ok()))
"""


def test_retries_record_attempts(settings, write_module):
    mod = write_module(FAILING)
    run = run_pipeline(mod.retrying, settings=settings)
    assert run.status == "SUCCEEDED"
    flaky = run.step("flaky")
    assert flaky.attempt == 3 and "flake 1" in flaky.logs and "--- attempt 3 ---" in flaky.logs


def test_failure_fails_downstream_with_summary_and_resume_continues(settings, write_module):
    mod = write_module(FAILING)
    mod.ATTEMPTS.extend([0, 0])  # flaky succeeds at once
    run = run_pipeline(mod.failing, settings=settings)
    assert run.status == "FAILED"
    assert _statuses(run) == {"ok": "SUCCEEDED", "boom": "FAILED", "after": "UPSTREAM_FAILED",
                              "after_2": "UPSTREAM_FAILED", "flaky": "SUCCEEDED"}
    assert "1 of 5 steps failed: boom (ValueError: bad data in column 'age')" in run.error
    assert "not run because of it: after, after_2" in run.error
    assert "Traceback" in run.step("boom").logs

    with pytest.raises(InvalidParameter, match="nothing to resume"):
        resume_pipeline(run_pipeline(mod.retrying, settings=settings).run_id, settings=settings)
    mod.boom.fn.__code__ = (lambda x: x * 10).__code__  # "fix the bug"; the code hash changes
    from stead.pipelines import cache_key

    cache_key._CODE_HASHES.clear()
    resumed = resume_pipeline(run.run_id, settings=settings)
    assert resumed.status == "SUCCEEDED" and resumed.resumed_from == run.run_id
    assert _statuses(resumed) == {"ok": "CACHED", "boom": "SUCCEEDED", "after": "SUCCEEDED",
                                  "after_2": "SUCCEEDED", "flaky": "CACHED"}
    assert len(mod.ATTEMPTS) == 3


def test_unstorable_output_is_a_clear_failure(settings, write_module):
    mod = write_module(FAILING)
    run = run_pipeline(mod.unstorable, settings=settings)
    assert run.status == "FAILED"
    assert "lock_maker" in run.error and "not picklable" in run.error


def test_unknown_executor_fails_before_anything_runs(settings, write_module):
    mod = write_module(PIPE)
    with pytest.raises(InvalidParameter, match="Unknown executor 'spark'"):
        run_pipeline(mod.flow, settings=settings, executor="spark")
    assert mod.RAN == []
    assert PipelineRecords(open_pipeline_store(settings)).list() == []


PARALLEL = """
import threading
import stead.pipelines as sp

BARRIER = threading.Barrier(3, timeout=20)

@sp.step(cache=False)
def side(i: int) -> int:
    BARRIER.wait()  # returns only when three steps run at the same time
    return i

@sp.step(timeout=0.5, cache=False)
def slow() -> int:
    threading.Event().wait(30)
    return 1

@sp.step
def total(xs: list) -> int:
    return sum(xs)

@sp.pipeline
def fan():
    total([side(i) for i in range(3)])

@sp.pipeline
def timing_out():
    slow()
"""


def test_independent_steps_run_in_parallel(settings, write_module):
    mod = write_module(PARALLEL)
    run = run_pipeline(mod.fan, settings=settings, max_parallel=3)
    assert run.status == "SUCCEEDED", run.error
    assert load_output(run, "total", settings) == 3


def test_timeout_fails_the_step(settings, write_module):
    mod = write_module(PARALLEL)
    run = run_pipeline(mod.timing_out, settings=settings)
    assert run.status == "FAILED" and "timed out after 0.5s" in run.step("slow").error


TRACKED = """
import stead
import stead.pipelines as sp
from stead.tracking import fluent

@sp.step
def train(lr: float) -> float:
    with fluent.start_run(run_name="train") as active:
        active.log_param("lr", lr)
        active.log_metric("accuracy", 0.91)
    return 0.91

@sp.pipeline
def tracked(lr: float = 0.1):
    train(lr)
"""


def test_step_records_the_tracking_run_it_opened(settings, write_module):
    from stead.tracking.client import TrackingClient

    mod = write_module(TRACKED)
    run = run_pipeline(mod.tracked, settings=settings)
    assert run.status == "SUCCEEDED", run.error
    run_id = run.step("train").tracking_run_id
    assert run_id
    client = TrackingClient(settings)
    tracked = client.get_run(run_id)
    assert tracked.data.params["lr"] == "0.1"
    assert tracked.data.tags["stead.pipeline.run_id"] == run.run_id
    assert tracked.data.tags["stead.pipeline.step"] == "train"
    client.close()
