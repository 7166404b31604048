"""Registry records: plain dataclasses with no I/O, shared by the embedded and REST backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "STAGES",
    "ACTIVE_STAGES",
    "READY",
    "RegisteredModel",
    "ModelVersion",
    "AliasEvent",
]

# MLflow's legacy stages, in MLflow's spelling; "None" is a string, as MLflow sends it.
STAGES = ("None", "Staging", "Production", "Archived")
ACTIVE_STAGES = ("Staging", "Production")
READY = "READY"  # ModelVersionStatus: PENDING_REGISTRATION, FAILED_REGISTRATION, READY


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model: where its files are and where it came from.

    ``storage_location`` is the artifact URI to download the model directory from;
    ``source`` is what the caller gave (``runs:/...``, ``mlflow-artifacts:/...``, a URI).
    ``metrics``, ``datasets`` and ``git_commit`` are copied from the run at registration.
    """

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    source: str
    storage_location: str
    run_id: str | None = None
    run_link: str | None = None
    user_id: str = ""
    current_stage: str = "None"
    description: str = ""
    status: str = READY
    status_message: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    logged_model_id: str | None = None
    signature: dict[str, Any] | None = None
    flavors: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    datasets: tuple[dict[str, Any], ...] = ()
    git_commit: str | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class RegisteredModel:
    """A named model; ``aliases`` maps alias -> version, ``latest_versions`` is one per stage."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: tuple[ModelVersion, ...] = ()


@dataclass(frozen=True)
class AliasEvent:
    """One entry of the alias audit log: ``alias`` moved from ``from_version`` to ``to_version``.

    ``action`` is ``set``, ``delete`` or ``rollback``; a version of None means "no version"
    (the alias was created, or deleted).
    """

    id: int
    name: str
    alias: str
    action: str
    from_version: int | None
    to_version: int | None
    user_id: str
    reason: str
    timestamp: int
