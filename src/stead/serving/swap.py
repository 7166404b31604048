"""The live endpoint: variants with loaded models, and model swaps in the background.

``Endpoint.refresh()`` reads the deployment (weights, variants) and resolves each variant's
model reference in the registry; a variant whose alias moved gets its new model loaded and
warmed beside the old one, then swapped in with one assignment on the event loop. Requests
already queued on the old model finish there; the old model is unloaded after that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stead.serving.batching import Batcher
from stead.serving.deployments import Deployment, Variant
from stead.serving.metrics import ServingMetrics
from stead.serving.runtime import ModelRuntime

__all__ = ["LiveVariant", "Endpoint", "Resolver"]

log = logging.getLogger("stead.serving")

# ref -> (uri to load, version string or None); None version means "never changes"
Resolver = Callable[[str], tuple[str, str | None]]


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
    """What the HTTP routes talk to: ``variants`` (live and shadow), readiness, swaps."""

    def __init__(self, name: str, resolve: Resolver, metrics: ServingMetrics, *, client: Any = None,
                 load_deployment: Callable[[], Deployment] | None = None, initial: Deployment | None = None,
                 max_batch_size: int = 64, max_latency_ms: float = 0.0,
                 model_config: dict[str, Any] | None = None) -> None:
        self.name = name
        self.model_config = model_config
        self.metrics = metrics
        self._resolve = resolve
        self._client = client
        self._load_deployment = load_deployment
        self._deployment = initial
        self.max_batch_size = max_batch_size
        self.max_latency_ms = max_latency_ms
        self.variants: list[LiveVariant] = []
        self.live: list[LiveVariant] = []
        self.shadows: list[LiveVariant] = []
        self.sticky_header: bytes | None = None
        self.ready = False
        self._lock = asyncio.Lock()

    async def _start(self, v: Variant, uri: str, version: str | None) -> LiveVariant:
        runtime = ModelRuntime(uri, name=self.name, version=version, client=self._client,
                               model_config=self.model_config)
        await runtime.load()
        label = version or "local"

        def on_batch(size: int) -> None:
            self.metrics.batch(label, v.name, size)

        batcher = Batcher(runtime.predict_batch, runtime.executor, max_batch_size=self.max_batch_size,
                          max_latency_ms=self.max_latency_ms, on_batch=on_batch, inline=runtime.runs_inline)
        batcher.start()
        self.metrics.ready(label, v.name, True)
        return LiveVariant(v.name, v.model, v.weight, v.shadow, runtime, batcher)

    def _publish(self, variants: list[LiveVariant], deployment: Deployment | None) -> None:
        self.variants = variants
        self.live = [v for v in variants if not v.shadow]
        self.shadows = [v for v in variants if v.shadow]
        header = deployment.sticky_header if deployment else None
        self.sticky_header = header.lower().encode("latin-1") if header else None
        self.ready = bool(self.live) and all(v.runtime.ready for v in self.live)

    async def refresh(self) -> list[str]:
        """Bring the served variants in line with the store and registry; returns what changed."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            dep = self._deployment
            if self._load_deployment is not None:
                dep = await loop.run_in_executor(None, self._load_deployment)
            assert dep is not None
            wanted = list(dep.variants)
            resolved = await loop.run_in_executor(None, lambda: [self._resolve(v.model) for v in wanted])
            current = {v.name: v for v in self.variants}
            new: list[LiveVariant] = []
            retired: list[LiveVariant] = []
            changes: list[str] = []
            for v, (uri, version) in zip(wanted, resolved):
                old = current.pop(v.name, None)
                if old is not None and old.model == v.model and old.runtime.version == version:
                    if (old.weight, old.shadow) != (v.weight, v.shadow):
                        changes.append(f"{v.name}: weight {old.weight} -> {v.weight}")
                    old.weight, old.shadow = v.weight, v.shadow
                    new.append(old)
                    continue
                try:
                    started = await self._start(v, uri, version)
                except Exception:  # noqa: BLE001 - keep serving the old model; try again next poll
                    log.exception("cannot load %s for variant %s of %s", v.model, v.name, self.name)
                    if old is not None:
                        new.append(old)
                    continue
                new.append(started)
                if old is not None:
                    retired.append(old)
                    self.metrics.swapped(started.version, v.name)
                    changes.append(f"{v.name}: {old.version} -> {started.version}")
                else:
                    changes.append(f"{v.name}: loaded {started.version}")
            retired.extend(current.values())
            self._deployment = dep
            self._publish(new, dep)  # one assignment: new requests see the new models from here on
        for old in retired:
            asyncio.get_running_loop().create_task(self._retire(old))
        return changes

    async def _retire(self, old: LiveVariant) -> None:
        await old.batcher.close()  # requests already queued on the old model finish there
        self.metrics.ready(old.version, old.name, False)
        await old.runtime.unload()

    async def poll(self, interval_s: float) -> None:
        """Refresh every ``interval_s`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                changes = await self.refresh()
            except Exception:  # noqa: BLE001 - the store may be briefly away; serve on
                log.exception("refreshing endpoint %s failed", self.name)
                continue
            for c in changes:
                log.warning("endpoint %s: %s", self.name, c)

    def by_version(self, version: str) -> LiveVariant | None:
        for v in self.live:
            if v.version == version:
                return v
        return None

    async def close(self) -> None:
        for v in self.variants:
            await v.batcher.close()
            await v.runtime.unload()
        self.variants, self.live, self.shadows, self.ready = [], [], [], False
