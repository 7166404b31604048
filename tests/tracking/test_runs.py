"""Runs on every supported database: lifecycle, params, metrics, tags, errors."""

from __future__ import annotations

import math

import pytest

from stead.errors import InvalidParameter, NotFound
from stead.tracking.records import Metric, RunStatus


@pytest.fixture
def run(client):
    eid = client.create_experiment("churn")
    return client.create_run(eid, run_name="first")


def test_run_records_its_context(client, run):
    tags = client.get_run(run.run_id).data.tags
    assert tags["mlflow.runName"] == "first"
    assert tags["stead.python"].count(".") == 2
    assert tags["mlflow.user"]
    assert tags["stead.host"]
    assert "stead.environment" in tags
    env = client.backend.get_environment(tags["stead.environment"]) if hasattr(client.backend, "get_environment") else None
    if env is not None:
        python, packages = env
        assert "sqlalchemy==" in packages.lower()


def test_params_are_written_once(client, run):
    client.log_param(run.run_id, "lr", 0.1)
    client.log_param(run.run_id, "lr", "0.1")  # the same value again is fine
    with pytest.raises(InvalidParameter, match="already '0.1'"):
        client.log_param(run.run_id, "lr", 0.2)
    assert client.get_run(run.run_id).data.params == {"lr": "0.1"}


def test_failed_batch_writes_nothing(client, run):
    client.log_param(run.run_id, "lr", "0.1")
    with pytest.raises(InvalidParameter):
        client.log_batch(
            run.run_id,
            metrics=[Metric("acc", 0.5, 1, 0)],
            params={"lr": "0.5", "depth": "3"},
            tags={"t": "x"},
        )
    data = client.get_run(run.run_id).data
    assert data.params == {"lr": "0.1"}
    assert "acc" not in data.metrics and "t" not in data.tags


def test_metrics_keep_nan_and_infinities(client, run):
    for step, value in enumerate([1.5, math.nan, math.inf, -math.inf, 0.0]):
        client.log_metric(run.run_id, "m", value, step=step, timestamp=1000 + step)
    client.flush()
    points = client.get_metric_history(run.run_id, "m").items
    values = [p.value for p in points]
    assert values[0] == 1.5 and math.isnan(values[1])
    assert values[2] == math.inf and values[3] == -math.inf and values[4] == 0.0
    assert [p.step for p in points] == [0, 1, 2, 3, 4]


def test_latest_metric_is_highest_step(client, run):
    client.log_metric(run.run_id, "loss", 3.0, step=5, timestamp=10)
    client.log_metric(run.run_id, "loss", 9.0, step=1, timestamp=20)
    client.flush()
    assert client.get_run(run.run_id).data.metrics["loss"].value == 3.0
    client.log_metric(run.run_id, "loss", 1.0, step=6, timestamp=5)
    client.flush()
    assert client.get_run(run.run_id).data.metrics["loss"].value == 1.0


def test_history_pages(client, run):
    client.log_batch(run.run_id, metrics=[Metric("x", float(i), i, i) for i in range(25)])
    page = client.get_metric_history(run.run_id, "x", max_results=10)
    second = client.get_metric_history(run.run_id, "x", max_results=10, page_token=page.next_page_token)
    third = client.get_metric_history(run.run_id, "x", max_results=10, page_token=second.next_page_token)
    assert [p.step for p in page.items + second.items + third.items] == list(range(25))
    assert third.next_page_token is None


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("", 1.0, "must not be empty"),
        ("../escape", 1.0, "Invalid metric key"),
        ("/abs", 1.0, "Invalid metric key"),
        ("k" * 251, 1.0, "limit is 250"),
        ("acc", "high", "must be numbers"),
        ("acc", True, "must be numbers"),
        ("acc", None, "must be numbers"),
    ],
)
def test_bad_metrics_are_refused_at_the_call(client, run, key, value, message):
    with pytest.raises(InvalidParameter, match=message):
        client.log_metric(run.run_id, key, value)
    client.flush()
    assert client.get_run(run.run_id).data.metrics == {}


