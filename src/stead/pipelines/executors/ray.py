"""The Ray executor: each step call is a Ray task on the cluster at ``address``.

Step resources map to Ray's ``num_cpus``, ``num_gpus``, ``memory`` and custom resources.
The user's module travels by value (cloudpickle), so workers need only stead and the
libraries the steps import. An address that does not answer is refused before anything runs.

Ray keeps a task that no node can hold pending forever (it waits for the autoscaler). A
step whose request no alive node offers waits ``resource_timeout`` seconds for such a node
to join, then fails with what was missing ("no node offers 1 GPU (cluster has 0)").
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from stead.errors import BackendUnavailable, InvalidParameter, MissingExtra
from stead.pipelines.execute import StepResult, StepTask, dumps_task, run_pickled

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.pipelines.graph import Graph
    from stead.pipelines.records import PipelineRun

__all__ = ["RayExecutor", "check_address", "ray_options", "ray_demand", "shortfall"]

_NODES_FRESH_S = 2.0  # how long a read of the cluster's nodes is reused by later submits


def ray_options(resources: Any) -> dict[str, Any]:
    """A step's ``Resources`` as Ray task options (stead retries; Ray does not)."""
    options: dict[str, Any] = {"num_cpus": resources.cpu, "num_gpus": resources.gpu, "max_retries": 0}
    if resources.memory:
        options["memory"] = resources.memory
    if resources.custom:
        options["resources"] = dict(resources.custom)
    return options


def ray_demand(options: Mapping[str, Any]) -> dict[str, float]:
    """Task options as the resource names Ray's nodes report (``CPU``, ``GPU``, ``memory``, custom)."""
    demand = {"CPU": float(options.get("num_cpus") or 0), "GPU": float(options.get("num_gpus") or 0),
              "memory": float(options.get("memory") or 0), **{k: float(v) for k, v in options.get("resources", {}).items()}}
    return {k: v for k, v in demand.items() if v > 0}


def _amount(name: str, value: float) -> str:
    if name == "memory":
        for unit in ("B", "KiB", "MiB", "GiB"):
            if value < 1024:
                return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            value /= 1024
        return f"{value:.1f} TiB"
    return f"{value:g}"


def _ask(name: str, value: float) -> str:
    if name in ("CPU", "GPU"):
        return f"{value:g} {name}{'' if value == 1 else 's'}"
    if name == "memory":
        return f"{_amount(name, value)} of memory"
    return f"{value:g} {name!r}"


def shortfall(demand: Mapping[str, float], nodes: Sequence[Mapping[str, float]]) -> str | None:
    """Why no node can run a task asking for ``demand``; None when one can.

    ``nodes`` are the alive nodes' total resources (what ``ray.nodes()`` reports).
    """
    if any(all(node.get(k, 0.0) >= v for k, v in demand.items()) for node in nodes):
        return None
    reasons = []
    for name, value in demand.items():
        largest = max((node.get(name, 0.0) for node in nodes), default=0.0)
        if largest >= value:
            continue
        total = sum(node.get(name, 0.0) for node in nodes)
        spread = f", at most {_amount(name, largest)} on one node" if total >= value else ""
        reasons.append(f"no node offers {_ask(name, value)} (cluster has {_amount(name, total)}{spread})")
    if reasons:
        return "; ".join(reasons)
    return "no node offers " + " together with ".join(_ask(k, v) for k, v in demand.items())


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

    def __init__(self, max_parallel: int | None = None, address: str | None = None,
                 resource_timeout: float = 30.0, **init_options: Any) -> None:
        try:
            import ray
        except ImportError:
            raise MissingExtra("The ray executor", "ray") from None
        if resource_timeout < 0:
            raise InvalidParameter(f"resource_timeout must be 0 or more seconds, not {resource_timeout}")
        self._ray = ray
        self._started = False
        self.resource_timeout = resource_timeout
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
        self._waiting: dict[Future[StepResult], threading.Event] = {}
        self._nodes: tuple[float, list[dict[str, float]]] = (0.0, [])
        self._lock = threading.Lock()
        self._remote = ray.remote(run_pickled)

    def bind(self, run: "PipelineRun", graph: "Graph", settings: "Settings") -> None:
        """Nothing to check: each task carries the run's settings to its worker."""

    def inline(self, task: StepTask) -> bool:
        return False

    def _alive_nodes(self, fresh: bool = False) -> list[dict[str, float]]:
        with self._lock:
            read_at, nodes = self._nodes
            if fresh or time.monotonic() - read_at > _NODES_FRESH_S:
                nodes = [dict(n.get("Resources", {})) for n in self._ray.nodes() if n.get("Alive")]
                self._nodes = (time.monotonic(), nodes)
            return nodes

    def submit(self, task: StepTask) -> "Future[StepResult]":
        task.in_process = False
        options = ray_options(task.step.resources)
        demand = ray_demand(options)
        if shortfall(demand, self._alive_nodes()) is None:
            ref = self._remote.options(**options).remote(dumps_task(task))
            future: Future[StepResult] = ref.future()
            self._refs[future] = ref
            return future
        future = Future()
        stop = threading.Event()
        self._waiting[future] = stop
        threading.Thread(target=self._wait_for_node, args=(task, options, demand, future, stop),
                         name=f"stead-ray-wait-{task.step_id}", daemon=True).start()
        return future

    def _wait_for_node(self, task: StepTask, options: dict[str, Any], demand: dict[str, float],
                       future: "Future[StepResult]", stop: threading.Event) -> None:
        """Poll the cluster until a node that fits joins, or ``resource_timeout`` passes."""
        start = time.time()
        deadline = time.monotonic() + self.resource_timeout
        while True:
            missing = shortfall(demand, self._alive_nodes(fresh=True))
            if missing is None or stop.is_set():
                break
            if time.monotonic() >= deadline:
                self._waiting.pop(future, None)
                future.set_result(StepResult(
                    task.step_id, ok=False, start=start, end=time.time(),
                    error=f"{missing}; waited {self.resource_timeout:g}s for a node that has it. Lower the step's "
                          "resources, add such a node, or wait longer (--ray-resource-timeout)"))
                return
            stop.wait(min(1.0, max(0.05, deadline - time.monotonic())))  # polling the cluster's node list
        self._waiting.pop(future, None)
        if stop.is_set():
            future.cancel()
            return
        ref = self._remote.options(**options).remote(dumps_task(task))
        self._refs[future] = ref
        ref.future().add_done_callback(lambda done: _copy_outcome(done, future))

    def cancel(self, future: "Future[StepResult]") -> None:
        stop = self._waiting.pop(future, None)
        if stop is not None:
            stop.set()
        ref = self._refs.pop(future, None)
        if ref is not None:
            try:
                self._ray.cancel(ref, force=True)
            except Exception:
                pass

    def close(self, *, cancel: bool = False) -> None:
        for stop in list(self._waiting.values()):
            stop.set()
        if cancel:
            for future in list(self._refs):
                self.cancel(future)
        self._refs.clear()
        if self._started:
            self._ray.shutdown()


def _copy_outcome(done: "Future[StepResult]", future: "Future[StepResult]") -> None:
    if future.done():
        return
    try:
        exc = done.exception()
    except BaseException as cancelled:  # the Ray task was cancelled
        exc = cancelled
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(done.result())
