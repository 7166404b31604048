"""Input examples, saved as MLflow saves them: ``input_example.json`` (the data) and
``serving_input_example.json`` (a request body for ``POST /invocations``)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from stead.errors import InvalidParameter

__all__ = ["EXAMPLE_FILE", "SERVING_FILE", "save_example", "as_model_input"]

EXAMPLE_FILE = "input_example.json"
SERVING_FILE = "serving_input_example.json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise InvalidParameter(f"Input example holds a {type(value).__name__}, which cannot be written as JSON")


def _is_frame(data: Any) -> bool:
    return type(data).__module__.startswith("pandas") and type(data).__name__ == "DataFrame"


def as_model_input(example: Any) -> Any:
    """The example as the model sees it: records become a DataFrame, lists an array."""
    if isinstance(example, list) and example and all(isinstance(r, dict) for r in example):
        import pandas as pd

        return pd.DataFrame.from_records(example)
    if isinstance(example, (list, tuple)):
        return np.asarray(example)
    return example


def save_example(example: Any, model_dir: Path) -> dict[str, Any]:
    """Write the example files; return ``saved_input_example_info`` for the MLmodel file."""
    info: dict[str, Any] = {"artifact_path": EXAMPLE_FILE, "serving_input_path": SERVING_FILE}
    if _is_frame(example):
        frame = example.astype(object).where(example.notna(), None)
        body: Any = {"columns": [str(c) for c in example.columns], "data": frame.to_numpy().tolist()}
        if list(example.columns) == list(range(example.shape[1])):
            body.pop("columns")
        info.update(type="dataframe", pandas_orient="split" if "columns" in body else "values")
        serving: Any = {"dataframe_split": body}
    elif isinstance(example, np.ndarray) or (
        isinstance(example, dict) and example and all(isinstance(v, np.ndarray) for v in example.values())
    ):
        body = example
        info["type"] = "ndarray"
        serving = {"inputs": body}
    elif isinstance(example, (dict, list)):
        body = example
        info["type"] = "json_object"
        serving = {"inputs": body}
    else:
        raise InvalidParameter(
            f"Input example must be a DataFrame, numpy array, dict or list of records, not {type(example).__name__}"
        )
    (model_dir / EXAMPLE_FILE).write_text(json.dumps(_jsonable(body)), encoding="utf-8")
    (model_dir / SERVING_FILE).write_text(json.dumps(_jsonable(serving), indent=2), encoding="utf-8")
    return info
