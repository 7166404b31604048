"""``log_model``: save a model into the active run's artifacts and, optionally, register it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from stead.errors import InvalidParameter, InvalidState
from stead.models.paths import private_tempdir
from stead.models.save import ModelInfo, save_model
from stead.models.signature import ModelSignature

__all__ = ["log_model"]


def _check_registry() -> None:
    """Fail before anything is written when registration cannot happen (kept as a seam)."""
    import stead.registry  # noqa: F401


def _register(model_uri: str, name: str, *, run_id: str, **future_kwargs: Any) -> int:
    """Create a version of registered model ``name`` from ``model_uri``; return its number."""
    from stead.registry import register_model

    return int(register_model(model_uri, name).version)


def log_model(
    model: Any,
    name: str,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | None = None,
    pip_requirements: list[str] | None = None,
    code_paths: list[str | Path] | None = None,
    metadata: dict[str, Any] | None = None,
    registered_model_name: str | None = None,
) -> ModelInfo:
    """Save ``model`` as artifact folder ``name`` of the active run; returns its
    ``runs:/<run_id>/<name>`` URI (and the registered version when asked to register).

    Example: ``with stead.start_run(): stead.log_model(clf, "model", input_example=X[:5])``
    """
    from stead.artifacts.paths import normalize_object_path
    from stead.tracking.fluent import active_run

    run = active_run()
    if run is None:
        raise InvalidState("log_model needs an active run: call it inside `with stead.start_run():`")
    artifact_path = normalize_object_path(name)
    if registered_model_name is not None:
        _check_registry()
    tmp = private_tempdir("stead-log-model-")
    try:
        local = tmp / "model"
        info = save_model(
            model, local, flavor=flavor, input_example=input_example, signature=signature,
            pip_requirements=pip_requirements, code_paths=code_paths, metadata=metadata,
            _artifact_path=artifact_path, _run_id=run.run_id,
        )
        run.client.log_artifacts(run.run_id, local, artifact_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info.model_uri = f"runs:/{run.run_id}/{artifact_path}"
    if registered_model_name is not None:
        info.registered_model_version = _register(info.model_uri, registered_model_name, run_id=run.run_id)
    return info
