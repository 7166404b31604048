"""Tracking records <-> MLflow's JSON shapes: the server writes them, stead's remote client
reads them back (the scalar rules are in ``stead.wire.fields``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from stead.tracking.records import Experiment, Metric, Run, RunData, RunInfo, RunInput, RunStatus
from stead.wire.fields import double_json, key_values_from_json, key_values_json, parse_double

__all__ = [
    "experiment_json",
    "run_json",
    "run_info_json",
    "metric_json",
    "run_input_json",
    "experiment_from_json",
    "metric_from_json",
    "run_info_from_json",
    "run_from_json",
]


def experiment_json(e: Experiment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "artifact_location": e.artifact_location,
        "lifecycle_stage": e.lifecycle_stage,
        "last_update_time": e.last_update_time,
        "creation_time": e.creation_time,
    }
    if e.tags:
        out["tags"] = key_values_json(e.tags)
    return out


def metric_json(m: Metric) -> dict[str, Any]:
    return {"key": m.key, "value": double_json(m.value), "timestamp": m.timestamp, "step": m.step}


def run_info_json(i: RunInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": i.run_id,
        "run_uuid": i.run_id,
        "run_name": i.run_name,
        "experiment_id": i.experiment_id,
        "user_id": i.user_id,
        "status": i.status.value,
        "start_time": i.start_time,
        "artifact_uri": i.artifact_uri,
        "lifecycle_stage": i.lifecycle_stage,
    }
    if i.end_time is not None:
        out["end_time"] = i.end_time
    return out


def run_input_json(i: RunInput) -> dict[str, Any]:
    """MLflow's DatasetInput: the dataset, and the context as its ``mlflow.data.context`` tag."""
    dataset: dict[str, Any] = {
        "name": i.name,
        "digest": i.digest,
        "source_type": i.source_type,
        "source": i.source,
    }
    if i.schema is not None:
        dataset["schema"] = i.schema
    if i.profile is not None:
        dataset["profile"] = i.profile
    out: dict[str, Any] = {"dataset": dataset}
    if i.context:
        out["tags"] = [{"key": "mlflow.data.context", "value": i.context}]
    return out


def run_json(r: Run) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if r.data.metrics:
        data["metrics"] = [metric_json(m) for m in r.data.metrics.values()]
    if r.data.params:
        data["params"] = key_values_json(r.data.params)
    if r.data.tags:
        data["tags"] = key_values_json(r.data.tags)
    inputs: dict[str, Any] = {}
    if r.inputs:
        inputs["dataset_inputs"] = [run_input_json(i) for i in r.inputs]
    return {"info": run_info_json(r.info), "data": data, "inputs": inputs}


# ---- MLflow JSON -> records (for stead's own remote client) -------------------------

def experiment_from_json(d: Mapping[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=str(d["experiment_id"]),
        name=d.get("name", ""),
        artifact_location=d.get("artifact_location", ""),
        lifecycle_stage=d.get("lifecycle_stage", "active"),
        creation_time=int(d.get("creation_time", 0)),
        last_update_time=int(d.get("last_update_time", 0)),
        tags=key_values_from_json(d.get("tags")),
    )


def metric_from_json(d: Mapping[str, Any]) -> Metric:
    return Metric(d["key"], parse_double(d.get("value"), "value"), int(d.get("timestamp", 0)), int(d.get("step", 0)))


def run_info_from_json(d: Mapping[str, Any]) -> RunInfo:
    end = d.get("end_time")
    return RunInfo(
        run_id=d.get("run_id") or d["run_uuid"],
        experiment_id=str(d.get("experiment_id", "0")),
        run_name=d.get("run_name", ""),
        user_id=d.get("user_id", ""),
        status=RunStatus(d.get("status", "RUNNING")),
        start_time=int(d.get("start_time", 0)),
        end_time=None if end is None else int(end),
        artifact_uri=d.get("artifact_uri", ""),
        lifecycle_stage=d.get("lifecycle_stage", "active"),
    )


def run_from_json(d: Mapping[str, Any]) -> Run:
    data = d.get("data") or {}
    tags = key_values_from_json(data.get("tags"))
    info = run_info_from_json(d["info"])
    if tags.get("mlflow.parentRunId"):
        info = replace(info, parent_run_id=tags["mlflow.parentRunId"])
    inputs = []
    for item in (d.get("inputs") or {}).get("dataset_inputs") or []:
        ds = item.get("dataset") or {}
        inputs.append(RunInput(
            name=ds.get("name", ""), digest=ds.get("digest", ""), source_type=ds.get("source_type", ""),
            source=ds.get("source", ""), schema=ds.get("schema"), profile=ds.get("profile"),
            context=key_values_from_json(item.get("tags")).get("mlflow.data.context", ""),
        ))
    metrics = {m["key"]: metric_from_json(m) for m in data.get("metrics") or []}
    return Run(info, RunData(metrics, key_values_from_json(data.get("params")), tags), tuple(inputs))
