"""The local executor: light steps in threads of this process, isolated ones in processes.

A step marked ``isolated=True`` runs in a process pool (spawned, so it shares no state);
a timeout there kills the pool's processes and the pool is rebuilt. Light steps cannot
be killed; one that outlives its timeout is recorded as failed and left to finish.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from stead.pipelines.execute import StepResult, StepTask, dumps_task, execute_task, run_pickled

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.pipelines.graph import Graph
    from stead.pipelines.records import PipelineRun

__all__ = ["LocalExecutor"]


class LocalExecutor:
    name = "local"

    def __init__(self, max_parallel: int | None = None) -> None:
        self.max_parallel = max_parallel or min(8, (os.cpu_count() or 2) * 2)
        self._threads: ThreadPoolExecutor | None = None
        self._processes: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._process_futures: set[Future[StepResult]] = set()

    def bind(self, run: "PipelineRun", graph: "Graph", settings: "Settings") -> None:
        """Any settings do: the steps run on this machine."""

    def inline(self, task: StepTask) -> bool:
        return not task.step.isolated and task.step.timeout is None

    def submit(self, task: StepTask) -> "Future[StepResult]":
        if task.step.isolated:
            task.in_process = False
            future = self._process_pool().submit(run_pickled, dumps_task(task))
            self._process_futures.add(future)
            return future
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.max_parallel, thread_name_prefix="stead-step")
        return self._threads.submit(execute_task, task)

    def _process_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._processes is None:
                import multiprocessing

                self._processes = ProcessPoolExecutor(
                    self.max_parallel, mp_context=multiprocessing.get_context("spawn")
                )
            return self._processes

    def cancel(self, future: "Future[StepResult]") -> None:
        if future.cancel() or future not in self._process_futures:
            return
        with self._lock:  # a running process task: only killing its pool stops it
            pool, self._processes = self._processes, None
        if pool is not None:
            _kill_pool(pool)

    def close(self, *, cancel: bool = False) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=not cancel, cancel_futures=cancel)
        if self._processes is not None:
            if cancel:
                _kill_pool(self._processes)
            else:
                self._processes.shutdown(wait=True)


def _kill_pool(pool: Any) -> None:
    for proc in list(getattr(pool, "_processes", {}).values()):
        try:
            proc.kill()
        except Exception:
            pass
    pool.shutdown(wait=False, cancel_futures=True)
