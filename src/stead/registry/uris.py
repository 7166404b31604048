"""Model URIs: ``models:/churn/3``, ``models:/churn@production``, ``runs:/<id>/model``.

``resolve_model_uri(uri, client)`` turns any of them into the artifact URI of the model
directory (a local path, ``s3://...`` or ``mlflow-artifacts:/...``), which
``client.artifacts_at(location)`` opens. Every place that takes a model (load, serve,
deploy, download) goes through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stead.errors import InvalidParameter
from stead.registry.names import check_model_name

if TYPE_CHECKING:
    from stead.tracking.client import TrackingClient

__all__ = ["ModelRef", "parse_model_uri", "resolve_model_uri"]

_MODELS = re.compile(r"^models:/(?P<rest>[^/]+(?:/[^/]+)?)/?$")
_LOGGED_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


@dataclass(frozen=True)
class ModelRef:
    """What a ``models:/`` URI names: one of version, alias or stage (None for latest)."""

    name: str
    version: int | None = None
    alias: str | None = None
    stage: str | None = None


def parse_model_uri(uri: str) -> ModelRef:
    """Parse ``models:/<name>/<version|stage|latest>`` or ``models:/<name>@<alias>``."""
    match = _MODELS.match(uri or "") if isinstance(uri, str) else None
    if not match:
        raise InvalidParameter(
            f"Invalid model URI {uri!r}: write models:/<name>/<version> or models:/<name>@<alias>, "
            "e.g. models:/churn/3 or models:/churn@production"
        )
    rest = match["rest"]
    if "/" in rest:
        name, which = rest.split("/", 1)
        name = check_model_name(name)
        if which.isdigit():
            return ModelRef(name, version=int(which))
        return ModelRef(name, stage=which)
    if "@" in rest:
        name, alias = rest.rsplit("@", 1)
        if not alias:
            raise InvalidParameter(f"Invalid model URI {uri!r}: the alias after '@' is empty")
        return ModelRef(check_model_name(name), alias=alias)
    raise InvalidParameter(
        f"Invalid model URI {uri!r}: name a version or an alias, e.g. models:/{rest}/1 or models:/{rest}@production"
    )


def resolve_model_uri(uri: str, client: "TrackingClient | None" = None) -> str:
    """The artifact URI of the model directory that ``uri`` names.

    ``models:/...`` is looked up in the registry (embedded store or stead server, as the
    client's settings say); ``runs:/<id>/<path>`` becomes the run's artifact folder plus
    the path. Any other URI is returned unchanged.
    """
    if not isinstance(uri, str):
        raise InvalidParameter(f"Model URI must be a string, got {type(uri).__name__}")
    if uri.startswith("runs:"):
        from stead.registry.sources import join_uri, parse_runs_uri
        from stead.tracking.client import TrackingClient

        run_id, path = parse_runs_uri(uri)
        tracking = client or TrackingClient()
        return join_uri(tracking.get_run(run_id).info.artifact_uri, path)
    if uri.startswith("models:"):
        from stead.registry.client import RegistryClient

        registry = RegistryClient.from_tracking(client)
        location = registry.resolve(uri).storage_location
        if location.startswith("models:/"):  # an MLflow 3 logged model: the registry has no files for it
            raise InvalidParameter(
                f"{uri} points to the MLflow logged model {location}, whose files stead cannot locate; "
                "register the model from its run instead (runs:/<run_id>/<path>)"
            )
        return location
    return uri
