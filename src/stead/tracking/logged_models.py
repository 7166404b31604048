"""MLflow 3 logged models: what they are and where their files live.

A logged model (``mlflow.<flavor>.log_model`` creates one per call) belongs to an
experiment; its files live under the experiment's artifact location at
``<location>/models/<model_id>/artifacts`` (``mlflow-artifacts:/<exp>/models/<model_id>/
artifacts`` for experiments created through the server), exactly where MLflow's server puts
them. The server's endpoints (``stead.server.logged_models``) write the rows;
``models:/m-<id>`` URIs resolve through ``logged_model_location`` on an embedded store.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from stead.errors import NotFound
from stead.tracking.tables import logged_models

__all__ = ["MODEL_ID", "STATUSES", "artifact_location_for", "logged_model_location", "experiment_of_model",
           "not_found"]

MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")
# MLflow's LoggedModelStatus enum; the table stores the number.
STATUSES = {0: "LOGGED_MODEL_STATUS_UNSPECIFIED", 1: "LOGGED_MODEL_PENDING", 2: "LOGGED_MODEL_READY",
            3: "LOGGED_MODEL_UPLOAD_FAILED"}
_T = logged_models


def not_found(model_id: str) -> NotFound:
    """The error for a logged model that does not exist (or was deleted), in MLflow's words."""
    return NotFound(f"Logged model with ID '{model_id}' not found.")


def artifact_location_for(experiment_location: str, model_id: str) -> str:
    """Where a new logged model's files go, under its experiment's artifact location."""
    return f"{experiment_location.rstrip('/')}/models/{model_id}/artifacts"


def logged_model_location(store: Any, model_id: str) -> str:
    """The artifact location of logged model ``model_id`` (``NotFound`` if none or deleted)."""
    with store.read() as conn:
        location = conn.execute(select(_T.c.artifact_location).where(
            _T.c.model_id == model_id, _T.c.lifecycle_stage == "active")).scalar()
    if location is None:
        raise not_found(model_id)
    return str(location)


def experiment_of_model(store: Any, model_id: str) -> str | None:
    """The experiment id of a logged model (deleted ones included), or None."""
    with store.read() as conn:
        found = conn.execute(select(_T.c.experiment_id).where(_T.c.model_id == model_id)).scalar()
    return None if found is None else str(found)
