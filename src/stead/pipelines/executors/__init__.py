"""Executors run step calls: ``local`` (threads, a process pool), ``ray``, ``kubernetes``.

Each is a small class with ``submit(task) -> Future[StepResult]``, ``cancel(future)`` and
``close()``; the runner only walks the graph and records. Backends import lazily.
"""

from __future__ import annotations

import pickle
from concurrent.futures import Future
from typing import Any, Protocol

from stead.errors import InvalidParameter
from stead.pipelines.execute import StepResult, StepTask

__all__ = ["Executor", "get_executor", "EXECUTORS", "dumps_task", "run_pickled"]

EXECUTORS = ("local", "ray", "kubernetes")


class Executor(Protocol):
    name: str
    max_parallel: int

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


def dumps_task(task: StepTask) -> bytes:
    """Pickle a task for another process; the user's own modules travel by value."""
    import sys

    import cloudpickle

    from stead.pipelines.cache_key import is_user_module

    module = sys.modules.get(task.step.fn.__module__)
    if module is not None and is_user_module(module) and module.__name__ != "__main__":
        try:
            cloudpickle.register_pickle_by_value(module)
        except ValueError:
            pass
    return cloudpickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)


def run_pickled(data: bytes) -> StepResult:
    """The entry point in a worker process: unpickle a task and run it."""
    from stead.pipelines.execute import execute_task

    task = pickle.loads(data)  # noqa: S301 - sent by this pipeline's own runner
    return execute_task(task)
