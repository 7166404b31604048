"""Registering the churn model as `staging`: through stead.registry when it is installed.

When this stead has no registry (``import stead.registry`` fails), the model stays a run
artifact (``runs:/<id>/model``, already logged by the train step) and the run is tagged
``stead.pending_alias=<name>@staging``, so a later `stead models` call can finish the job.
The returned dict says which of the two happened.
"""

from __future__ import annotations

from typing import Any


def register_staging(name: str, model_uri: str, accuracy: float) -> dict[str, Any]:
    import stead

    run_id = model_uri.split("/")[1]
    try:
        from stead.registry.client import RegistryClient
    except ImportError:
        stead.get_client().set_tag(run_id, "stead.pending_alias", f"{name}@staging")
        return {"registered": False, "model_uri": model_uri, "accuracy": accuracy,
                "note": "stead.registry is not installed; the model is a run artifact, tagged for staging"}
    registry = RegistryClient.from_tracking(stead.get_client())
    version = registry.register_model(model_uri, name, tags={"accuracy": f"{accuracy:.4f}"})
    registry.set_alias(name, "staging", version.version, reason=f"holdout accuracy {accuracy:.3f}")
    print(f"registered {name} version {version.version} as {name}@staging")
    return {"registered": True, "name": name, "version": int(version.version), "alias": "staging",
            "model_uri": model_uri, "accuracy": accuracy}
