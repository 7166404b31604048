"""The pipeline graph: nodes (step calls) and their dependencies, as pure data.

Built by the DSL, walked by the runner, drawn by ``stead pipeline graph``. Nothing here
does I/O; validation (unknown upstreams, cycles) happens before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from stead.errors import InvalidParameter

__all__ = ["Node", "Graph"]


@dataclass(frozen=True)
class Node:
    """One call of a step: its bound arguments (constants or ``Output`` handles)."""

    id: str
    step: Any  # stead.pipelines.dsl.Step
    arguments: Mapping[str, Any]
    condition: Any = None  # stead.pipelines.dsl.Condition | None
    upstream: frozenset[str] = frozenset()


@dataclass
class Graph:
    """A DAG of nodes in insertion order, plus the parameters it was built with."""

    name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, node: Node) -> None:
        if node.id in self.nodes:
            raise InvalidParameter(f"Pipeline {self.name!r} has two steps named {node.id!r}")
        self.nodes[node.id] = node

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def downstream(self) -> dict[str, list[str]]:
        down: dict[str, list[str]] = {nid: [] for nid in self.nodes}
        for node in self.nodes.values():
            for up in node.upstream:
                down[up].append(node.id)
        return down

    def validate(self) -> None:
        """Every upstream exists and there is no cycle (else a clear error)."""
        for node in self.nodes.values():
            missing = [u for u in node.upstream if u not in self.nodes]
            if missing:
                raise InvalidParameter(
                    f"Step {node.id!r} of pipeline {self.name!r} depends on unknown steps {sorted(missing)}"
                )
        self.topological_order()

    def topological_order(self) -> list[str]:
        """Kahn's algorithm, stable in insertion order; a cycle is named in the error."""
        indegree = {nid: len(n.upstream) for nid, n in self.nodes.items()}
        down = self.downstream()
        ready = [nid for nid, d in indegree.items() if d == 0]
        order: list[str] = []
        while ready:
            nid = ready.pop(0)
            order.append(nid)
            for child in down[nid]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        if len(order) != len(self.nodes):
            cycle = _find_cycle({nid: self.nodes[nid].upstream for nid in self.nodes if nid not in order})
            raise InvalidParameter(
                f"Pipeline {self.name!r} has a cycle: {' -> '.join(cycle)}; a step cannot depend on itself"
            )
        return order

    def descendants(self, roots: Iterable[str]) -> set[str]:
        down = self.downstream()
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            nid = stack.pop()
            for child in down.get(nid, ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    def describe(self) -> dict[str, Any]:
        """A JSON-able picture of the graph (stored with each run, drawn by the CLI)."""
        return {
            "name": self.name,
            "nodes": [
                {
                    "id": n.id,
                    "step": n.step.name,
                    "upstream": sorted(n.upstream),
                    "condition": n.condition.describe() if n.condition is not None else None,
                }
                for n in self.nodes.values()
            ],
        }


def _find_cycle(upstream: Mapping[str, Iterable[str]]) -> list[str]:
    """A cycle among ``upstream`` (every node of which lies on or leads into one)."""
    start = next(iter(upstream))
    path: list[str] = []
    seen: dict[str, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(u for u in upstream[node] if u in upstream)
    cycle = path[seen[node]:] + [node]
    cycle.reverse()
    return cycle
