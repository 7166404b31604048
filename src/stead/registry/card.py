"""A model card in Markdown, from what the registry and the run know about a version.

Pure: ``render_card(model, version, run)`` takes records and returns text. Purpose comes
from the descriptions, limitations from tags named ``limitations`` / ``limitation.*``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from stead.registry.records import ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from stead.tracking.records import Run

__all__ = ["render_card"]


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: tuple[str, str], rows: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return ["_none recorded_", ""]
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in rows]
    return [*lines, ""]


def _signature_lines(signature: dict[str, object] | None) -> list[str]:
    if not signature:
        return ["_no signature recorded_", ""]
    lines = []
    for part in ("inputs", "outputs", "params"):
        spec = signature.get(part)
        if not spec:
            continue
        lines.append(f"**{part.capitalize()}**")
        lines.append("")
        if isinstance(spec, list):
            for col in spec:
                if isinstance(col, dict):
                    name = col.get("name", "(unnamed)")
                    kind = col.get("type", "")
                    shape = f" shape {col['tensor-spec']['shape']}" if isinstance(col.get("tensor-spec"), dict) else ""
                    lines.append(f"- `{_cell(name)}`: {_cell(kind)}{shape}")
                else:
                    lines.append(f"- {_cell(col)}")
        else:
            lines.append(f"```json\n{json.dumps(spec, indent=2)}\n```")
        lines.append("")
    return lines


def render_card(model: RegisteredModel, version: ModelVersion, run: "Run | None" = None) -> str:
    """The Markdown card of ``version`` of ``model`` (``run``: the run it came from, if any)."""
    aliases = ", ".join(f"`{a}`" for a in version.aliases) or "none"
    owner = model.tags.get("owner") or version.tags.get("owner") or version.user_id or "unknown"
    out = [
        f"# Model card: {model.name} version {version.version}",
        "",
        f"- **URI:** `models:/{model.name}/{version.version}`",
        f"- **Aliases:** {aliases}",
        f"- **Stage:** {version.current_stage}",
        f"- **Owner:** {_cell(owner)}",
        f"- **Registered by:** {_cell(version.user_id or 'unknown')}",
        f"- **Source run:** `{version.run_id or 'none'}`",
        f"- **Git commit:** `{version.git_commit or 'unknown'}`",
        f"- **Flavors:** {', '.join(version.flavors) or 'unknown'}",
        "",
        "## Purpose",
        "",
        model.description or "_The registered model has no description; set one with the registry API._",
        "",
    ]
    if version.description:
        out += [f"**This version:** {version.description}", ""]
    out += ["## Training data", ""]
    out += _table(("dataset", "version / digest"), [
        (str(d.get("uri") or d.get("name", "")), str(d.get("digest", ""))) for d in version.datasets])
    params = sorted(run.data.params.items()) if run is not None else []
    out += ["## Parameters", ""] + _table(("parameter", "value"), params)
    out += ["## Metrics (at registration)", ""]
    out += _table(("metric", "value"), [(k, f"{v:.6g}" if isinstance(v, float) else str(v))
                                        for k, v in sorted(version.metrics.items())])
    out += ["## Signature", ""] + _signature_lines(version.signature)
    limits = [v for k, v in sorted({**model.tags, **version.tags}.items())
              if k == "limitations" or k.startswith("limitation.")]
    out += ["## Limitations", ""]
    out += [f"- {_cell(v)}" for v in limits] or ["_None recorded; add a `limitations` tag to the model or version._"]
    out.append("")
    tags = sorted((k, v) for k, v in version.tags.items() if k != "limitations" and not k.startswith("limitation."))
    if tags:
        out += ["## Tags", ""] + _table(("tag", "value"), tags)
    return "\n".join(out).rstrip() + "\n"
