"""What one step call receives: its arguments, its cache key, its condition's values.

A node's arguments are constants and ``Output`` handles (also nested in lists, tuples and
dicts). Once the upstream steps are done, each handle stands for a stored output (and, in
this process, maybe its value): these functions swap them in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter
from stead.pipelines.cache_key import cache_key, code_hash, value_hash
from stead.pipelines.dsl import Output, find_outputs
from stead.pipelines.execute import Ref
from stead.pipelines.serializers import StoredOutput, load_value

if TYPE_CHECKING:
    from stead.pipelines.graph import Node
    from stead.pipelines.serializers import ObjectStore

__all__ = ["StepInputs"]


class StepInputs:
    """The outputs of the steps done so far: stored references, and values held in memory."""

    def __init__(self, artifacts: "ObjectStore") -> None:
        self.artifacts = artifacts
        self.stored: dict[str, list[StoredOutput]] = {}
        self.values: dict[str, list[Any]] = {}

    def value_of(self, output: Output) -> Any:
        """An upstream output's value (read back from the artifact store the first time)."""
        nid = output.node_id
        values = self.values.get(nid)
        if values is None:
            values = [load_value(s, self.artifacts) for s in self.stored[nid]]
            self.values[nid] = values
        return values[output.index or 0]

    def cache_key(self, node: "Node") -> str:
        """The node's cache key: its code, its arguments' hashes, its declared outputs."""
        hashes = {name: self._hash(value) for name, value in node.arguments.items()}
        extra = ",".join(node.step.outputs or ())
        return cache_key(code_hash(node.step), hashes, extra)

    def arguments(self, node: "Node") -> dict[str, Any]:
        """The node's arguments with each ``Output`` replaced by a ``Ref`` to what it stored."""

        def ref(output: Output) -> Ref:
            stored = self.stored[output.node_id][output.index or 0]
            values = self.values.get(output.node_id)
            if values is not None:
                return Ref(stored, values[output.index or 0], True)
            return Ref(stored)

        return {name: _swap(value, ref) for name, value in node.arguments.items()}

    def _hash(self, value: Any) -> str:
        if isinstance(value, Output):
            return self.stored[value.node_id][value.index or 0].hash
        if isinstance(value, (list, tuple, dict)) and find_outputs(value):
            return value_hash(_swap(value, lambda o: {"__output__": self._hash(o)}))
        try:
            return value_hash(value)
        except Exception as exc:
            raise InvalidParameter(
                f"argument {value!r} cannot be hashed for the cache key ({exc}); pass plain data"
            ) from None


def _swap(value: Any, fn: Callable[[Output], Any]) -> Any:
    if isinstance(value, Output):
        return fn(value)
    if isinstance(value, list):
        return [_swap(v, fn) for v in value]
    if isinstance(value, tuple):
        return tuple(_swap(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _swap(v, fn) for k, v in value.items()}
    return value
