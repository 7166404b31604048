"""Where a model URI's files are: ``models:/...``, ``models:/m-<id>`` and ``runs:/...``.

``resolve_model_uri(uri, client)`` turns any of them into the artifact URI of the model
directory (a local path, ``s3://...`` or ``mlflow-artifacts:/...``), which
``client.artifacts_at(location)`` opens. Every place that takes a model (load, serve,
deploy, download) goes through it. It sits above the registry and tracking clients it
asks; the parsing it starts from (``stead.registry.uris``) sits below them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead.errors import InvalidParameter
from stead.registry.uris import logged_model_id_of

if TYPE_CHECKING:
    from stead.tracking.client import TrackingClient

__all__ = ["resolve_model_uri", "logged_model_location"]


def resolve_model_uri(uri: str, client: "TrackingClient | None" = None) -> str:
    """The artifact URI of the model directory that ``uri`` names.

    ``models:/...`` is looked up in the registry (embedded store or stead server, as the
    client's settings say), ``models:/m-<id>`` (an MLflow 3 logged model, also what MLflow 3
    registers as a version's source) among the logged models; ``runs:/<id>/<path>`` becomes the run's artifact folder plus
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
        model_id = logged_model_id_of(uri)
        if model_id is not None:
            return logged_model_location(model_id, client)
        from stead.registry.client import RegistryClient

        registry = RegistryClient.from_tracking(client)
        location = registry.resolve(uri).storage_location
        model_id = logged_model_id_of(location)
        if model_id is not None:  # MLflow 3 registers models:/m-<id>: its files are the logged model's
            return logged_model_location(model_id, registry.tracking)
        return location
    return uri


def logged_model_location(model_id: str, client: "TrackingClient | None" = None) -> str:
    """The artifact location of an MLflow 3 logged model: asked of the stead server when the
    client is remote, read from the store when embedded (where a server's ``mlflow-artifacts:/``
    location is the same path under the shared artifact root)."""
    from stead.tracking.client import TrackingClient

    tracking = client or TrackingClient()
    settings = tracking.settings
    if settings.is_remote:
        from stead.registry.rest import RestRegistry

        rest = RestRegistry(settings)
        try:
            location = rest.logged_model_artifact_uri(model_id)
        finally:
            rest.close()
        if not location:
            raise InvalidParameter(f"The server sent no artifact location for logged model {model_id}")
        return location
    from stead.tracking.logged_models import logged_model_location as stored_location

    store = getattr(tracking.backend, "store", None)
    if store is None:
        from stead.store import open_store

        store = open_store(settings.resolved_store_url)
    location = stored_location(store, model_id)
    if location.startswith("mlflow-artifacts:"):
        from stead.artifacts.paths import normalize_artifact_path
        from stead.registry.sources import join_uri

        rest_path = location[len("mlflow-artifacts:"):]
        if rest_path.startswith("//"):
            rest_path = rest_path[2:].partition("/")[2]
        location = join_uri(settings.resolved_artifacts_url, normalize_artifact_path(rest_path.strip("/")))
    return location
