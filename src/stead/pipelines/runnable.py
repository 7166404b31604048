"""``@stead.pipeline``: a pipeline description that also runs when called, as a decorated
function is expected to. It sits above both the description (``dsl``) and the runner, so
the description never imports the runner."""

from __future__ import annotations

from typing import Any

from stead.pipelines.dsl import Pipeline

__all__ = ["RunnablePipeline", "pipeline"]


class RunnablePipeline(Pipeline):
    """A ``Pipeline`` that runs when called: ``train_pipeline(lr=0.1)`` is
    ``stead.run_pipeline(train_pipeline, {"lr": 0.1})`` (default settings, local executor)."""

    def __call__(self, **params: Any) -> Any:
        from stead.pipelines.runner import run_pipeline  # the runner loads on the first run

        return run_pipeline(self, params)


def pipeline(fn: Any = None, *, name: str | None = None) -> Any:
    """Mark a function as a pipeline: its body calls steps, its parameters are the pipeline's.

    Example: ``@stead.pipeline`` then ``stead pipeline run file.py:train -p lr=0.1``
    """
    if fn is not None:
        return RunnablePipeline(fn, name=name)
    return lambda f: RunnablePipeline(f, name=name)
