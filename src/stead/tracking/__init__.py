"""Experiment tracking: experiments, runs, params, metrics, tags, artifacts, search."""

from stead.tracking.client import TrackingClient
from stead.tracking.records import (
    Experiment,
    Metric,
    Page,
    Run,
    RunData,
    RunInfo,
    RunInput,
    RunStatus,
    ViewType,
)

__all__ = [
    "TrackingClient",
    "Experiment",
    "Metric",
    "Page",
    "Run",
    "RunData",
    "RunInfo",
    "RunInput",
    "RunStatus",
    "ViewType",
]
