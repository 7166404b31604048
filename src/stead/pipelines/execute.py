"""Running one step call anywhere (this thread, a pool process, a Ray worker, a pod).

``execute_task`` takes a picklable ``StepTask`` (the step, its arguments with upstream
outputs as stored references or in-memory values, the run's settings), calls the
function, stores each output in the artifact store, and returns a ``StepResult`` with
logs and timings. Its prints are captured per thread, so parallel in-process steps keep
separate logs. Another process gets the task from ``dumps_task`` and runs it with
``run_pickled``; there the task's settings are adopted, so ``stead.start_run`` in a step
finds the run's stores.
"""

from __future__ import annotations

import io
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter, SteadError
from stead.pipelines.serializers import ObjectStore, StoredOutput, load_value, store_value
from stead.tracking import fluent

if TYPE_CHECKING:
    from stead.artifacts.base import ArtifactStore
    from stead.config import Settings

__all__ = [
    "Ref", "StepTask", "StepResult", "execute_task", "open_artifacts", "StepFailed", "dumps_task", "run_pickled",
]


class StepFailed(SteadError):
    """A step raised, returned something it cannot store, or ran out of time."""

    code = "INVALID_STATE"


@dataclass(frozen=True)
class Ref:
    """An upstream output as an argument: a stored reference and, in-process, its value."""

    stored: StoredOutput
    value: Any = None
    loaded: bool = False

    def __reduce__(self) -> Any:  # only the reference travels to other processes
        return (Ref, (self.stored,))


@dataclass
class StepTask:
    run_id: str
    step_id: str
    step: Any  # stead.pipelines.dsl.Step
    arguments: dict[str, Any]
    attempt: int
    settings: "Settings"
    in_process: bool = True


@dataclass
class StepResult:
    step_id: str
    ok: bool
    outputs: list[StoredOutput] = field(default_factory=list)
    values: list[Any] | None = None
    logs: str = ""
    error: str | None = None
    start: float = 0.0
    end: float = 0.0
    tracking_run_id: str | None = None


_STORES: dict[tuple[str, tuple[tuple[str, str], ...]], ObjectStore] = {}
_stores_lock = threading.Lock()


def open_artifacts(url: str, aws: Mapping[str, str] | None = None) -> ObjectStore:
    """The pipeline objects in the artifact store at ``url`` (one per process and URL)."""
    key = (url, tuple(sorted((aws or {}).items())))
    with _stores_lock:
        store = _STORES.get(key)
        if store is None:
            artifacts: ArtifactStore
            try:
                from stead.artifacts import open_artifact_store
            except ImportError:
                if "://" in url and not url.startswith("file://"):
                    raise InvalidParameter(f"Artifact store {url!r} needs stead.artifacts.open_artifact_store") from None
                from stead.artifacts.local import LocalArtifactStore

                artifacts = LocalArtifactStore(url.removeprefix("file://"))
            else:
                artifacts = open_artifact_store(url, dict(aws or {}))
            store = _STORES[key] = ObjectStore(artifacts)
    return store


# ---- per-thread capture of stdout/stderr ------------------------------------------------

_capture = threading.local()


class _Router(io.TextIOBase):
    """Stands in for sys.stdout/stderr: writes go to the running step's buffer, if any."""

    def __init__(self, original: Any) -> None:
        self.original = original

    def write(self, text: str) -> int:
        buf = getattr(_capture, "buffer", None)
        if buf is not None:
            return buf.write(text)
        return self.original.write(text)  # type: ignore[no-any-return]

    def flush(self) -> None:
        if getattr(_capture, "buffer", None) is None:
            self.original.flush()

    def isatty(self) -> bool:
        return bool(self.original.isatty())

    def fileno(self) -> int:
        return int(self.original.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.original, "encoding", "utf-8"))


_install_lock = threading.Lock()


def _install_router() -> None:
    with _install_lock:
        if not isinstance(sys.stdout, _Router):
            sys.stdout = _Router(sys.stdout)
        if not isinstance(sys.stderr, _Router):
            sys.stderr = _Router(sys.stderr)