def test_finished_run_refuses_logging(client, run):
    client.set_terminated(run.run_id)
    info = client.get_run(run.run_id).info
    assert info.status is RunStatus.FINISHED and info.end_time is not None
    with pytest.raises(InvalidParameter, match="FINISHED"):
        client.log_param(run.run_id, "a", 1)
    other = TrackingClientFor(client)
    with pytest.raises(InvalidParameter, match="FINISHED"):
        other.log_metric(run.run_id, "loss", 1.0)


def TrackingClientFor(client):
    """A second client on the same store, which has not seen the run end."""
    from stead.tracking.client import TrackingClient

    return TrackingClient(client.settings, backend=client.backend)


def test_deleted_run_refuses_logging(client, run):
    client.delete_run(run.run_id)
    with pytest.raises(InvalidParameter, match="deleted"):
        TrackingClientFor(client).log_metric(run.run_id, "loss", 1.0)
    client.restore_run(run.run_id)
    assert client.get_run(run.run_id).info.lifecycle_stage == "active"


def test_unknown_run(client):
    with pytest.raises(NotFound, match="No run with id"):
        client.get_run("0" * 32)
    with pytest.raises(NotFound):
        client.log_metric("0" * 32, "loss", 1.0)
    with pytest.raises(InvalidParameter, match="Invalid run id"):
        client.get_run("../../etc")


def test_run_in_unknown_or_deleted_experiment(client):
    with pytest.raises(NotFound):
        client.create_run("12345")
    eid = client.create_experiment("gone")
    client.delete_experiment(eid)
    with pytest.raises(InvalidParameter, match="deleted"):
        client.create_run(eid)


def test_tags_set_and_delete(client, run):
    client.set_tag(run.run_id, "team", "a")
    client.set_tag(run.run_id, "team", "b")
    assert client.get_run(run.run_id).data.tags["team"] == "b"
    client.delete_tag(run.run_id, "team")
    assert "team" not in client.get_run(run.run_id).data.tags
    with pytest.raises(NotFound):
        client.delete_tag(run.run_id, "team")


def test_nested_run_records_parent(client, run):
    child = client.create_run(run.info.experiment_id, parent_run_id=run.run_id)
    assert child.info.parent_run_id == run.run_id
    assert client.get_run(child.run_id).data.tags["mlflow.parentRunId"] == run.run_id


def test_artifacts_round_trip(client, run, tmp_path):
    f = tmp_path / "report.txt"
    f.write_text("hello")
    client.log_artifact(run.run_id, f)
    client.log_artifact(run.run_id, f, artifact_path="sub/dir")
    names = [a.path for a in client.list_artifacts(run.run_id)]
    assert "report.txt" in [n.rsplit("/", 1)[-1] for n in names]
    out = client.download_artifacts(run.run_id, "sub/dir/report.txt", tmp_path / "dl")
    assert out.read_text() == "hello"


def test_log_artifact_missing_file(client, run, tmp_path):
    with pytest.raises(NotFound, match="does not exist"):
        client.log_artifact(run.run_id, tmp_path / "nope.txt")


def test_rename_run(client, run):
    client.rename_run(run.run_id, "better")
    again = client.get_run(run.run_id)
    assert again.info.run_name == "better"
    assert again.data.tags["mlflow.runName"] == "better"


# Text that a store could mangle on the way back: quotes, escapes, line breaks, control
# characters, non-ASCII, JSON look-alikes, the empty string and the longest values allowed.
_AWKWARD = ['"q" \\ back', "line\nnext\ttab\r", "ünï 日本 😀", '{"a": 1}', "null", "", "\u2028\x1f\x7f",
            "p" * 6000]


def test_awkward_values_round_trip(client, run):
    params = {f"p{i}": value for i, value in enumerate(_AWKWARD)}
    tags = {f"t{i}": value for i, value in enumerate(_AWKWARD)} | {"long": "t" * 8000}
    client.log_batch(run.run_id, params=params, tags=tags)
    other = client.create_run(run.info.experiment_id, run_name="plain")
    for found in (client.get_run(run.run_id),
                  next(r for r in client.search_runs([run.info.experiment_id]).items if r.run_id == run.run_id)):
        assert found.data.params == params
        assert {k: found.data.tags[k] for k in tags} == tags
    plain = client.get_run(other.run_id).data
    assert plain.params == {} and not any(k.startswith("t") and k[1:].isdigit() for k in plain.tags)
