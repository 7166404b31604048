"""Executors run step calls: ``local`` (threads, a process pool), ``ray``, ``kubernetes``.

Each is a small class with ``bind(run, graph, settings)``, ``submit(task) ->
Future[StepResult]``, ``cancel(future)`` and ``close()``; the runner only walks the graph
and records. Executors do not import the runner. Backends import lazily.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

from stead.errors import InvalidParameter
from stead.pipelines.execute import StepResult, StepTask

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.pipelines.graph import Graph
    from stead.pipelines.records import PipelineRun

__all__ = ["Executor", "get_executor", "EXECUTORS"]

EXECUTORS = ("local", "ray", "kubernetes")


class Executor(Protocol):
    name: str
    max_parallel: int

    def bind(self, run: "PipelineRun", graph: "Graph", settings: "Settings") -> None:
        """Called with the run about to start, before it is recorded: refuse settings this
        executor cannot run with (a store its workers cannot reach) by raising here."""
        ...

    def inline(self, task: StepTask) -> bool:
        """Whether the runner may call the step in its own thread (the fastest path)."""
        ...

    def submit(self, task: StepTask) -> "Future[StepResult]": ...

    def cancel(self, future: "Future[StepResult]") -> None:
        """Stop a running attempt (timeouts, Ctrl-C) as far as the backend allows."""
        ...

    def close(self, *, cancel: bool = False) -> None: ...


def get_executor(name: str, *, max_parallel: int | None = None, **options: Any) -> Executor:
    """The executor called ``name``; an unknown one is refused before anything runs."""
    if name == "local":
        from stead.pipelines.executors.local import LocalExecutor

        return LocalExecutor(max_parallel=max_parallel)
    if name == "ray":
        from stead.pipelines.executors.ray import RayExecutor

        return RayExecutor(max_parallel=max_parallel, **options)
    if name == "kubernetes":
        from stead.pipelines.executors.kubernetes import KubernetesExecutor

        return KubernetesExecutor(max_parallel=max_parallel, **options)
    raise InvalidParameter(f"Unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")
