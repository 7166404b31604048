"""The UI's pure pieces, without a browser: the runs table's URL state, the login redirect
guard, the CSRF check and the headers every answer carries."""

from __future__ import annotations

import pytest

from stead.errors import InvalidParameter, PermissionDenied
from stead.ui.runs_table import Column, parse_state, sort_link_order
from stead.ui.session import CSRF_COOKIE, check_csrf, safe_next
from stead.ui.web import CSP, UiRequest


def test_the_url_state_round_trips() -> None:
    state = parse_state({"filter": " metrics.acc > 0.5 ", "c": ["metrics.acc", "params.lr", "metrics.acc"],
                         "order": "metrics.acc DESC", "page": "3", "size": "25"})
    assert state.filter == "metrics.acc > 0.5"
    assert state.columns == [Column("metrics", "acc"), Column("params", "lr")]  # a repeated column once
    assert state.order_by == ["metrics.`acc` DESC"]
    assert parse_state(dict(_pairs(state.pairs()))) == state


def _pairs(pairs: list[tuple[str, str]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


def test_keys_with_spaces_and_attributes_sort() -> None:
    assert parse_state({"order": "metrics.f1 score ASC"}).order_by == ["metrics.`f1 score` ASC"]
    assert parse_state({"order": "start_time DESC"}).order_by == ["attributes.start_time DESC"]
    assert parse_state({"order": "tags.team"}).order_by == ["tags.`team` ASC"]
    assert parse_state({"c": "acc"}).columns == [Column("metrics", "acc")]  # a bare key is a metric


def test_sort_links_go_descending_then_ascending() -> None:
    state = parse_state({})
    assert sort_link_order(state, "metrics.acc") == "metrics.acc DESC"
    assert sort_link_order(parse_state({"order": "metrics.acc DESC"}), "metrics.acc") == "metrics.acc ASC"
    assert sort_link_order(parse_state({"order": "metrics.acc ASC"}), "metrics.acc") == "metrics.acc DESC"


@pytest.mark.parametrize("query", [{"page": "0"}, {"page": "x"}, {"size": "100000"}, {"c": [f"m{i}" for i in range(201)]}])
def test_bad_state_is_one_clear_error(query: dict[str, object]) -> None:
    with pytest.raises(InvalidParameter):
        parse_state(query)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x",
                                    "/ok\r\nset-cookie: x=1"])
def test_login_never_redirects_off_the_server(target: str) -> None:
    assert safe_next(target) == "/experiments"


def test_login_returns_to_the_page_asked_for() -> None:
    assert safe_next("/experiments/3?c=metrics.acc") == "/experiments/3?c=metrics.acc"


def _post(cookie: str | None, form_token: str | None, origin: bytes | None = None) -> UiRequest:
    headers = {b"host": b"127.0.0.1:5000"}
    if origin is not None:
        headers[b"origin"] = origin
    return UiRequest("POST", "/logout", {}, {CSRF_COOKIE: cookie} if cookie else {},
                     {"csrf_token": form_token} if form_token else {}, headers)


def test_csrf_needs_both_copies_and_the_same_site() -> None:
    token = "t" * 43
    check_csrf(_post(token, token))
    check_csrf(_post(token, token, b"http://127.0.0.1:5000"))
    for req in (_post(None, token), _post(token, None), _post(token, "u" * 43), _post(None, None),
                _post(token, token, b"https://evil.example")):
        with pytest.raises(PermissionDenied):
            check_csrf(req)


def test_the_policy_allows_no_inline_script() -> None:
    script = next(d for d in CSP.split("; ") if d.startswith("script-src"))
    assert script == "script-src 'self'"
    assert "object-src 'none'" in CSP and "frame-ancestors 'none'" in CSP
