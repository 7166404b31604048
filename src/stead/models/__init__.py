"""Model directories in MLflow's MLmodel layout: save, log, load, predict, signatures.

Heavy libraries (scikit-learn, XGBoost, PyTorch, onnxruntime, pandas) are imported only
when a model of their flavor is saved or loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead._lazy import lazy_exports

__all__ = [
    "save_model",
    "log_model",
    "load_model",
    "ModelInfo",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "ModelSignature",
    "infer_signature",
    "MLmodel",
]

_LAZY = {
    "save_model": "stead.models.save",
    "ModelInfo": "stead.models.save",
    "log_model": "stead.models.log",
    "load_model": "stead.models.pyfunc",
    "PyFuncModel": "stead.models.pyfunc",
    "PythonModel": "stead.models.flavors.python_model",
    "PythonModelContext": "stead.models.flavors.python_model",
    "ModelSignature": "stead.models.signature",
    "infer_signature": "stead.models.signature",
    "MLmodel": "stead.models.mlmodel",
}

if TYPE_CHECKING:
    from stead.models.flavors.python_model import PythonModel, PythonModelContext
    from stead.models.log import log_model
    from stead.models.mlmodel import MLmodel
    from stead.models.pyfunc import PyFuncModel, load_model
    from stead.models.save import ModelInfo, save_model
    from stead.models.signature import ModelSignature, infer_signature


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
