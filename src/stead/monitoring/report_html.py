"""A monitor run's report as one self-contained HTML page: no script, no stylesheet or font
from elsewhere, every chart inline SVG, so it opens offline from the artifact store.

``histograms(reference, columns)`` bins the current window on the reference's own bins
(numeric columns: its quantile edges merged to at most ``bins`` bars; categorical columns:
its most frequent categories and "other"), as shares so the two compare whatever their row
counts. ``render(summary, charts)`` writes the page; every name and value from the data is
escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["histograms", "render"]

_W, _H, _PAD = 460, 150, 24


def histograms(reference: Any, columns: Any, names: Sequence[str], *, bins: int = 20) -> dict[str, dict[str, Any]]:
    """Per column of ``names``: reference and current shares on the reference's bins."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    out: dict[str, dict[str, Any]] = {}
    for name in names:
        ref = reference.columns.get(name)
        if ref is None or name not in columns.names:
            continue
        chunks = columns.column(name)
        arr = pa.chunked_array(chunks, columns.arrow_type(name)) if chunks else pa.chunked_array([], pa.null())
        if ref.kind == "numeric":
            if len(ref.edges) < 2 or not ref.counts:
                continue
            try:
                values = np.asarray(pc.cast(arr.drop_null(), pa.float64()).to_numpy(zero_copy_only=False))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                continue
            values = values[np.isfinite(values)]
            edges = list(ref.edges)
            step = max(1, math.ceil((len(edges) - 1) / bins))
            picks = list(range(0, len(edges), step))
            if picks[-1] != len(edges) - 1:
                picks.append(len(edges) - 1)
            shown = [float(edges[i]) for i in picks]
            counts = list(ref.counts)  # len(edges) + 1 buckets: below, one per bin, at or above the last edge
            ref_bars = [float(sum(counts[a + 1:b + 1])) for a, b in zip(picks, picks[1:])]
            ref_bars[0] += counts[0]
            ref_bars[-1] += counts[-1]
            cur_bars, _ = np.histogram(np.clip(values, shown[0], shown[-1]), bins=np.asarray(shown))
            out[name] = {"kind": "numeric", "edges": shown, "reference": _shares(ref_bars),
                         "current": _shares([float(c) for c in cur_bars])}
        else:
            cats = [str(c) for c, _ in ref.categories[:bins]]
            ref_counts = [float(c) for _, c in ref.categories[:bins]]
            ref_other = float(ref.other + sum(c for _, c in ref.categories[bins:]))
            current = [str(v) for v in arr.drop_null().to_pylist()]
            seen: dict[str, int] = {}
            for v in current:
                seen[v] = seen.get(v, 0) + 1
            cur_counts = [float(seen.get(c, 0)) for c in cats]
            cur_other = float(len(current) - sum(cur_counts))
            if ref_other or cur_other:
                cats, ref_counts, cur_counts = [*cats, "(other)"], [*ref_counts, ref_other], [*cur_counts, cur_other]
            out[name] = {"kind": "categorical", "categories": cats, "reference": _shares(ref_counts),
                         "current": _shares(cur_counts)}
    return out


def _shares(counts: Sequence[float]) -> list[float]:
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _svg_numeric(chart: Mapping[str, Any]) -> str:
    edges = chart["edges"]
    lo, hi = edges[0], edges[-1]
    span = (hi - lo) or 1.0
    dens = [(s / ((b - a) or span)) for key in ("reference", "current")
            for s, a, b in zip(chart[key], edges, edges[1:])]
    top = max(dens + [1e-12])
    x = lambda v: _PAD + (v - lo) / span * (_W - 2 * _PAD)  # noqa: E731
    y = lambda d: _H - _PAD - d / top * (_H - 2 * _PAD)  # noqa: E731
    parts = []
    for s, a, b in zip(chart["reference"], edges, edges[1:]):
        d = s / ((b - a) or span)
        parts.append(f'<rect x="{x(a):.1f}" y="{y(d):.1f}" width="{max(0.5, x(b) - x(a)):.1f}" '
                     f'height="{_H - _PAD - y(d):.1f}" fill="#bbb"/>')
    points = []
    for s, a, b in zip(chart["current"], edges, edges[1:]):
        d = s / ((b - a) or span)
        points += [f"{x(a):.1f},{y(d):.1f}", f"{x(b):.1f},{y(d):.1f}"]
    parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    parts.append(f'<text x="{_PAD}" y="{_H - 6}" font-size="11">{_e(_fmt(lo))}</text>')
    parts.append(f'<text x="{_W - _PAD}" y="{_H - 6}" font-size="11" text-anchor="end">{_e(_fmt(hi))}</text>')
    return _svg("".join(parts))