class _RunWatcher(list):  # type: ignore[type-arg]
    """The active-run stack a step runs with (``stead.tracking.fluent.run_stack``): it sees the
    runs the step opens and tags the outermost with the pipeline run and step."""

    def __init__(self, tags: dict[str, str]) -> None:
        super().__init__()
        self.tags = tags
        self.run_ids: list[str] = []

    def append(self, active: Any) -> None:
        super().append(active)
        run_id = getattr(active, "run_id", None)
        if run_id and len(self) == 1:
            self.run_ids.append(run_id)
            try:
                for key, value in self.tags.items():
                    active.client.set_tag(run_id, key, value)
            except Exception:  # tagging is a courtesy; never fail the step over it
                pass


def _resolve(value: Any, store: Any) -> Any:
    if isinstance(value, Ref):
        return value.value if value.loaded else load_value(value.stored, store)
    if isinstance(value, list):
        return [_resolve(v, store) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(v, store) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, store) for k, v in value.items()}
    return value


def _adopt(settings: "Settings") -> None:
    """In a worker process, take the run's settings, so that ``stead.start_run`` in a step
    records into the run's stores; a tracking client this (reused) worker built for another
    run's settings is dropped."""
    from stead.config import adopt_settings

    adopt_settings(settings)
    client = fluent.current_client()
    if client is not None and client.settings != settings:
        fluent.set_client(None)
        try:
            client.close()
        except Exception:  # the old run's client; this step must not fail over it
            pass


def execute_task(task: StepTask) -> StepResult:
    """Run one attempt of one step call; never raises for a failure of the step itself."""
    step = task.step
    result = StepResult(task.step_id, ok=False, start=time.time())
    if not task.in_process:
        _adopt(task.settings)
    _install_router()
    buffer = io.StringIO()
    previous = getattr(_capture, "buffer", None)
    _capture.buffer = buffer
    watcher = _RunWatcher({"stead.pipeline.run_id": task.run_id, "stead.pipeline.step": task.step_id})
    try:
        store = open_artifacts(task.settings.resolved_artifacts_url, task.settings.aws)
        kwargs = {name: _resolve(value, store) for name, value in task.arguments.items()}
        with fluent.run_stack(watcher):
            value = step.fn(**kwargs)
        values = _split_outputs(step, value)
        result.outputs = _store_outputs(step, values, store)
        if task.in_process:
            result.values = values
        else:
            store.sync()
        result.ok = True
    except KeyboardInterrupt:
        raise
    except SteadError as exc:
        result.error = f"{type(exc).__name__}: {exc.message}"
        buffer.write(traceback.format_exc())
    except BaseException as exc:  # noqa: BLE001 - a step's failure is recorded, not raised
        result.error = f"{type(exc).__name__}: {exc}"
        buffer.write(traceback.format_exc())
    finally:
        _capture.buffer = previous
        result.end = time.time()
        result.logs = buffer.getvalue()
        if watcher.run_ids:
            result.tracking_run_id = watcher.run_ids[-1]
    return result


def dumps_task(task: StepTask) -> bytes:
    """Pickle a task for another process; the user's own modules travel by value."""
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
    task = pickle.loads(data)  # noqa: S301 - sent by this pipeline's own runner
    return execute_task(task)


def _split_outputs(step: Any, value: Any) -> list[Any]:
    if not step.outputs:
        _check_type(step, "output", step.return_type, value)
        return [value]
    names = step.outputs
    if isinstance(value, Mapping):
        missing = [n for n in names if n not in value]
        if missing:
            raise StepFailed(f"Step {step.name!r} declares outputs {list(names)} but returned no {missing}")
        return [value[n] for n in names]
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        raise StepFailed(
            f"Step {step.name!r} declares {len(names)} outputs {list(names)}; return a tuple or dict of them"
        )
    return list(value)


def _check_type(step: Any, name: str, expected: type | None, value: Any) -> None:
    if expected is None or expected is object or isinstance(value, expected):
        return
    if expected is float and isinstance(value, int):
        return
    raise StepFailed(
        f"Step {step.name!r} is annotated to return {expected.__name__} but returned {type(value).__name__}"
    )


def _store_outputs(step: Any, values: list[Any], store: Any) -> list[StoredOutput]:
    names = step.outputs or ("output",)
    stored = []
    for name, value in zip(names, values):
        try:
            stored.append(store_value(value, store, name))
        except InvalidParameter as exc:
            raise StepFailed(f"Step {step.name!r} output {name!r}: {exc.message}") from None
    return stored
