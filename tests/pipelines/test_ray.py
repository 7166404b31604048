"""The Ray executor against a local Ray cluster started by the test on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from stead.errors import BackendUnavailable
from stead.pipelines import load_output, run_pipeline

ray = pytest.importorskip("ray")

PIPE = """
import os
import stead.pipelines as sp

@sp.step(resources={"cpu": 1, "memory": "64Mi"})
def load(n: int) -> list:
    print("on ray", n)
    return list(range(n))

@sp.step(resources={"cpu": 1})
def square(data: list) -> list:
    return [x * x for x in data]

@sp.step(retries=1)
def fails(data: list) -> int:
    raise ValueError("nope")

@sp.step
def pid() -> int:
    return os.getpid()

@sp.pipeline
def on_ray(n: int = 4):
    square(load(n))
    pid()

@sp.pipeline
def failing():
    fails(load(2))
"""


@pytest.fixture(scope="module")
def ray_cluster():  # type: ignore[no-untyped-def]
    ray.init(address="local", include_dashboard=False, num_cpus=2, num_gpus=0, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


@pytest.mark.slow
def test_steps_run_as_ray_tasks(ray_cluster, settings, write_module):
    import os

    mod = write_module(PIPE)
    run = run_pipeline(mod.on_ray, settings=settings, executor="ray")
    assert run.status == "SUCCEEDED", run.error
    assert run.executor == "ray"
    assert load_output(run, "square", settings) == [0, 1, 4, 9]
    assert load_output(run, "pid", settings) != os.getpid()
    assert run.step("load").logs == "on ray 4\n"
    again = run_pipeline(mod.on_ray, settings=settings, executor="ray")
    assert {s.status for s in again.steps} == {"CACHED"}

    failed = run_pipeline(mod.failing, settings=settings, executor="ray")
    assert failed.status == "FAILED" and failed.step("fails").attempt == 2
    assert "ValueError: nope" in failed.error


TRACKED = """
import stead.pipelines as sp
from stead.tracking import fluent

@sp.step
def train(lr: float) -> float:
    with fluent.start_run(run_name="train") as active:
        active.log_param("lr", lr)
    return 0.5

@sp.pipeline
def tracked(lr: float = 0.3):
    train(lr)
"""


@pytest.mark.slow
def test_a_ray_step_tracks_into_the_runs_stores(ray_cluster, settings, write_module):
    from stead.tracking.client import TrackingClient

    mod = write_module(TRACKED)
    run = run_pipeline(mod.tracked, settings=settings, executor="ray")
    assert run.status == "SUCCEEDED", run.error
    client = TrackingClient(settings)
    try:
        tracked = client.get_run(run.step("train").tracking_run_id)
        assert tracked.data.params["lr"] == "0.3"
        assert tracked.data.tags["stead.pipeline.step"] == "train"
    finally:
        client.close()


def test_ray_resources_map_to_task_options():
    from stead.pipelines.dsl import step
    from stead.pipelines.executors.ray import ray_options

    gpu_step = step(resources={"cpu": 2, "gpu": 1, "memory": "1Gi"})(lambda: 1)
    assert ray_options(gpu_step.resources) == {"num_cpus": 2.0, "num_gpus": 1.0, "max_retries": 0, "memory": 1024**3}


def test_unreachable_ray_address_fails_before_running(settings, write_module):
    mod = write_module(PIPE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and nothing listens on it
    with pytest.raises(BackendUnavailable, match=f"No Ray cluster answers at 127.0.0.1:{port}"):
        run_pipeline(mod.on_ray, settings=settings, executor="ray", executor_options={"address": f"127.0.0.1:{port}"})


UNSCHEDULABLE = """
import stead.pipelines as sp

@sp.step(resources={"gpu": 1})
def needs_gpu() -> int:
    return 1

@sp.step(resources={"cpu": 64})
def needs_cpus() -> int:
    return 2

@sp.step(resources={"memory": "1Ti"})
def needs_memory() -> int:
    return 3

@sp.step(resources={"custom": {"tpu": 1}})
def needs_tpu() -> int:
    return 4

@sp.step
def fits() -> int:
    return 5

@sp.pipeline
def greedy():
    needs_gpu()
    needs_cpus()
    needs_memory()
    needs_tpu()
    fits()
"""


@pytest.mark.slow
def test_a_step_no_node_can_hold_fails_with_what_is_missing(ray_cluster, settings, write_module):
    """Ray would keep these tasks pending forever; each fails after the short wait, naming
    the resource, while the step that fits runs."""
    import time

    mod = write_module(UNSCHEDULABLE)
    started = time.monotonic()
    run = run_pipeline(mod.greedy, settings=settings, executor="ray", executor_options={"resource_timeout": 1.5})
    assert time.monotonic() - started < 60
    assert run.status == "FAILED"
    assert run.step("fits").status == "SUCCEEDED" and load_output(run, "fits", settings) == 5
    errors = {s.step_id: s.error for s in run.steps if s.status == "FAILED"}
    assert errors["needs_gpu"].startswith("no node offers 1 GPU (cluster has 0); waited 1.5s")
    assert errors["needs_cpus"].startswith("no node offers 64 CPUs (cluster has 2)")
    assert errors["needs_memory"].startswith("no node offers 1.0 TiB of memory (cluster has ")
    assert errors["needs_tpu"].startswith("no node offers 1 'tpu' (cluster has 0)")


def test_shortfall_across_nodes():
    from stead.pipelines.executors.ray import shortfall

    nodes = [{"CPU": 2.0, "GPU": 1.0}, {"CPU": 16.0}]
    assert shortfall({"CPU": 2, "GPU": 1}, nodes) is None
    assert shortfall({"CPU": 16}, nodes) is None
    assert shortfall({"CPU": 8, "GPU": 1}, nodes) == "no node offers 8 CPUs together with 1 GPU"
    assert shortfall({"GPU": 2}, [{"GPU": 1.0}, {"GPU": 1.0}]) == "no node offers 2 GPUs (cluster has 2, at most 1 on one node)"
    assert shortfall({"CPU": 1}, []) == "no node offers 1 CPU (cluster has 0)"


def test_custom_resources_map_to_ray_options():
    from stead.errors import InvalidParameter
    from stead.pipelines.dsl import step
    from stead.pipelines.executors.ray import ray_options

    tpu_step = step(resources={"cpu": 1, "custom": {"example.com/tpu": 2}})(lambda: 1)
    assert ray_options(tpu_step.resources)["resources"] == {"example.com/tpu": 2.0}
    with pytest.raises(InvalidParameter, match="custom"):
        step(resources={"custom": {"tpu": "many"}})(lambda: 1)
