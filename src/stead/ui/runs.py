"""Pages: a run (params, latest metrics, tags, inputs, artifacts), and its delete / restore
buttons, shown only to users who hold MANAGE on its experiment (the route checks it again)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from stead.errors import NotFound
from stead.server.visibility import hidden, sees_everything
from stead.ui.page import View
from stead.ui.web import Response, UiRequest, redirect, url_with

if TYPE_CHECKING:
    from stead.server.context import ServerContext
    from stead.server.endpoint import ApiCall
    from stead.server.users import User
    from stead.tracking.records import Run

__all__ = ["run_page", "metric_json", "delete_run", "restore_run"]

CHART_POINTS = 2000  # at most this many points of a metric's history go to a chart


def _level(ctx: "ServerContext", user: "User | None", experiment_id: str) -> int:
    """The user's level on the experiment (3: everything, without auth and for admins)."""
    if sees_everything(ctx, user):
        return 3
    assert ctx.users is not None and user is not None
    return ctx.users.experiment_levels(user, [experiment_id]).get(experiment_id, 0)


def _run_in(ctx: "ServerContext", call: "ApiCall") -> "Run":
    """The path's run, which must belong to the path's experiment."""
    run = ctx.backend.get_run(call.path_params["run_id"])
    if run.info.experiment_id != call.path_params["experiment_id"]:
        raise NotFound(f"Run {run.info.run_id!r} is not in experiment {call.path_params['experiment_id'][:40]!r}")
    return run


def _artifacts(ctx: "ServerContext", run: "Run", path: str) -> list[dict[str, Any]]:
    from stead.server.routes_artifacts import list_run_artifacts

    listed = list_run_artifacts(ctx, run.info.run_id, path)
    return [{"path": f["path"], "is_dir": bool(f.get("is_dir")), "file_size": f.get("file_size")}
            for f in listed.get("files", [])]


def run_page(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> View:
    try:
        run = _run_in(ctx, call)
    except NotFound:
        raise hidden("Run", call.path_params["run_id"], call.user) from None
    eid = run.info.experiment_id
    experiment = ctx.backend.get_experiment(eid)
    path = req.first("path").strip("/")
    metrics = [{"key": m.key, "value": m.value if math.isfinite(m.value) else str(m.value), "step": m.step,
                "timestamp": m.timestamp} for m in sorted(run.data.metrics.values(), key=lambda m: m.key)]
    info = run.info
    data = {
        "experiment": {"experiment_id": eid, "name": experiment.name},
        "run": {"run_id": info.run_id, "run_name": info.run_name, "status": info.status.value,
                "user_id": info.user_id, "start_time": info.start_time, "end_time": info.end_time,
                "lifecycle_stage": info.lifecycle_stage, "artifact_uri": info.artifact_uri,
                "parent_run_id": info.parent_run_id},
        "params": [{"key": k, "value": v} for k, v in sorted(run.data.params.items())],
        "metrics": metrics,
        "tags": [{"key": k, "value": v} for k, v in sorted(run.data.tags.items())],
        "inputs": [{"name": i.name, "digest": i.digest, "source_type": i.source_type, "source": i.source,
                    "context": i.context, "uri": i.uri} for i in run.inputs],
        "artifact_path": path,
        "artifacts": _artifacts(ctx, run, path),
    }
    base = f"/experiments/{eid}/runs/{info.run_id}"
    parent = path.rpartition("/")[0] if path else None
    keys = [m["key"] for m in metrics]
    chosen = req.first("metric")
    data["chart_metric"] = chosen if chosen in keys else (keys[0] if keys else None)
    extra = {"can_manage": _level(ctx, call.user, eid) >= 3, "base": base,
             "up": url_with(base, [("path", parent)]) if parent is not None else None,
             "dir_link": lambda p: url_with(base, [("path", p)])}
    return View("run.html", data, extra=extra, charts=bool(metrics))


def _sampled(points: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` points spread evenly over the history, the first and the last kept."""
    if len(points) <= limit:
        return points
    stride = (len(points) - 1) / (limit - 1)
    return [points[round(i * stride)] for i in range(limit)]


def metric_json(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> Response:
    """A metric's history for the run page's chart (always JSON): ``steps``, ``values`` (NaN
    and infinities as null) and ``timestamps``, sampled to ``CHART_POINTS``."""
    import msgspec

    run = _run_in(ctx, call)
    key = req.first("key")
    points = _sampled(ctx.backend.get_metric_history(run.info.run_id, key).items, CHART_POINTS)
    body = {"key": key, "steps": [p.step for p in points], "timestamps": [p.timestamp for p in points],
            "values": [p.value if math.isfinite(p.value) else None for p in points]}
    return Response(200, msgspec.json.encode(body), "application/json")


def delete_run(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> Response:
    run = _run_in(ctx, call)
    ctx.backend.delete_run(run.info.run_id)
    return redirect(f"/experiments/{run.info.experiment_id}/runs/{run.info.run_id}")


def restore_run(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> Response:
    run = _run_in(ctx, call)
    ctx.backend.restore_run(run.info.run_id)
    return redirect(f"/experiments/{run.info.experiment_id}/runs/{run.info.run_id}")
