"""Model serving: the Open Inference Protocol and MLflow scoring over one model runtime,
adaptive batching, deployments with canary / A-B / shadow variants, hot model swaps and a
prediction log. ``create_serving_app`` (in ``stead.serving.app``) is the composition root.

Nothing here is imported by ``import stead``; the server modules load Starlette on use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead._lazy import lazy_exports

if TYPE_CHECKING:
    from stead.serving.app import ServeOptions, create_serving_app
    from stead.serving.deployments import Deployment, Deployments, Variant

__all__ = ["ServeOptions", "create_serving_app", "Deployment", "Deployments", "Variant"]

_LAZY = {
    "ServeOptions": "stead.serving.app",
    "create_serving_app": "stead.serving.app",
    "Deployment": "stead.serving.deployments",
    "Deployments": "stead.serving.deployments",
    "Variant": "stead.serving.deployments",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
