"""ONNX models, run with onnxruntime on the CPU (or the providers the MLmodel names and
this onnxruntime build has)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from stead.errors import InvalidParameter
from stead.models.env import pinned
from stead.models.flavors import Saved, require
from stead.models.mlmodel import PYFUNC, MLmodel
from stead.models.paths import inside

NAME = "onnx"
LOADER = "mlflow.onnx"
_FILE = "model.onnx"


def save(model: Any, model_dir: Path) -> Saved:
    onnx = require("onnx", "Saving an ONNX model", "onnx")
    onnx.save_model(model, str(model_dir / _FILE))
    flavor = {
        "code": None,
        "data": _FILE,
        "onnx_version": onnx.__version__,
        "providers": ["CPUExecutionProvider"],
    }
    reqs = [p for p in (pinned("onnx"), pinned("onnxruntime")) if p]
    return Saved(flavor, {"loader_module": LOADER, "data": _FILE}, reqs)


class _Predictor:
    def __init__(self, session: Any) -> None:
        self.raw = session
        self.inputs = [(i.name, i.type) for i in session.get_inputs()]
        self.outputs = [o.name for o in session.get_outputs()]

    def _feeds(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            feeds = {k: np.asarray(v) for k, v in data.items()}
        elif hasattr(data, "columns"):
            if len(self.inputs) > 1:
                feeds = {name: data[name].to_numpy() for name, _ in self.inputs}
            else:
                feeds = {self.inputs[0][0]: data.to_numpy()}
        else:
            if len(self.inputs) != 1:
                raise InvalidParameter(
                    f"This ONNX model takes {len(self.inputs)} inputs "
                    f"({', '.join(n for n, _ in self.inputs)}); pass a dict or a DataFrame"
                )
            feeds = {self.inputs[0][0]: np.asarray(data)}
        for name, kind in self.inputs:  # JSON decoding makes float64; the graph wants float32
            if kind == "tensor(float)" and name in feeds and feeds[name].dtype == np.float64:
                feeds[name] = feeds[name].astype(np.float32)
        return feeds

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        results = self.raw.run(self.outputs, self._feeds(data))
        out = dict(zip(self.outputs, (np.asarray(r) for r in results)))
        if hasattr(data, "columns"):
            import pandas as pd

            return pd.DataFrame({k: (list(v) if v.ndim > 1 else v) for k, v in out.items()})
        return out


def load(model_dir: Path, mlmodel: MLmodel, config: Mapping[str, Any] | None = None) -> _Predictor:
    ort = require("onnxruntime", "Loading an ONNX model", "onnx")
    conf = mlmodel.flavors.get(NAME) or {}
    path = inside(model_dir, conf.get("data") or mlmodel.flavors.get(PYFUNC, {}).get("data"), "onnx data path")
    wanted = conf.get("providers") or ["CPUExecutionProvider"]
    if isinstance(wanted, str):
        wanted = [wanted]
    available = set(ort.get_available_providers())
    providers = [p for p in wanted if isinstance(p, str) and p in available] or ["CPUExecutionProvider"]
    return _Predictor(ort.InferenceSession(str(path), providers=providers))
