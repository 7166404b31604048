"""The MLmodel file: the YAML at the root of a model directory, in MLflow's layout.

Reading treats every field as hostile: the file must be a small YAML mapping, flavors
must be mappings, and the signature must parse. Which code may load the model and which
files it may open are decided later (``stead.models.flavors``, ``stead.models.paths``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from stead.errors import InvalidParameter, NotFound
from stead.models.signature import ModelSignature

__all__ = ["MLMODEL_FILE", "PYFUNC", "MLmodel"]

MLMODEL_FILE = "MLmodel"
PYFUNC = "python_function"
_MAX_BYTES = 1 << 20
_KNOWN = {
    "artifact_path", "run_id", "flavors", "signature", "saved_input_example_info", "model_uuid",
    "utc_time_created", "mlflow_version", "metadata", "model_size_bytes",
}


def _now() -> str:
    # MLflow writes a naive UTC timestamp: '2026-01-12 05:17:31.634689'
    return str(datetime.now(timezone.utc).replace(tzinfo=None))


@dataclass
class MLmodel:
    """The parsed MLmodel file. Unknown keys are kept in ``extra`` and written back."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifact_path: str | None = None
    run_id: str | None = None
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    utc_time_created: str = field(default_factory=_now)
    mlflow_version: str | None = None
    metadata: dict[str, Any] | None = None
    model_size_bytes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pyfunc(self) -> dict[str, Any]:
        conf = self.flavors.get(PYFUNC)
        if conf is None:
            raise InvalidParameter(
                f"The model has no '{PYFUNC}' flavor (it has {', '.join(self.flavors) or 'none'}), "
                "so it cannot be loaded for prediction"
            )
        return conf

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.artifact_path is not None:
            d["artifact_path"] = self.artifact_path
        d["flavors"] = self.flavors
        if self.metadata is not None:
            d["metadata"] = self.metadata
        if self.mlflow_version is not None:
            d["mlflow_version"] = self.mlflow_version
        if self.model_size_bytes is not None:
            d["model_size_bytes"] = self.model_size_bytes
        d["model_uuid"] = self.model_uuid
        if self.run_id is not None:
            d["run_id"] = self.run_id
        if self.saved_input_example_info is not None:
            d["saved_input_example_info"] = self.saved_input_example_info
        if self.signature is not None:
            d["signature"] = self.signature.to_dict()
        d["utc_time_created"] = self.utc_time_created
        d.update(self.extra)
        return d

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), default_flow_style=False)

    def save(self, model_dir: str | Path) -> None:
        Path(model_dir, MLMODEL_FILE).write_text(self.to_yaml(), encoding="utf-8")

    @classmethod
    def from_dict(cls, d: Any) -> "MLmodel":
        if not isinstance(d, dict):
            raise InvalidParameter("MLmodel file must be a YAML mapping")
        flavors = d.get("flavors") or {}
        if not isinstance(flavors, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in flavors.items()
        ):
            raise InvalidParameter("MLmodel 'flavors' must map flavor names to mappings")
        example = d.get("saved_input_example_info")
        if example is not None and not isinstance(example, dict):
            raise InvalidParameter("MLmodel 'saved_input_example_info' must be a mapping")
        metadata = d.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidParameter("MLmodel 'metadata' must be a mapping")

        def text(key: str) -> str | None:
            value = d.get(key)
            return None if value is None else str(value)

        size = d.get("model_size_bytes")
        return cls(
            flavors=flavors,
            artifact_path=text("artifact_path"),
            run_id=text("run_id"),
            signature=ModelSignature.from_dict(d["signature"]) if d.get("signature") else None,
            saved_input_example_info=example,
            model_uuid=text("model_uuid") or "",
            utc_time_created=text("utc_time_created") or "",
            mlflow_version=text("mlflow_version"),
            metadata=metadata,
            model_size_bytes=size if isinstance(size, int) else None,
            extra={k: v for k, v in d.items() if k not in _KNOWN},
        )

    @classmethod
    def load(cls, model_dir: str | Path) -> "MLmodel":
        path = Path(model_dir, MLMODEL_FILE)
        if not path.is_file():
            raise NotFound(f"No MLmodel file in {model_dir}; is this a model directory?")
        if path.stat().st_size > _MAX_BYTES:
            raise InvalidParameter(f"{path} is larger than 1 MiB; refusing to parse it")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InvalidParameter(f"{path} is not valid YAML: {exc}") from exc
        return cls.from_dict(data)
