"""Lineage between runs and dataset versions: ``stead.log_input`` pins the version a run
used, ``stead.data.add`` inside a run records the run that made the version."""

from __future__ import annotations

import pytest

import stead
import stead.data
from stead.data import lineage
from stead.errors import InvalidParameter, NotFound


def test_log_input_pins_the_dataset_version(fluent, client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "customers.csv").write_text("id,age\n1,30\n2,41\n")
    added = stead.data.add(tmp_path / "customers.csv", "customers", settings=client.settings)
    with fluent.start_run("churn") as run:
        stead.log_input("data:/customers@latest")
        with pytest.raises(InvalidParameter, match="data:/<name>@<version>"):
            stead.log_input("customers-4")
        with pytest.raises(NotFound):
            stead.log_input("data:/customers@99")
    inputs = client.get_run(run.run_id).inputs
    assert [(i.name, i.uri) for i in inputs] == [("customers", f"data:/customers@{added.version.version}")]
    assert inputs[0].digest == added.version.manifest_hash[:64]


def test_log_input_outside_a_run_says_how_to_start_one(fluent):
    with pytest.raises(InvalidParameter, match="No active run"):
        lineage.log_input("data:/customers@1")


def test_a_version_added_inside_a_run_names_that_run(fluent, client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "customers.csv").write_text("id,age\n1,30\n")
    assert lineage.active_run_id() is None
    with fluent.start_run("churn") as run:
        assert lineage.active_run_id() == run.run_id
        added = stead.data.add(tmp_path / "customers.csv", "customers", settings=client.settings)
    assert added.version.run_id == run.run_id
