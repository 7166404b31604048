"""Finding a step's outputs stored earlier, by its cache key, so that it need not run.

In this order: a resumed run's finished steps (whatever their ``cache`` option), the last
run of the same pipeline (read once, up front), then the cache table (one read
connection, opened on the first miss). A hit whose bytes were deleted is a miss.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from stead.pipelines.records import StepRun, StepStatus
from stead.pipelines.serializers import StoredOutput

if TYPE_CHECKING:
    from stead.pipelines.graph import Node
    from stead.pipelines.records import CacheReader, PipelineRecords
    from stead.pipelines.serializers import ObjectStore

__all__ = ["CacheLookup"]


class CacheLookup:
    """The stored outputs a pipeline run may reuse; ``close()`` when the run ends."""

    def __init__(
        self,
        records: "PipelineRecords",
        artifacts: "ObjectStore",
        *,
        no_cache: bool,
        resumed: Iterable[StepRun] = (),
    ) -> None:
        self.records = records
        self.artifacts = artifacts
        self.no_cache = no_cache
        self.reusable: dict[str, list[dict[str, Any]]] = {
            s.cache_key: s.outputs for s in resumed if s.status in StepStatus.DONE and s.cache_key and s.outputs
        }
        self.prefetched: dict[str, list[dict[str, Any]]] = {}
        self._reader: "CacheReader | None" = None

    def prefetch(self, pipeline: str) -> None:
        """Read the cache entries of ``pipeline``'s last run in one query."""
        if not self.no_cache:
            self.prefetched = self.records.cached_by_last_run(pipeline)

    def get(self, node: "Node", key: str) -> list[StoredOutput] | None:
        """The outputs stored under ``key`` for ``node``, or None when it must run."""
        outputs = self.reusable.get(key)
        if outputs is None:
            if self.no_cache or not node.step.cache:
                return None
            outputs = self.prefetched.get(key)
            if outputs is None:
                if self._reader is None:
                    self._reader = self.records.cache_reader()
                outputs = self._reader.get(key)
        if outputs is None:
            return None
        stored = [StoredOutput.from_json(o) for o in outputs]
        if not all(self.artifacts.exists(s.path if s.serializer != "dir" else s.path + "/.manifest.json") for s in stored):
            return None  # the bytes were deleted: run the step again
        return stored

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
