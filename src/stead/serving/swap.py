"""The live endpoint: variants with loaded models, and model swaps in the background.

``Endpoint.refresh()`` reads the deployment (weights, variants) and resolves each variant's
model reference in the registry; a variant whose alias moved gets its new model loaded and
warmed beside the old one, then swapped in with one assignment on the event loop. Requests
already queued on the old model finish there; the old model is unloaded after that.

A variant whose model cannot be resolved or loaded keeps the model it served, if any, and
otherwise is *failed*: it gets no traffic, and ``states`` (model metadata, readiness,
``/metrics``, the report in the store) says so. Each problem is logged once, in one line,
when it starts and when it ends; a version that failed to load is tried again after a
back-off (30 s, doubling to 10 min), or at once when the reference moves to another version.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stead.serving.batching import Batcher
from stead.serving.deployments import Deployment, Variant
from stead.serving.metrics import ServingMetrics
from stead.serving.runtime import ModelRuntime
from stead.serving.variants import FAILED, LIVE, VariantState, applied_weights, one_line

__all__ = ["LiveVariant", "Endpoint", "Resolver"]

log = logging.getLogger("stead.serving")

# ref -> (uri to load, version string or None); None version means "never changes"
Resolver = Callable[[str], tuple[str, str | None]]
Reporter = Callable[[list[VariantState]], None]  # writes this server's variant states to the store
_RETRY_FIRST_S, _RETRY_MAX_S = 30.0, 600.0


@dataclass
class _Failure:
    """A version that failed to load: not tried again before ``retry_at``."""

    model: str
    version: str | None
    problem: str
    retry_at: float
    backoff: float


@dataclass
class LiveVariant:
    name: str
    model: str
    weight: int
    shadow: bool
    runtime: ModelRuntime
    batcher: Batcher

    @property
    def version(self) -> str:
        return self.runtime.version or "local"


class Endpoint:
    """What the HTTP routes talk to: ``variants`` (live and shadow), ``states`` (every variant
    asked for, live or not), readiness, swaps."""

    def __init__(self, name: str, resolve: Resolver, metrics: ServingMetrics, *, client: Any = None,
                 load_deployment: Callable[[], Deployment] | None = None, initial: Deployment | None = None,
                 max_batch_size: int = 64, max_latency_ms: float = 0.0,
                 model_config: dict[str, Any] | None = None, report: Reporter | None = None) -> None:
        self.name = name
        self.model_config = model_config
        self.metrics = metrics
        self._resolve = resolve
        self._client = client
        self._load_deployment = load_deployment
        self._deployment = initial
        self._report = report
        self.max_batch_size = max_batch_size
        self.max_latency_ms = max_latency_ms
        self.variants: list[LiveVariant] = []
        self.live: list[LiveVariant] = []
        self.shadows: list[LiveVariant] = []
        self.states: list[VariantState] = []
        self.sticky_header: bytes | None = None
        self.ready = False
        self._lock = asyncio.Lock()
        self._failures: dict[str, _Failure] = {}
        self._said: dict[str, str | None] = {}  # variant -> the problem last logged (each is logged once)
        self._poll_problem: str | None = None

    async def _start(self, v: Variant, uri: str, version: str | None) -> LiveVariant:
        runtime = ModelRuntime(uri, name=self.name, version=version, client=self._client,
                               model_config=self.model_config, variant=v.name)
        try:
            await runtime.load()
        except Exception:
            await runtime.unload()  # its worker thread goes with it
            raise
        label = version or "local"

        def on_batch(size: int) -> None:
            self.metrics.batch(label, v.name, size)

        batcher = Batcher(runtime.predict_batch, runtime.executor, max_batch_size=self.max_batch_size,
                          max_latency_ms=self.max_latency_ms, on_batch=on_batch, inline=runtime.runs_inline)
        batcher.start()
        self.metrics.ready(label, v.name, True)
        return LiveVariant(v.name, v.model, v.weight, v.shadow, runtime, batcher)

    def _publish(self, variants: list[LiveVariant], deployment: Deployment | None,
                 states: list[VariantState]) -> None:
        weights = applied_weights(states)
        for s in states:
            s.applied = weights.get(s.name, 0)
        self.variants = variants
        self.live = [v for v in variants if not v.shadow]
        self.shadows = [v for v in variants if v.shadow]
        self.states = states
        header = deployment.sticky_header if deployment else None
        self.sticky_header = header.lower().encode("latin-1") if header else None
        self.ready = any(s.applied > 0 for s in states)

    def _resolve_all(self, wanted: list[Variant]) -> list[tuple[str, str | None] | BaseException]:
        out: list[tuple[str, str | None] | BaseException] = []
        for v in wanted:
            try:
                out.append(self._resolve(v.model))
            except Exception as exc:  # noqa: BLE001 - one variant's bad reference is that variant's problem
                out.append(exc)
        return out

    @staticmethod
    def _keep(old: LiveVariant | None, v: Variant, state: VariantState, new: list[LiveVariant], problem: str,
              version: str | None = None) -> None:
        """``v`` cannot have the model it asks for: it keeps ``old`` if it had one, else fails."""
        if old is not None:
            old.weight, old.shadow = v.weight, v.shadow
            new.append(old)
            state.state, state.version = LIVE, old.version
            state.error = f"{problem}; still serving version {old.version}"
        else:
            state.state, state.version, state.error = FAILED, version, problem

    async def refresh(self) -> list[str]:
        """Bring the served variants in line with the store and registry; returns what changed."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            dep = self._deployment
            if self._load_deployment is not None:
                dep = await loop.run_in_executor(None, self._load_deployment)
            assert dep is not None
            self.metrics.polled()
            wanted = list(dep.variants)
            resolved = await loop.run_in_executor(None, self._resolve_all, wanted)
            current = {v.name: v for v in self.variants}
            new: list[LiveVariant] = []
            states: list[VariantState] = []
            retired: list[LiveVariant] = []
            changes: list[str] = []
            for v, got in zip(wanted, resolved):
                old = current.pop(v.name, None)
                state = VariantState(v.name, v.model, v.weight, v.shadow)
                states.append(state)
                if isinstance(got, BaseException):
                    self._keep(old, v, state, new, f"cannot resolve {v.model}: {one_line(got)}")
                    continue
                uri, version = got
                if old is not None and old.model == v.model and old.runtime.version == version:
                    if (old.weight, old.shadow) != (v.weight, v.shadow):
                        changes.append(f"{v.name}: weight {old.weight} -> {v.weight}")
                    old.weight, old.shadow = v.weight, v.shadow
                    new.append(old)
                    state.state, state.version = LIVE, old.version
                    self._failures.pop(v.name, None)  # the reference left the version that failed
                    continue
                failure = self._failures.get(v.name)
                if failure is not None and (failure.model, failure.version) == (v.model, version) \
                        and time.monotonic() < failure.retry_at:
                    self._keep(old, v, state, new, failure.problem, version)
                    continue
                try:
                    started = await self._start(v, uri, version)
                except Exception as exc:  # noqa: BLE001 - keep serving the old model; the state says why
                    log.debug("loading %s for variant %s of %s failed", v.model, v.name, self.name, exc_info=True)
                    problem = f"cannot load {v.model}" + (f" (version {version})" if version else "") + \
                        f": {one_line(exc)}"
                    backoff = _RETRY_FIRST_S if failure is None else min(failure.backoff * 2, _RETRY_MAX_S)
                    self._failures[v.name] = _Failure(v.model, version, problem, time.monotonic() + backoff, backoff)
                    self._keep(old, v, state, new, problem, version)
                    continue
                self._failures.pop(v.name, None)
                new.append(started)
                state.state, state.version = LIVE, started.version
                if old is not None:
                    retired.append(old)
                    self.metrics.swapped(started.version, v.name)
                    changes.append(f"{v.name}: {old.version} -> {started.version}")
                else:
                    changes.append(f"{v.name}: loaded {started.version}")
            retired.extend(current.values())
            for gone in {s.name for s in self.states} - {v.name for v in wanted}:
                self._failures.pop(gone, None)
                self._said.pop(gone, None)
                self.metrics.forget_variant(gone)
            self._deployment = dep
            self._publish(new, dep, states)  # one assignment: new requests see the new models from here on
            self._tell(states)
        for old in retired:
            asyncio.get_running_loop().create_task(self._retire(old))
        return changes

    def _tell(self, states: list[VariantState]) -> None:
        """Log each variant's problem once, in one line, when it starts, changes or ends."""
        traffic = ", ".join(f"{s.name}={s.applied}" for s in states if not s.shadow)
        for s in states:
            self.metrics.variant(s.name, s.state == LIVE, s.applied)
            said = self._said.get(s.name)
            if s.error == said:
                continue
            self._said[s.name] = s.error
            if s.error is not None:
                level = logging.ERROR if s.state == FAILED else logging.WARNING
                log.log(level, "endpoint %s: variant %s is %s: %s; traffic now %s", self.name, s.name,
                        "down" if s.state == FAILED else "stale", s.error, traffic or "none",
                        extra={"variant": s.name})
            elif said is not None:
                log.warning("endpoint %s: variant %s serves %s again (version %s); traffic now %s", self.name, s.name,
                            s.model, s.version, traffic, extra={"variant": s.name})

    async def report(self) -> None:
        """Write this server's variant states to the store (when it reports), off the event loop;
        a failure is logged once, and so is the recovery."""
        problem = None
        if self._report is not None:
            try:
                await asyncio.get_running_loop().run_in_executor(None, self._report, list(self.states))
            except Exception as exc:  # noqa: BLE001 - the store may be briefly away; the next poll reports again
                log.debug("reporting the state of %s failed", self.name, exc_info=True)
                problem = f"cannot report to the store: {one_line(exc)}"
        self._poll_trouble(problem)

    def _poll_trouble(self, problem: str | None) -> None:
        if problem != self._poll_problem:
            if problem is not None:
                log.warning("endpoint %s: %s; serving on as before", self.name, problem)
            else:
                log.warning("endpoint %s: reaches the store again", self.name)
        self._poll_problem = problem

    async def _retire(self, old: LiveVariant) -> None:
        await old.batcher.close()  # requests already queued on the old model finish there
        self.metrics.ready(old.version, old.name, False)
        await old.runtime.unload()

    async def poll(self, interval_s: float, *, refresh: bool = True) -> None:
        """Every ``interval_s`` seconds until cancelled: refresh and report, or only report."""
        while True:
            await asyncio.sleep(interval_s)
            if refresh:
                try:
                    changes = await self.refresh()
                except Exception as exc:  # noqa: BLE001 - the store may be briefly away; serve on
                    log.debug("refreshing endpoint %s failed", self.name, exc_info=True)
                    self._poll_trouble(f"cannot read its deployment: {one_line(exc)}")
                    continue
                for c in changes:
                    log.warning("endpoint %s: %s", self.name, c)
            await self.report()

    def by_version(self, version: str) -> LiveVariant | None:
        for v in self.live:
            if v.version == version:
                return v
        return None

    async def close(self) -> None:
        for v in self.variants:
            await v.batcher.close()
            await v.runtime.unload()
        self.variants, self.live, self.shadows, self.states, self.ready = [], [], [], [], False
