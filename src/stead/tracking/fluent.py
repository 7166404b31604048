"""The module-level API users write in training scripts: ``with stead.start_run(...)``.

One default client per process (created on first use from the settings); an active-run
stack per thread, so nested runs and threads behave as MLflow users expect.
"""

from __future__ import annotations

import contextlib
import random
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter
from stead.tracking.records import Run, RunStatus

if TYPE_CHECKING:
    from stead.tracking.client import TrackingClient

__all__ = [
    "ActiveRun",
    "get_client",
    "set_client",
    "current_client",
    "run_stack",
    "set_experiment",
    "start_run",
    "end_run",
    "active_run",
    "require_active_run",
    "log_param",
    "log_params",
    "log_metric",
    "log_metrics",
    "set_tag",
    "set_tags",
    "log_artifact",
    "log_artifacts",
    "log_text",
    "set_seed",
    "flush",
]

_client: TrackingClient | None = None
_client_lock = threading.Lock()
_experiment_name: str | None = None
_local = threading.local()
_pending_seed: int | None = None


def get_client() -> TrackingClient:
    """The process-wide client, built from the settings on first use."""
    global _client
    with _client_lock:
        if _client is None:
            from stead.tracking.client import TrackingClient

            _client = TrackingClient()
        return _client


def set_client(client: TrackingClient | None) -> None:
    """Use ``client`` for the module-level API (tests and embedding applications)."""
    global _client
    with _client_lock:
        _client = client


def current_client() -> TrackingClient | None:
    """The client of the module-level API if one is set or built already (builds none)."""
    return _client


@contextlib.contextmanager
def run_stack(stack: list["ActiveRun"]) -> Iterator[list["ActiveRun"]]:
    """Make ``stack`` this thread's stack of active runs inside the block, then put the
    previous one back: a pipeline step sees the runs it starts through a list of its own."""
    previous = getattr(_local, "stack", None)
    _local.stack = stack
    try:
        yield stack
    finally:
        if previous is None:
            del _local.stack
        else:
            _local.stack = previous


def _stack() -> list["ActiveRun"]:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack  # type: ignore[no-any-return]


class ActiveRun:
    """A started run; ends itself when its ``with`` block ends (FAILED on an exception)."""

    def __init__(self, client: TrackingClient, run: Run) -> None:
        self.client = client
        self.run = run
        self.capture: Any = None  # an OutputCapture while capture_output is on

    @property
    def run_id(self) -> str:
        return self.run.info.run_id

    @property
    def info(self):  # type: ignore[no-untyped-def]
        return self.run.info

    def log_param(self, key: str, value: Any) -> None:
        self.client.log_param(self.run_id, key, value)

    def log_params(self, values: Mapping[str, Any]) -> None:
        self.client.log_params(self.run_id, values)

    def log_metric(self, key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
        self.client.log_metric(self.run_id, key, value, step, timestamp)

    def log_metrics(self, values: Mapping[str, float], step: int | None = None) -> None:
        self.client.log_metrics(self.run_id, values, step)

    def set_tag(self, key: str, value: Any) -> None:
        self.client.set_tag(self.run_id, key, value)

    def log_artifact(self, local_path: str | Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(self.run_id, local_path, artifact_path)

    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> None:
        stack = _stack()
        if self in stack:
            stack.remove(self)
        if self.capture is not None:
            capture, self.capture = self.capture, None
            try:
                capture.finish()
            except Exception as exc:  # the run still ends; its output is what is lost
                print(f"stead: could not save the output of run {self.run_id}: {exc}", file=sys.stderr)
        self.client.set_terminated(self.run_id, status)

    def _save_output(self, path: Path) -> None:
        from stead.tracking.capture import OUTPUT_ARTIFACT, OUTPUT_TAG

        self.client.log_artifact(self.run_id, path, str(Path(OUTPUT_ARTIFACT).parent))
        self.client.set_tag(self.run_id, OUTPUT_TAG, OUTPUT_ARTIFACT)

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None and exc is not None and self.capture is not None:
            self.capture.record_failure(exc_type, exc, tb)
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        self.end(status)


def set_experiment(name: str) -> str:
    """Make ``name`` the experiment of runs started without one; created if missing."""
    global _experiment_name
    experiment = get_client().resolve_experiment(name, create=True)
    _experiment_name = experiment.name
    return experiment.experiment_id


def start_run(
    experiment: str | None = None,
    *,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, str] | None = None,
    seed: int | None = None,
    capture_output: bool = False,
) -> ActiveRun:
    """Start a run in ``experiment`` (created if missing; default: the Default experiment).

    ``capture_output=True`` keeps what the run prints (stdout and stderr, still shown as
    usual) as its artifact ``logs/output.txt`` (see ``stead.tracking.capture``).
    """
    client = get_client()
    stack = _stack()
    if stack and not nested:
        raise InvalidParameter(
            f"Run {stack[-1].run_id} is already active; end it first or pass nested=True "
            "to start a child run"
        )
    name = experiment or _experiment_name
    exp_id = client.resolve_experiment(name, create=True).experiment_id if name else "0"
    parent = stack[-1].run_id if stack else None
    run = client.create_run(exp_id, run_name=run_name, tags=tags, parent_run_id=parent)
    active = ActiveRun(client, run)
    stack.append(active)
    if capture_output:
        from stead.tracking.capture import OutputCapture

        active.capture = OutputCapture(active._save_output)
    global _pending_seed
    if seed is not None:
        set_seed(seed)
    elif _pending_seed is not None:
        client.set_tag(run.info.run_id, "stead.seed", str(_pending_seed))
    return active


def active_run() -> ActiveRun | None:
    stack = _stack()
    return stack[-1] if stack else None


def require_active_run() -> ActiveRun:
    """The innermost active run of this thread; an error naming the fix when there is none."""
    run = active_run()
    if run is None:
        raise InvalidParameter("No active run; wrap the call in `with stead.start_run(...):`")
    return run


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    run = active_run()
    if run is not None:
        run.end(status)


def log_param(key: str, value: Any) -> None:
    require_active_run().log_param(key, value)


def log_params(values: Mapping[str, Any]) -> None:
    require_active_run().log_params(values)


def log_metric(key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
    require_active_run().log_metric(key, value, step, timestamp)


def log_metrics(values: Mapping[str, float], step: int | None = None) -> None:
    require_active_run().log_metrics(values, step)


def set_tag(key: str, value: Any) -> None:
    require_active_run().set_tag(key, value)


def set_tags(values: Mapping[str, Any]) -> None:
    run = require_active_run()
    run.client.set_tags(run.run_id, values)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> None:
    require_active_run().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> None:
    run = require_active_run()
    run.client.log_artifacts(run.run_id, local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    run = require_active_run()
    run.client.log_text(run.run_id, text, artifact_file)


def set_seed(seed: int) -> None:
    """Seed Python's and (when installed) NumPy's random generators, and record the seed."""
    global _pending_seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidParameter(f"Seed must be an integer, got {seed!r}")
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed % 2**32)
    except ImportError:
        pass
    _pending_seed = seed
    run = active_run()
    if run is not None:
        run.set_tag("stead.seed", str(seed))


def flush() -> None:
    """Make every metric logged so far durable."""
    if _client is not None:
        _client.flush()
