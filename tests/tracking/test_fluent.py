"""The module-level API: start_run as a context manager, nesting, status on exceptions."""

from __future__ import annotations

import random

import pytest

from stead.errors import InvalidParameter
from stead.tracking.records import RunStatus


def test_with_block_logs_and_finishes(fluent, client):
    with fluent.start_run("churn", run_name="baseline") as run:
        fluent.log_params({"lr": 0.01, "depth": 3})
        for i in range(5):
            fluent.log_metric("loss", 1.0 / (i + 1), step=i)
        fluent.set_tag("team", "growth")
    stored = client.get_run(run.run_id)
    assert stored.info.status is RunStatus.FINISHED
    assert stored.data.params == {"lr": "0.01", "depth": "3"}
    assert stored.data.metrics["loss"].value == pytest.approx(0.2)
    assert len(client.get_metric_history(run.run_id, "loss").items) == 5
    assert client.get_experiment(stored.info.experiment_id).name == "churn"


def test_exception_marks_run_failed(fluent, client):
    with pytest.raises(ZeroDivisionError):
        with fluent.start_run("churn") as run:
            1 / 0
    assert client.get_run(run.run_id).info.status is RunStatus.FAILED


def test_keyboard_interrupt_marks_run_killed(fluent, client):
    with pytest.raises(KeyboardInterrupt):
        with fluent.start_run("churn") as run:
            raise KeyboardInterrupt
    assert client.get_run(run.run_id).info.status is RunStatus.KILLED


def test_nested_runs(fluent, client):
    with fluent.start_run("churn") as parent:
        with pytest.raises(InvalidParameter, match="nested=True"):
            fluent.start_run("churn")
        with fluent.start_run("churn", nested=True) as child:
            fluent.log_metric("fold_acc", 0.9)
        assert fluent.active_run().run_id == parent.run_id
    assert client.get_run(child.run_id).info.parent_run_id == parent.run_id


def test_logging_without_run_says_what_to_do(fluent):
    with pytest.raises(InvalidParameter, match="start_run"):
        fluent.log_metric("loss", 1.0)


def test_seed_is_applied_and_recorded(fluent, client):
    with fluent.start_run("churn", seed=1234) as run:
        first = random.random()
    random.seed(1234)
    assert first == random.random()
    assert client.get_run(run.run_id).data.tags["stead.seed"] == "1234"


def test_set_experiment_then_start_run(fluent, client):
    fluent.set_experiment("fraud")
    with fluent.start_run() as run:
        pass
    assert client.get_experiment(run.info.experiment_id).name == "fraud"
    fluent._experiment_name = None  # reset module state for other tests


def test_run_stack_sees_the_runs_started_inside_it_and_puts_the_old_one_back(fluent, client):
    with fluent.start_run("outer") as outer:
        watched: list = []
        with fluent.run_stack(watched):
            assert fluent.active_run() is None
            with fluent.start_run("inner") as inner:
                assert watched == [inner]
        assert fluent.active_run() is outer
    assert fluent.current_client() is client
