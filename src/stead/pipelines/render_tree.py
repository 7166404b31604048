"""Drawing a pipeline graph as a rich tree, with step statuses when a run is given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["graph_tree"]

_STYLE = {
    "SUCCEEDED": ("green", "✓"), "CACHED": ("cyan", "↺"), "RUNNING": ("yellow", "…"), "PENDING": ("dim", "·"),
    "SKIPPED": ("dim", "⤼"), "FAILED": ("red", "✗"), "UPSTREAM_FAILED": ("red", "⊘"), "CANCELLED": ("magenta", "■"),
}


def _label(node: Mapping[str, Any], step: Any) -> str:
    from rich.markup import escape

    text = f"[bold]{escape(node['id'])}[/bold]"
    if node["step"] != node["id"]:
        text += f" [dim]({escape(node['step'])})[/dim]"
    if node.get("condition"):
        text += f" [dim]when {escape(node['condition'])}[/dim]"
    if step is not None:
        style, mark = _STYLE.get(step.status, ("white", "?"))
        text = f"[{style}]{mark} {step.status}[/{style}] " + text
        if step.cache_hit:
            text += " [cyan]cache hit[/cyan]"
        if step.duration:
            text += f" [dim]{step.duration:.2f}s[/dim]"
        if step.error and step.status in ("FAILED", "SKIPPED", "UPSTREAM_FAILED"):
            text += f" [dim]— {escape(step.error[:100])}[/dim]"
    return text


def graph_tree(described: Mapping[str, Any], steps: Mapping[str, Any]) -> Any:
    """A ``rich.tree.Tree``: roots first, each child under its first upstream, with
    "also after ..." noting its other upstreams so that a DAG reads as a tree."""
    from rich.tree import Tree

    nodes = {n["id"]: n for n in described.get("nodes", [])}
    children: dict[str, list[str]] = {nid: [] for nid in nodes}
    for nid, node in nodes.items():
        if node["upstream"]:
            children[node["upstream"][0]].append(nid)
    root = Tree(f"[bold]pipeline {described.get('name', '')}[/bold]")

    def add(parent: Any, nid: str) -> None:
        node = nodes[nid]
        label = _label(node, steps.get(nid))
        others = node["upstream"][1:]
        if others:
            shown = ", ".join(others[:3]) + (f" +{len(others) - 3}" if len(others) > 3 else "")
            label += f" [dim](also after {shown})[/dim]"
        branch = parent.add(label)
        for child in children[nid]:
            add(branch, child)

    for nid, node in nodes.items():
        if not node["upstream"]:
            add(root, nid)
    return root
