"""The UI's route table, as data, and the routes ``create_app`` mounts at ``/``.

Each entry is a ``stead.server.endpoint.Endpoint`` with its ``Access`` rule, like the API's,
so the server's route walk sees every UI route and its rule; the handlers take the request
too (``stead.ui.page.Handler``). The API's tables are mounted first and keep their paths:
the UI owns ``/``, ``/login``, ``/logout``, ``/experiments...``, ``/models...`` and ``/static/...`` only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from stead.server.endpoint import AUTHENTICATED, PUBLIC, Access, ApiCall, Endpoint
from stead.server.router import MountedRoute
from stead.ui.assets import Assets, plotly_file
from stead.ui.experiments import experiments_page, home, keys_json, runs_page
from stead.ui.login import login, login_form, logout
from stead.ui.models import model_page, models_page, rollback_alias, set_alias, version_page
from stead.ui.page import PageApp
from stead.ui.runs import delete_run, metric_json, restore_run, run_page
from stead.ui.web import Response, UiRequest

if TYPE_CHECKING:
    from stead.server.context import ServerContext

__all__ = ["ui_endpoints", "ui_routes"]

_TEMPLATES = Path(__file__).parent / "templates"
_RUN_READ = Access("run", "READ")
_RUN_MANAGE = Access("run", "MANAGE")
_MODEL_READ = Access("registered_model", "READ")
_MODEL_EDIT = Access("registered_model", "EDIT")  # as the API's alias and rollback routes


def ui_endpoints(assets: Assets) -> list[Endpoint]:
    """The UI's route table; static files come from ``assets``."""

    def static(ctx: "ServerContext", call: ApiCall, req: UiRequest) -> Response:
        return assets.response(call.path_params["digest"], call.path_params["name"])

    return [
        Endpoint("GET", "/", home, PUBLIC, "UI: opens MLflow's #/experiments/... links"),
        Endpoint("GET", "/static/{digest}/{name}", static, PUBLIC, "UI: a static file (scripts, styles)"),
        Endpoint("GET", "/login", login_form, PUBLIC, "UI: the login form"),
        Endpoint("POST", "/login", login, PUBLIC, "UI: log in (CSRF token required)"),
        Endpoint("POST", "/logout", logout, PUBLIC, "UI: log out (CSRF token required)"),
        Endpoint("GET", "/experiments", experiments_page, AUTHENTICATED, "UI: experiments the user may read"),
        Endpoint("GET", "/experiments/{experiment_id}", runs_page, Access("experiment", "READ"),
                 "UI: an experiment's runs table"),
        Endpoint("GET", "/experiments/{experiment_id}/keys", keys_json, Access("experiment", "READ"),
                 "UI: param, metric and tag keys of an experiment's runs (column chooser)"),
        Endpoint("GET", "/experiments/{experiment_id}/runs/{run_id}", run_page, _RUN_READ, "UI: a run"),
        Endpoint("GET", "/experiments/{experiment_id}/runs/{run_id}/metric", metric_json, _RUN_READ,
                 "UI: a metric's history, sampled for a chart"),
        Endpoint("POST", "/experiments/{experiment_id}/runs/{run_id}/delete", delete_run, _RUN_MANAGE,
                 "UI: delete a run"),
        Endpoint("POST", "/experiments/{experiment_id}/runs/{run_id}/restore", restore_run, _RUN_MANAGE,
                 "UI: restore a deleted run"),
        Endpoint("GET", "/models", models_page, AUTHENTICATED, "UI: registered models the user may read"),
        Endpoint("GET", "/models/{name}", model_page, _MODEL_READ, "UI: a registered model, its aliases and their history"),
        Endpoint("GET", "/models/{name}/versions/{version}", version_page, _MODEL_READ,
                 "UI: a model version (card, signature, lineage)"),
        Endpoint("POST", "/models/{name}/alias", set_alias, _MODEL_EDIT, "UI: point an alias at a version"),
        Endpoint("POST", "/models/{name}/rollback", rollback_alias, _MODEL_EDIT,
                 "UI: move an alias back to its previous version"),
    ]


def _time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def ui_routes(ctx: "ServerContext") -> tuple[list[Endpoint], list[MountedRoute]]:
    """The UI's table and its routes over ``ctx``; templates (autoescaped) and static files
    are loaded once, here."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    templates = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True, undefined=StrictUndefined,
                            trim_blocks=True, lstrip_blocks=True)
    templates.filters["time"] = _time
    templates.filters["number"] = _number
    assets = Assets(plotly=plotly_file())
    templates.globals["has_asset"] = assets.has
    table = ui_endpoints(assets)
    return table, [MountedRoute(e.path, e.method, PageApp(ctx, e, templates, assets)) for e in table]
