"""XGBoost models (Booster or the scikit-learn wrappers), saved in XGBoost's own format."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stead.errors import InvalidParameter
from stead.models.env import pinned
from stead.models.flavors import Saved, require
from stead.models.mlmodel import PYFUNC, MLmodel
from stead.models.paths import inside

NAME = "xgboost"
LOADER = "mlflow.xgboost"
_FORMAT = "ubj"
# model_class is read from the MLmodel file, so it selects from this list and is never imported.
_CLASSES = {
    "xgboost.core.Booster": "Booster",
    "xgboost.sklearn.XGBClassifier": "XGBClassifier",
    "xgboost.sklearn.XGBRegressor": "XGBRegressor",
    "xgboost.sklearn.XGBRanker": "XGBRanker",
    "xgboost.sklearn.XGBRFClassifier": "XGBRFClassifier",
    "xgboost.sklearn.XGBRFRegressor": "XGBRFRegressor",
}


def _xgb(feature: str) -> Any:
    return require("xgboost", feature, "xgboost")


def save(model: Any, model_dir: Path) -> Saved:
    xgb = _xgb("Saving an XGBoost model")
    model_class = f"{type(model).__module__}.{type(model).__qualname__}"
    if model_class not in _CLASSES:
        raise InvalidParameter(
            f"Cannot save {model_class} with the xgboost flavor; it saves {', '.join(_CLASSES)}"
        )
    data = f"model.{_FORMAT}"
    model.save_model(str(model_dir / data))
    flavor = {
        "code": None,
        "data": data,
        "model_class": model_class,
        "model_format": _FORMAT,
        "xgb_version": xgb.__version__,
    }
    return Saved(flavor, {"loader_module": LOADER, "data": data}, [p for p in [pinned("xgboost")] if p])


class _Predictor:
    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        xgb = _xgb("Predicting with an XGBoost model")
        if isinstance(self.raw, xgb.Booster):
            return self.raw.predict(xgb.DMatrix(data))
        return self.raw.predict(data)


def load(model_dir: Path, mlmodel: MLmodel, config: Mapping[str, Any] | None = None) -> _Predictor:
    xgb = _xgb("Loading an XGBoost model")
    conf = mlmodel.flavors.get(NAME) or {}
    model_class = conf.get("model_class", "xgboost.core.Booster")
    if model_class not in _CLASSES:
        raise InvalidParameter(f"MLmodel xgboost model_class {model_class!r} is not one of {', '.join(_CLASSES)}")
    rel = conf.get("data") or mlmodel.flavors.get(PYFUNC, {}).get("data")
    path = inside(model_dir, rel, "xgboost data path")
    model = getattr(xgb, _CLASSES[model_class])()
    model.load_model(str(path))
    return _Predictor(model)