def _svg_categorical(chart: Mapping[str, Any]) -> str:
    cats = chart["categories"]
    top = max(list(chart["reference"]) + list(chart["current"]) + [1e-12])
    slot = (_W - 2 * _PAD) / max(1, len(cats))
    parts = []
    for i, (cat, r, c) in enumerate(zip(cats, chart["reference"], chart["current"])):
        x0 = _PAD + i * slot
        for j, (share, colour) in enumerate(((r, "#bbb"), (c, "#1f5fbf"))):
            h = share / top * (_H - 2 * _PAD)
            parts.append(f'<rect x="{x0 + j * slot * 0.4 + slot * 0.1:.1f}" y="{_H - _PAD - h:.1f}" '
                         f'width="{slot * 0.4:.1f}" height="{h:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x0 + slot / 2:.1f}" y="{_H - 6}" font-size="10" text-anchor="middle">'
                     f'{_e(str(cat)[:14])}</text>')
    return _svg("".join(parts))


def _svg(body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
            f'role="img">{body}</svg>')


def render(summary: Mapping[str, Any], charts: Mapping[str, Mapping[str, Any]]) -> str:
    """The page: the verdict, the alerts, a row per feature with its chart, the performance."""
    title = f"Monitor {summary.get('monitor')} of deployment {summary.get('deployment')}"
    window = summary.get("window") or {}
    lines = [f"<h1>{_e(title)}</h1>",
             f"<p>Status: <b>{_e(summary.get('status'))}</b>. {_e(summary.get('message') or '')}</p>",
             f"<p>Model {_e(summary.get('model') or '-')}; window {_e(window.get('start_iso', ''))} to "
             f"{_e(window.get('end_iso', ''))}; {_e(summary.get('rows', 0))} rows.</p>"]
    if summary.get("alerts"):
        lines.append("<h2>Alerts</h2><ul>" + "".join(f"<li>{_e(a)}</li>" for a in summary["alerts"]) + "</ul>")
    drift = summary.get("drift") or {}
    if drift:
        lines.append(f"<h2>Drift</h2><p>{_e(drift.get('drifted'))} of {_e(drift.get('tested'))} features drifted "
                     f"(the dataset drifts at a share of {_e(drift.get('drift_share'))}): "
                     f"<b>{'drift' if drift.get('dataset_drift') else 'no drift'}</b>. Grey: the reference; "
                     "blue: this window.</p>")
        lines.append("<table><tr><th>feature</th><th>test</th><th>score</th><th>threshold</th><th>drifted</th>"
                     "<th>reference vs current</th></tr>")
        for f in drift.get("features", []):
            chart = charts.get(f["column"])
            svg = "" if chart is None else (_svg_numeric(chart) if chart["kind"] == "numeric"
                                            else _svg_categorical(chart))
            flag = {True: "yes", False: "no"}.get(f.get("drifted"), f.get("status", ""))
            lines.append(f"<tr><td>{_e(f['column'])}</td><td>{_e(f.get('test') or '')}</td>"
                         f"<td>{_e(_fmt(f.get('score')))}</td><td>{_e(_fmt(f.get('threshold')))}</td>"
                         f"<td>{_e(flag)}</td><td>{svg}</td></tr>")
        lines.append("</table>")
    perf = summary.get("performance") or []
    if perf:
        lines.append("<h2>Performance</h2><table><tr><th>variant</th><th>metric</th><th>value</th>"
                     "<th>estimated</th><th>rows</th></tr>")
        for p in perf:
            lines.append(f"<tr><td>{_e(p.get('variant') or '')}</td><td>{_e(p['metric'])}</td>"
                         f"<td>{_e(_fmt(p['value']))}</td><td>{'yes' if p['estimated'] else 'no'}</td>"
                         f"<td>{_e(p.get('n', ''))}</td></tr>")
        lines.append("</table>")
    style = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
             "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:middle}")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(lines)}</body></html>\n")
