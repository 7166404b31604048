"""PyTorch models: TorchScript (``torch.jit.save``, no pickle) or an eager ``nn.Module``
(the module pickled with cloudpickle, as MLflow does, plus its plain state dict).

Both go to ``data/model.pth`` with MLflow's ``pickle_module_info.txt``, so
``mlflow.pytorch`` loads what stead saves. ``data/state_dict.pth`` holds only tensors: a
caller who has the class can rebuild the model from it with ``load_state_dict`` without
unpickling any code (``torch.load(..., weights_only=True)``).

``model_config`` key ``device`` (MLflow's name): ``cpu`` (the default), ``cuda``,
``cuda:N`` or ``auto`` (the GPU when PyTorch sees one). The model is loaded onto that device
and each batch is moved there and its answer back.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from stead.errors import InvalidParameter
from stead.models.env import pinned
from stead.models.flavors import Saved, require
from stead.models.mlmodel import PYFUNC, MLmodel
from stead.models.paths import inside
from stead.models.trust import require_trust

NAME = "pytorch"
LOADER = "mlflow.pytorch"
_DATA = "data"
_MODEL = "model.pth"
_STATE = "state_dict.pth"
_PICKLE_INFO = "pickle_module_info.txt"
_MLFLOW_PICKLE = "mlflow.pytorch.pickle_module"  # cloudpickle, re-exported by MLflow
_DEVICE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")


def _torch(feature: str) -> Any:
    # the pyproject extra is `torch`; see docs/models.md
    return require("torch", feature, "torch")


def save(model: Any, model_dir: Path) -> Saved:
    torch = _torch("Saving a PyTorch model")
    data = model_dir / _DATA
    data.mkdir()
    flavor: dict[str, Any] = {"code": None, "model_data": _DATA, "pytorch_version": str(torch.__version__)}
    if isinstance(model, torch.jit.ScriptModule):
        torch.jit.save(model, str(data / _MODEL))
        flavor["stead_format"] = "torchscript"
    elif isinstance(model, torch.nn.Module):
        cloudpickle = require("cloudpickle", "Saving a PyTorch module", "torch")
        torch.save(model, str(data / _MODEL), pickle_module=cloudpickle)
        torch.save(model.state_dict(), str(data / _STATE))
        flavor["stead_format"] = "module"
        flavor["state_dict"] = f"{_DATA}/{_STATE}"
        flavor["model_class"] = f"{type(model).__module__}.{type(model).__qualname__}"
    else:
        raise InvalidParameter(f"The pytorch flavor saves torch.nn.Module objects, not {type(model).__qualname__}")
    (data / _PICKLE_INFO).write_text(_MLFLOW_PICKLE, encoding="utf-8")
    pyfunc = {
        "loader_module": LOADER,
        "data": _DATA,
        "pickle_module_name": _MLFLOW_PICKLE,
        "model_config": {"device": None},
    }
    reqs = [p for p in (pinned("torch"), pinned("cloudpickle")) if p]
    return Saved(flavor, pyfunc, reqs)


class _Predictor:
    def __init__(self, raw: Any, device: str = "cpu") -> None:
        self.raw = raw
        self.device = device

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        torch = _torch("Predicting with a PyTorch model")
        frame = hasattr(data, "columns")
        if frame:
            array = data.to_numpy(dtype=np.float32)
        elif isinstance(data, dict):
            if len(data) != 1:
                raise InvalidParameter("A PyTorch model takes one tensor; pass an array or a one-entry dict")
            array = np.asarray(next(iter(data.values())))
        else:
            array = np.asarray(data)
        with torch.no_grad():
            out = self.raw(torch.from_numpy(np.ascontiguousarray(array)).to(self.device))
        result = out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
        if frame:
            import pandas as pd

            return pd.DataFrame(result)
        return result


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith("constants.pkl") or "/code/" in n for n in zf.namelist())
    except zipfile.BadZipFile:
        return False


def check_device(wanted: object) -> str:
    """``wanted`` as a device setting (None is cpu), or ``InvalidParameter``."""
    name = "cpu" if wanted is None else wanted
    if not isinstance(name, str) or not _DEVICE.match(name):
        raise InvalidParameter(f"PyTorch device {wanted!r} is not one of cpu, cuda, cuda:N or auto")
    return name


def device_for(torch: Any, wanted: object) -> str:
    """The torch device a ``device`` setting names; a GPU that is asked for must exist."""
    name = check_device(wanted)
    has_gpu = bool(torch.cuda.is_available())
    if name == "auto":
        return "cuda" if has_gpu else "cpu"
    if name.startswith("cuda"):
        index = int(name.partition(":")[2] or 0)
        count = torch.cuda.device_count() if has_gpu else 0
        if index >= count:
            raise InvalidParameter(
                f"PyTorch device {name!r} was asked for, but PyTorch sees {count} CUDA GPU(s) on this machine; "
                "use --device cpu (or auto), or run where the GPU is")
    return name


def load(model_dir: Path, mlmodel: MLmodel, config: Mapping[str, Any] | None = None) -> _Predictor:
    torch = _torch("Loading a PyTorch model")
    device = device_for(torch, (config or {}).get("device"))
    conf = mlmodel.flavors.get(NAME) or {}
    data = inside(model_dir, conf.get("model_data") or mlmodel.flavors.get(PYFUNC, {}).get("data") or _DATA,
                  "pytorch model_data")
    path = data / _MODEL if data.is_dir() else data
    if data.is_dir() and not path.exists():
        raise InvalidParameter(f"{model_dir} has no {_DATA}/{_MODEL}; stead loads pickled and TorchScript PyTorch models")
    path = inside(model_dir, str(path.relative_to(Path(model_dir).resolve())), "pytorch model file")
    if conf.get("stead_format") == "torchscript" or _is_torchscript(path):
        model = torch.jit.load(str(path), map_location=device)
    else:
        # pickle_module_info.txt names a module; it is never imported, only checked.
        info = data / _PICKLE_INFO if data.is_dir() else None
        name = info.read_text(encoding="utf-8").strip() if info and info.is_file() else _MLFLOW_PICKLE
        if name not in (_MLFLOW_PICKLE, "cloudpickle", "pickle"):
            raise InvalidParameter(f"MLmodel pickle module {name!r} is not cloudpickle or pickle")
        require_trust(config, path, "a pickled PyTorch module (TorchScript models need no opt-in)")
        # cloudpickle output is read by the standard unpickler (cloudpickle has no Unpickler)
        model = torch.load(str(path), map_location=device, weights_only=False, pickle_module=pickle)
    model.to(device)
    model.eval()
    return _Predictor(model, device)
