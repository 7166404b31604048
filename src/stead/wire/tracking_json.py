"""Tracking records <-> MLflow's JSON shapes, and the request-field readers the routes share.

MLflow serialises its protobuf messages with proto field names, int64 as JSON numbers,
enums by name, doubles that are not finite as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, and leaves out unset fields and empty lists. A request may send int64
values as numbers or numeric strings (protobuf's JSON form); both are read here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from stead.errors import InvalidParameter
from stead.tracking.records import Experiment, Metric, Run, RunInfo, RunInput, RunStatus, ViewType

__all__ = [
    "experiment_json",
    "run_json",
    "run_info_json",
    "metric_json",
    "double_json",
    "parse_double",
    "req_str",
    "opt_str",
    "opt_int",
    "opt_list",
    "tags_of",
    "view_type_of",
    "run_status_of",
    "experiment_from_json",
    "metric_from_json",
    "run_info_from_json",
    "run_from_json",
]

_RUN_STATUS_BY_NUMBER = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_VIEW_TYPE_BY_NUMBER = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}
_INT64 = 2**63  # int64 fields: [-2**63, 2**63)
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "nan": math.nan,
               "inf": math.inf, "-inf": -math.inf}


def double_json(value: float) -> float | str:
    """A double as protobuf's JSON writes it: non-finite values become strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _tags_json(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


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
        out["tags"] = _tags_json(e.tags)
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


def _input_json(i: RunInput) -> dict[str, Any]:
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
        data["params"] = _tags_json(r.data.params)
    if r.data.tags:
        data["tags"] = _tags_json(r.data.tags)
    inputs: dict[str, Any] = {}
    if r.inputs:
        inputs["dataset_inputs"] = [_input_json(i) for i in r.inputs]
    return {"info": run_info_json(r.info), "data": data, "inputs": inputs}


# ---- reading request fields ---------------------------------------------------------

def _missing(name: str) -> InvalidParameter:
    return InvalidParameter(
        f"Missing value for required parameter '{name}'. See the API docs for more information "
        "about request parameters."
    )


def _scalar(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, list):  # a query string may repeat a key; the first one counts
        value = value[0] if value else None
    return value


def req_str(params: Mapping[str, Any], name: str, *alternatives: str) -> str:
    """A required string field (``alternatives`` are older names, e.g. ``run_uuid``)."""
    for key in (name, *alternatives):
        value = _scalar(params, key)
        if value not in (None, ""):
            if not isinstance(value, str):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise InvalidParameter(
                        f"Invalid value {value!r} for parameter '{key}' supplied: expected a string"
                    )
                value = str(value)
            return value
    raise _missing(name)


def opt_str(params: Mapping[str, Any], name: str) -> str | None:
    value = _scalar(params, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: expected a string")
    return value


def opt_int(params: Mapping[str, Any], name: str) -> int | None:
    """An int64 field (MLflow's protos): a wider number is refused, not handed to the store."""
    value = _scalar(params, name)
    if value is None or value == "":
        return None
    number: int | None = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            pass
    if number is None:
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: expected an integer")
    if not -_INT64 <= number < _INT64:
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: it does not fit in 64 bits")
    return number


def opt_list(params: Mapping[str, Any], name: str) -> list[Any]:
    value = params.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def parse_double(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: expected a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        try:
            return float(value)
        except ValueError:
            pass
    if value is None:
        raise _missing(name)
    raise InvalidParameter(f"Invalid value {value!r} for parameter '{name}' supplied: expected a number")


def tags_of(params: Mapping[str, Any], name: str = "tags") -> list[tuple[str, str]]:
    """``[{"key": k, "value": v}, ...]`` as pairs; a missing value is the empty string."""
    out = []
    for item in opt_list(params, name):
        if not isinstance(item, dict):
            raise InvalidParameter(f"Invalid value {item!r} in '{name}': expected {{'key': ..., 'value': ...}}")
        key = item.get("key")
        if key is None:
            raise _missing(f"{name}.key")
        value = item.get("value", "")
        out.append((key, "" if value is None else value))
    return out


def view_type_of(params: Mapping[str, Any], name: str) -> ViewType:
    value = _scalar(params, name)
    if value in (None, ""):
        return ViewType.ACTIVE_ONLY
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = _VIEW_TYPE_BY_NUMBER.get(value, value)
    try:
        return ViewType(value)
    except ValueError:
        raise InvalidParameter(
            f"Invalid value {value!r} for parameter '{name}': use ACTIVE_ONLY, DELETED_ONLY or ALL"
        ) from None


def run_status_of(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = _RUN_STATUS_BY_NUMBER.get(value, value)
    try:
        return RunStatus(value).value
    except ValueError:
        raise InvalidParameter(
            f"Invalid value {value!r} for parameter 'status': use one of {[s.value for s in RunStatus]}"
        ) from None


# ---- MLflow JSON -> records (for stead's own remote client) -------------------------

def _pairs(items: Any) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in items or []}


def experiment_from_json(d: Mapping[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=str(d["experiment_id"]),
        name=d.get("name", ""),
        artifact_location=d.get("artifact_location", ""),
        lifecycle_stage=d.get("lifecycle_stage", "active"),
        creation_time=int(d.get("creation_time", 0)),
        last_update_time=int(d.get("last_update_time", 0)),
        tags=_pairs(d.get("tags")),
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
    from stead.tracking.records import RunData

    data = d.get("data") or {}
    tags = _pairs(data.get("tags"))
    info = run_info_from_json(d["info"])
    if tags.get("mlflow.parentRunId"):
        from dataclasses import replace

        info = replace(info, parent_run_id=tags["mlflow.parentRunId"])
    inputs = []
    for item in (d.get("inputs") or {}).get("dataset_inputs") or []:
        ds = item.get("dataset") or {}
        inputs.append(RunInput(
            name=ds.get("name", ""), digest=ds.get("digest", ""), source_type=ds.get("source_type", ""),
            source=ds.get("source", ""), schema=ds.get("schema"), profile=ds.get("profile"),
            context=_pairs(item.get("tags")).get("mlflow.data.context", ""),
        ))
    metrics = {m["key"]: metric_from_json(m) for m in data.get("metrics") or []}
    return Run(info, RunData(metrics, _pairs(data.get("params")), tags), tuple(inputs))
