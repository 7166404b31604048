"""Isolated steps run in a process pool of the local executor."""

from __future__ import annotations

from stead.pipelines import load_output, run_pipeline

ISOLATED = """
import os
import stead.pipelines as sp

@sp.step
def here() -> int:
    return os.getpid()

@sp.step(isolated=True, resources={"cpu": 1})
def elsewhere(parent: int) -> list:
    print("child says hi")
    return [parent, os.getpid()]

@sp.step(isolated=True, timeout=1, retries=0, cache=False)
def stuck() -> int:
    import time
    time.sleep(60)
    return 1

@sp.pipeline
def isolated():
    elsewhere(here())

@sp.pipeline
def hangs():
    stuck()
"""


def test_isolated_step_runs_in_another_process(settings, write_module):
    import os

    mod = write_module(ISOLATED)
    run = run_pipeline(mod.isolated, settings=settings)
    assert run.status == "SUCCEEDED", run.error
    parent, child = load_output(run, "elsewhere", settings)
    assert parent == os.getpid() and child != parent
    assert run.step("elsewhere").logs == "child says hi\n"


def test_isolated_step_is_killed_at_its_timeout(settings, write_module):
    mod = write_module(ISOLATED)
    run = run_pipeline(mod.hangs, settings=settings)
    assert run.status == "FAILED" and "timed out after 1s" in run.step("stuck").error


TRACKED_ELSEWHERE = """
import stead.pipelines as sp
from stead.tracking import fluent

@sp.step(isolated=True)
def train(lr: float) -> float:
    with fluent.start_run(run_name="train") as active:
        active.log_param("lr", lr)
    return 0.5

@sp.pipeline
def tracked(lr: float = 0.2):
    train(lr)
"""


def test_isolated_step_tracks_into_the_runs_stores_not_the_environments(settings, write_module, tmp_path,
                                                                         monkeypatch):
    from stead.tracking.client import TrackingClient

    monkeypatch.setenv("STEAD_HOME", str(tmp_path / "elsewhere"))  # what the worker would read itself
    monkeypatch.delenv("STEAD_STORE_URL", raising=False)
    monkeypatch.delenv("STEAD_ARTIFACTS_URL", raising=False)
    mod = write_module(TRACKED_ELSEWHERE)
    run = run_pipeline(mod.tracked, settings=settings)
    assert run.status == "SUCCEEDED", run.error
    client = TrackingClient(settings)
    try:
        tracked = client.get_run(run.step("train").tracking_run_id)
        assert tracked.data.params["lr"] == "0.2"
        assert tracked.data.tags["stead.pipeline.run_id"] == run.run_id
    finally:
        client.close()
    assert not (tmp_path / "elsewhere").exists()
