"""What the registry copies from a model directory's MLmodel file: flavors and signature.

Read with ``yaml.safe_load`` (no code runs), tolerant of a missing or odd file: the
registry records what it finds and never refuses a version because of its MLmodel.
"""

from __future__ import annotations

import json
from typing import Any

from stead.artifacts.base import ArtifactStore
from stead.errors import SteadError

__all__ = ["read_model_meta"]

_MAX_MLMODEL_BYTES = 1 << 20


def read_model_meta(store: ArtifactStore, path: str) -> tuple[list[str], dict[str, Any] | None]:
    """(flavor names, signature) of the MLmodel at ``path``/MLmodel in ``store``."""
    import yaml

    mlmodel = f"{path}/MLmodel" if path else "MLmodel"
    try:
        if not store.exists(mlmodel):
            return [], None
        data = store.get_bytes(mlmodel)
    except (SteadError, OSError):
        return [], None
    if len(data) > _MAX_MLMODEL_BYTES:
        return [], None
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError:
        return [], None
    if not isinstance(doc, dict):
        return [], None
    flavors = sorted(str(k) for k in (doc.get("flavors") or {}) if isinstance(doc.get("flavors"), dict))
    raw = doc.get("signature")
    signature: dict[str, Any] | None = None
    if isinstance(raw, dict):
        signature = {}
        for key in ("inputs", "outputs", "params"):
            value = raw.get(key)
            if isinstance(value, str):  # MLflow stores each part as a JSON string
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            if value is not None:
                signature[key] = value
    return flavors, signature
