"""Pages: the ``/`` shell (MLflow's ``#/experiments/...`` links), the experiments list, an
experiment's runs table and the key search behind its column chooser.

Every listing goes through the API's own services and permission filter: experiments are
searched with ``visibility.readable_experiments`` in the query, runs with the tracking
search (the MLflow DSL) on an experiment the route's ``Access`` already let the user READ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stead.errors import InvalidParameter
from stead.server.visibility import readable_experiments
from stead.tracking.keys import KEY_KINDS, experiment_keys
from stead.tracking.paging import encode_offset_token
from stead.tracking.records import ViewType
from stead.ui.page import View
from stead.ui.runs_table import PAGE_SIZES, default_columns, parse_state, rows_of, sort_link_order
from stead.ui.web import Response, UiRequest, url_with

if TYPE_CHECKING:
    from stead.server.context import ServerContext
    from stead.server.endpoint import ApiCall

__all__ = ["home", "experiments_page", "runs_page", "keys_json"]

_EXPERIMENTS_PER_PAGE = 100
_KEYS_PER_KIND = 50
_VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}


def home(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> View:
    """The shell at ``/``: its ES module turns ``#/experiments/1/runs/<id>`` into the page's path."""
    return View("home.html", {})


def _view_type(req: UiRequest) -> tuple[str, ViewType]:
    name = req.first("view", "active")
    if name not in _VIEWS:
        raise InvalidParameter(f"Invalid view {name[:20]!r}: use active, deleted or all")
    return name, _VIEWS[name]


def experiments_page(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> View:
    from stead.store.tables import experiments

    filter_text = req.first("filter").strip()
    view_name, view_type = _view_type(req)
    page_no = int(req.first("page", "1")) if req.first("page", "1").isdigit() else 1
    page_no = max(1, page_no)
    error = ""
    items: list[Any] = []
    more = False
    try:
        found = ctx.backend.search_experiments(
            view_type, _EXPERIMENTS_PER_PAGE, filter_text or None, ["name ASC"],
            encode_offset_token((page_no - 1) * _EXPERIMENTS_PER_PAGE) if page_no > 1 else None,
            where=readable_experiments(ctx, call.user, experiments.c.experiment_id),
        )
        items, more = found.items, found.next_page_token is not None
    except InvalidParameter as exc:
        error = exc.message
    rows = [{"experiment_id": e.experiment_id, "name": e.name, "lifecycle_stage": e.lifecycle_stage,
             "creation_time": e.creation_time, "last_update_time": e.last_update_time} for e in items]

    def link(page: int) -> str:
        return url_with("/experiments", [("filter", filter_text), ("view", "" if view_name == "active" else view_name),
                                         ("page", "" if page == 1 else str(page))])

    data = {"experiments": rows, "filter": filter_text, "view": view_name, "page": page_no, "error": error,
            "next": link(page_no + 1) if more else None, "previous": link(page_no - 1) if page_no > 1 else None}
    return View("experiments.html", data, 400 if error else 200)


def runs_page(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> View:
    experiment = ctx.backend.get_experiment(call.path_params["experiment_id"])
    eid = experiment.experiment_id
    state = parse_state(req.query)
    view_name, view_type = _view_type(req)
    error, runs, more = "", [], False
    try:
        found = ctx.backend.search_runs(
            [eid], state.filter or None, view_type, state.size, state.order_by,
            encode_offset_token((state.page - 1) * state.size) if state.page > 1 else None,
        )
        runs, more = found.items, found.next_page_token is not None
    except InvalidParameter as exc:
        error = exc.message
    columns = state.columns if state.chosen else default_columns(runs)
    base = f"/experiments/{eid}"

    def link(**changes: Any) -> str:
        pairs = state.pairs(**{"columns": columns, **changes})
        if view_name != "active":
            pairs.append(("view", view_name))
        return url_with(base, pairs)

    headers = [{"id": c.id, "kind": c.kind, "key": c.key, "sort": link(order=sort_link_order(state, c.id), page=1),
                "remove": link(columns=[x for x in columns if x != c], page=1),
                "sorted": state.order.rpartition(" ")[2] if state.order.rpartition(" ")[0] == c.id else ""}
               for c in columns]
    data = {
        "experiment": {"experiment_id": eid, "name": experiment.name, "lifecycle_stage": experiment.lifecycle_stage,
                       "tags": experiment.tags},
        "filter": state.filter, "order": state.order, "page": state.page, "size": state.size, "view": view_name,
        "columns": headers, "runs": rows_of(runs, columns), "error": error,
        "next": link(page=state.page + 1) if more else None,
        "previous": link(page=state.page - 1) if state.page > 1 else None,
    }
    extra = {"sizes": [(n, link(size=n, page=1)) for n in PAGE_SIZES],
             "sort_name": link(order=sort_link_order(state, "run_name"), page=1),
             "sort_start": link(order=sort_link_order(state, "start_time"), page=1),
             "column_ids": [c.id for c in columns], "state_pairs": state.pairs(columns=columns, page=1)}
    return View("runs.html", data, 400 if error else 200, extra)


def keys_json(ctx: "ServerContext", call: "ApiCall", req: UiRequest) -> Response:
    """The column chooser's suggestions (always JSON): up to 50 keys of each kind containing ``q``."""
    import msgspec

    eid = ctx.backend.get_experiment(call.path_params["experiment_id"]).experiment_id
    text = req.first("q")[:250]
    found = {kind: experiment_keys(ctx.store, eid, kind, text, _KEYS_PER_KIND) for kind in KEY_KINDS}
    return Response(200, msgspec.json.encode({"q": text, **found}), "application/json")
