"""Labels joined to the prediction log by request id: written as Parquet files beside the log
by ``log_labels``, on a real metadata store (SQLite and PostgreSQL) and a local artifact
store, against a log written by serving's own ``PredictionLog``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stead.artifacts import open_artifact_store
from stead.errors import InvalidParameter, NotFound
from stead.monitoring import LabelReceipt, log_labels
from stead.monitoring.labels import label_files, labels_from_records, read_labels
from stead.serving.deployments import Deployments, Variant
from stead.serving.prediction_log import PredictionLog, read_prediction_log
from stead.store import open_store


@pytest.fixture
def churn(settings):  # type: ignore[no-untyped-def]
    """A deployment ``churn`` with ten logged requests r0..r9 (r9 of three rows)."""
    store = open_store(settings.resolved_store_url)
    Deployments(store).create("churn", [Variant("primary", "churn@production", 100)])
    store.dispose()
    artifacts = open_artifact_store(settings.resolved_artifacts_url)
    log = PredictionLog(artifacts, "churn", flush_s=3600)
    for i in range(9):
        log.record("primary", "1", "v2", f"r{i}", 0.001, {"x": [float(i)]}, {"predict": np.array([i % 2])})
    log.record("primary", "1", "v2", "r9", 0.001, {"x": [1.0, 2.0, 3.0]}, {"predict": np.array([0, 1, 1])})
    log.record("primary", "1", "mlflow", None, 0.001, {"x": [1.0]}, {"predict": np.array([1])})  # no request id
    log.flush()
    log.close()
    return artifacts


def test_labels_are_joined_by_request_id_and_unknown_ids_are_counted(settings, churn):
    receipt = log_labels("churn", {"r0": 0, "r1": 1, "r9": [0, 1, 0], "lost-1": 1, "lost-2": 0}, settings=settings)
    assert isinstance(receipt, LabelReceipt)
    assert (receipt.received, receipt.matched, receipt.unknown, receipt.rows) == (5, 3, 2, 7)
    assert receipt.unknown_ids == ("lost-1", "lost-2")
    assert receipt.path is not None and receipt.path.startswith("prediction-logs/churn/labels/date=")
    assert churn.exists(receipt.path)
    labels = read_labels(churn, "churn")
    assert labels[("r0", 0)] == 0 and labels[("r1", 0)] == 1
    assert [labels[("r9", row)] for row in range(3)] == [0, 1, 0]
    # unknown ids are kept: their prediction may not be flushed yet
    assert labels[("lost-1", 0)] == 1
    # the prediction log reader does not take label files for log files
    table = read_prediction_log(churn, "churn")
    assert table.num_rows == 11 and set(table.column_names) >= {"request_id", "outputs"}
    assert receipt.to_json()["unknown_ids"] == ["lost-1", "lost-2"]


def test_a_later_label_for_the_same_request_wins(settings, churn):
    log_labels("churn", {"r0": 0, "r9": [1, 1, 1]}, settings=settings)
    log_labels("churn", {"r0": 1}, settings=settings)
    log_labels("churn", {"r9": 0}, settings=settings)  # all rows of r9 replaced by the one-row label
    labels = read_labels(churn, "churn")
    assert labels[("r0", 0)] == 1
    assert labels[("r9", 0)] == 0 and ("r9", 1) not in labels
    assert len(label_files(churn, "churn")) == 3


def test_string_boolean_and_float_labels_keep_their_type(settings, churn):
    log_labels("churn", {"r0": "yes", "r1": "no"}, settings=settings)
    log_labels("churn", {"r2": True}, settings=settings)
    log_labels("churn", {"r3": 0.25, "r4": 2}, settings=settings)
    labels = read_labels(churn, "churn")
    assert labels[("r0", 0)] == "yes" and labels[("r2", 0)] is True
    assert labels[("r3", 0)] == 0.25 and labels[("r4", 0)] == 2.0


def test_an_unknown_deployment_is_not_found_and_nothing_is_written(settings, churn):
    with pytest.raises(NotFound, match="Deployment 'nope' does not exist"):
        log_labels("nope", {"r0": 1}, settings=settings)
    assert not churn.exists("prediction-logs/nope")


@pytest.mark.parametrize("labels, words", [
    ({"r0": {"a": 1}}, "a label is a number, a string or a boolean"),
    ({"r0": None}, "NoneType"),
    ({"r0": math.nan}, "finite number"),
    ({"r0": [1, [2]]}, "a label is a number"),
    ({"r0": []}, "empty list"),
    ({"r0": 1, "r1": "yes"}, "mixes number, str"),
    ({"r0": 1, "r1": True}, "mixes bool, number"),
    ({"": 1}, "non-empty string"),
    ({3: 1}, "non-empty string"),
])
def test_bad_labels_are_refused_before_anything_is_written(settings, churn, labels, words):
    with pytest.raises(InvalidParameter, match=words):
        log_labels("churn", labels, settings=settings)
    assert label_files(churn, "churn") == []


def test_an_empty_batch_writes_nothing(settings, churn):
    receipt = log_labels("churn", {}, settings=settings)
    assert (receipt.received, receipt.matched, receipt.unknown, receipt.path) == (0, 0, 0, None)
    assert label_files(churn, "churn") == []


def test_label_records_later_record_wins():
    assert labels_from_records([{"request_id": "a", "label": 1}, {"request_id": "a", "label": 0}]) == {"a": 0}
    with pytest.raises(InvalidParameter, match="label record 1"):
        labels_from_records([{"request_id": "a", "label": 1}, {"id": "b"}])


def test_matching_looks_at_the_recent_days_of_the_log_only(settings, churn):
    receipt = log_labels("churn", {"r0": 1}, settings=settings, match_days=0)  # today's folder still counts
    assert receipt.matched == 1
    moved = [p for p in churn.list("prediction-logs/churn") if p.is_dir and "date=" in p.path]
    assert len(moved) == 1
    old = "prediction-logs/churn/date=2020-01-01"
    for f in churn.list(moved[0].path):
        churn.put_bytes(churn.get_bytes(f.path), f"{old}/{f.path.rsplit('/', 1)[-1]}")
        churn.delete(f.path)
    receipt = log_labels("churn", {"r0": 0}, settings=settings)
    assert (receipt.matched, receipt.unknown) == (0, 1)  # six years back is past the 30 days matched
    assert read_labels(churn, "churn")[("r0", 0)] == 0  # and still kept
