"""Pipelines: a DAG of plain Python functions with cached, recorded, scalable steps.

Describe (``dsl``, ``graph``; ``runnable`` makes ``@pipeline`` callable); run (``runner``,
``walk``, ``inputs``, ``execute``, ``executors``); persist (``cache_key``, ``cache_lookup``,
``serializers``, ``records``, ``recording``, ``store``). Imports point from run to describe, never back; executors do
not import the runner. Importing this package stays light: the runner and its database
code load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stead._lazy import lazy_exports

from stead.pipelines.dsl import Condition, Output, Pipeline, Step, step, when
from stead.pipelines.runnable import pipeline

__all__ = [
    "step",
    "pipeline",
    "when",
    "Step",
    "Pipeline",
    "Output",
    "Condition",
    "run_pipeline",
    "resume_pipeline",
    "load_output",
    "load_pipeline",
    "PipelineRun",
    "StepRun",
]

_LAZY = {
    "run_pipeline": "stead.pipelines.runner",
    "resume_pipeline": "stead.pipelines.runner",
    "load_output": "stead.pipelines.runner",
    "load_pipeline": "stead.pipelines.loader",
    "PipelineRun": "stead.pipelines.records",
    "StepRun": "stead.pipelines.records",
}

if TYPE_CHECKING:
    from stead.pipelines.loader import load_pipeline
    from stead.pipelines.records import PipelineRun, StepRun
    from stead.pipelines.runner import load_output, resume_pipeline, run_pipeline


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
