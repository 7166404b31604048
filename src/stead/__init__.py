"""stead: a self-hosted machine-learning lifecycle platform.

``import stead`` is kept fast: the public functions are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead._lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    # tracking
    "start_run": "stead.tracking.fluent",
    "end_run": "stead.tracking.fluent",
    "active_run": "stead.tracking.fluent",
    "set_experiment": "stead.tracking.fluent",
    "log_param": "stead.tracking.fluent",
    "log_params": "stead.tracking.fluent",
    "log_metric": "stead.tracking.fluent",
    "log_metrics": "stead.tracking.fluent",
    "set_tag": "stead.tracking.fluent",
    "set_tags": "stead.tracking.fluent",
    "log_artifact": "stead.tracking.fluent",
    "log_artifacts": "stead.tracking.fluent",
    "log_text": "stead.tracking.fluent",
    "set_seed": "stead.tracking.fluent",
    "flush": "stead.tracking.fluent",
    "get_client": "stead.tracking.fluent",
    "TrackingClient": "stead.tracking.client",
    "Client": "stead.tracking.client",
    # data (a dataset version as an input of the active run)
    "log_input": "stead.data.lineage",
    # models
    "save_model": "stead.models.save",
    "log_model": "stead.models.log",
    "load_model": "stead.models.pyfunc",
    # pipelines
    "step": "stead.pipelines.dsl",
    "pipeline": "stead.pipelines.runnable",
    "when": "stead.pipelines.dsl",
    "run_pipeline": "stead.pipelines.runner",
    # registry
    "register_model": "stead.registry",
    "RegistryClient": "stead.registry.client",
    # settings and errors
    "Settings": "stead.config",
    "load_settings": "stead.config",
    "SteadError": "stead.errors",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:
    from stead.config import Settings, load_settings
    from stead.data.lineage import log_input
    from stead.errors import SteadError
    from stead.models.log import log_model
    from stead.models.pyfunc import load_model
    from stead.models.save import save_model
    from stead.pipelines.dsl import step, when
    from stead.pipelines.runnable import pipeline
    from stead.pipelines.runner import run_pipeline
    from stead.registry import register_model
    from stead.registry.client import RegistryClient
    from stead.tracking.client import TrackingClient
    from stead.tracking.client import TrackingClient as Client
    from stead.tracking.fluent import (
        active_run,
        end_run,
        flush,
        get_client,
        log_artifact,
        log_artifacts,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        set_experiment,
        set_seed,
        set_tag,
        set_tags,
        start_run,
    )


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, aliases={"Client": "TrackingClient"})
