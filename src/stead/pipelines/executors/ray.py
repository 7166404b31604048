"""The Ray executor: each step call is a Ray task on the cluster at ``address``.

Step resources map to Ray's ``num_cpus``, ``num_gpus`` and ``memory``. The user's module
travels by value (cloudpickle), so workers need only stead and the libraries the steps
import. An address that does not answer is refused before anything runs.
"""

from __future__ import annotations

import socket
from concurrent.futures import Future
from typing import Any

from stead.errors import BackendUnavailable, InvalidParameter, MissingExtra
from stead.pipelines.execute import StepResult, StepTask

__all__ = ["RayExecutor", "check_address", "ray_options"]


def ray_options(resources: Any) -> dict[str, Any]:
    """A step's ``Resources`` as Ray task options (stead retries; Ray does not)."""
    options: dict[str, Any] = {"num_cpus": resources.cpu, "num_gpus": resources.gpu, "max_retries": 0}
    if resources.memory:
        options["memory"] = resources.memory
    return options


def check_address(address: str, timeout: float = 3.0) -> None:
    """Fail fast (and clearly) when nothing listens at a ``host:port`` Ray address."""
    if address in ("auto", "local") or address.startswith(("ray://", "anyscale://")) and ":" not in address[6:]:
        return
    hostport = address.split("://", 1)[-1]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise InvalidParameter(f"Ray address {address!r} must look like host:port or ray://host:port")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise BackendUnavailable(
            f"No Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
            "`ray start --head` or pass the right --ray-address"
        ) from None


class RayExecutor:
    name = "ray"

    def __init__(self, max_parallel: int | None = None, address: str | None = None, **init_options: Any) -> None:
        try:
            import ray
        except ImportError:
            raise MissingExtra("The ray executor", "ray") from None
        self._ray = ray
        self._started = False
        if address:
            check_address(address)
        if not ray.is_initialized():
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         configure_logging=False, **init_options)
            except ConnectionError as exc:
                raise BackendUnavailable(f"Cannot connect to the Ray cluster at {address}: {exc}") from None
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.max_parallel = max_parallel or max(1, cpus)
        self._refs: dict[Future[StepResult], Any] = {}
        from stead.pipelines.executors import run_pickled

        self._remote = ray.remote(run_pickled)

    def inline(self, task: StepTask) -> bool:
        return False

    def submit(self, task: StepTask) -> "Future[StepResult]":
        from stead.pipelines.executors import dumps_task

        task.in_process = False
        ref = self._remote.options(**ray_options(task.step.resources)).remote(dumps_task(task))
        future: Future[StepResult] = ref.future()
        self._refs[future] = ref
        return future

    def cancel(self, future: "Future[StepResult]") -> None:
        ref = self._refs.pop(future, None)
        if ref is not None:
            try:
                self._ray.cancel(ref, force=True)
            except Exception:
                pass

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            for future in list(self._refs):
                self.cancel(future)
        self._refs.clear()
        if self._started:
            self._ray.shutdown()
