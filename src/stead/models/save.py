"""``save_model``: write a model directory in MLflow's MLmodel layout."""

from __future__ import annotations

import platform
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stead.errors import AlreadyExists, InvalidParameter, NotFound
from stead.models.env import CONDA, PYTHON_ENV, write_env_files
from stead.models.example import as_model_input, save_example
from stead.models.trust import TRUST_KEY
from stead.models.flavors import detect, flavor_module, load_flavor
from stead.models.mlmodel import PYFUNC, MLmodel
from stead.models.signature import ModelSignature, infer_schema

__all__ = ["ModelInfo", "save_model"]

_CODE = "code"


@dataclass
class ModelInfo:
    """What was saved or logged; ``model_uri`` loads it back with ``stead.load_model``."""

    model_uri: str
    flavor: str
    flavors: dict[str, dict[str, Any]]
    model_uuid: str
    utc_time_created: str
    signature: ModelSignature | None
    saved_input_example_info: dict[str, Any] | None
    metadata: dict[str, Any] | None
    artifact_path: str | None = None
    run_id: str | None = None
    registered_model_version: int | None = None


def _copy_code(code_paths: list[str | Path], model_dir: Path) -> str:
    target = model_dir / _CODE
    target.mkdir()
    for item in code_paths:
        src = Path(item)
        if not src.exists():
            raise NotFound(f"code path {src} does not exist")
        if src.is_dir():
            shutil.copytree(src, target / src.name, symlinks=False)
        else:
            shutil.copy2(src, target / src.name)
    return _CODE


def _infer_outputs(name: str, model_dir: Path, mlmodel: MLmodel, example: Any) -> Any:
    """The output schema from the model's prediction on its example (None if it fails,
    as MLflow does: a signature without outputs is still useful)."""
    try:
        # the files were written just now from the caller's own object: reading them back trusts no one new
        predictor = load_flavor(name, model_dir, mlmodel, {TRUST_KEY: True})
        return infer_schema(predictor.predict(example, None))
    except Exception:
        return None


def save_model(
    model: Any,
    path: str | Path,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | None = None,
    pip_requirements: list[str] | None = None,
    code_paths: list[str | Path] | None = None,
    metadata: dict[str, Any] | None = None,
    _artifact_path: str | None = None,
    _run_id: str | None = None,
) -> ModelInfo:
    """Save ``model`` to the new directory ``path`` (MLflow's layout; MLflow can load it).

    The flavor is detected from the model's class unless given. Without a ``signature``
    one is inferred from ``input_example`` (inputs from the example, outputs from the
    model's prediction on it).

    Example: ``stead.save_model(clf, "churn-model", input_example=X.head(5))``
    """
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(f"Cannot save a model to {target}: it exists and is not an empty directory")
    name = flavor or detect(model)
    module = flavor_module(name)
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidParameter("metadata must be a dict")
    target.mkdir(parents=True, exist_ok=True)
    try:
        saved = module.save(model, target)
        pyfunc = dict(saved.pyfunc)
        flavor_conf = dict(saved.flavor) if saved.flavor is not None else None
        if code_paths:
            pyfunc["code"] = _copy_code(code_paths, target)
            if flavor_conf is not None:
                flavor_conf["code"] = pyfunc["code"]
        pyfunc["env"] = {"conda": CONDA, "virtualenv": PYTHON_ENV}
        pyfunc["python_version"] = platform.python_version()
        flavors = {PYFUNC: pyfunc}
        if flavor_conf is not None:
            flavors[name] = flavor_conf
        mlmodel = MLmodel(flavors=flavors, artifact_path=_artifact_path, run_id=_run_id, metadata=metadata)
        from stead import __version__

        mlmodel.extra["stead_version"] = __version__
        if input_example is not None:
            mlmodel.saved_input_example_info = save_example(input_example, target)
            if signature is None:
                example = as_model_input(input_example)
                outputs = _infer_outputs(name, target, mlmodel, example)
                signature = ModelSignature(infer_schema(example), outputs)
        mlmodel.signature = signature
        write_env_files(target, pip_requirements if pip_requirements is not None else saved.requirements)
        mlmodel.model_size_bytes = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
        mlmodel.save(target)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return ModelInfo(
        model_uri=str(target.resolve()),
        flavor=name,
        flavors=mlmodel.flavors,
        model_uuid=mlmodel.model_uuid,
        utc_time_created=mlmodel.utc_time_created,
        signature=mlmodel.signature,
        saved_input_example_info=mlmodel.saved_input_example_info,
        metadata=metadata,
        artifact_path=_artifact_path,
        run_id=_run_id,
    )
