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
