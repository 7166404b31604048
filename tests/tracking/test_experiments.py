"""Experiments on every supported database: create, find, rename, delete, restore, errors."""

from __future__ import annotations

import pytest

from stead.errors import AlreadyExists, InvalidParameter, NotFound
from stead.tracking.records import ViewType


def test_default_experiment_exists(client):
    exp = client.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"


def test_create_get_by_name_and_id(client):
    eid = client.create_experiment("churn", tags={"team": "growth"})
    by_id = client.get_experiment(eid)
    by_name = client.get_experiment_by_name("churn")
    assert by_id == by_name
    assert by_id.tags == {"team": "growth"}
    assert by_id.artifact_location.endswith(f"/{eid}")


def test_duplicate_name_is_refused_and_changes_nothing(client):
    client.create_experiment("churn")
    before = client.search_experiments(ViewType.ALL).items
    with pytest.raises(AlreadyExists, match="'churn' already exists"):
        client.create_experiment("churn")
    assert client.search_experiments(ViewType.ALL).items == before


def test_names_are_canonicalised_before_uniqueness(client):
    client.create_experiment("caf\u00e9")
    with pytest.raises(AlreadyExists):
        client.create_experiment("cafe\u0301 ")  # the same name, decomposed and padded


@pytest.mark.parametrize(
    "bad, message",
    [("", "must not be empty"), ("x" * 501, "limit is 500"), (42, "must be a string"), ("a\x00b", "control")],
)
def test_bad_names_are_refused(client, bad, message):
    with pytest.raises(InvalidParameter, match=message):
        client.create_experiment(bad)


def test_unknown_experiment(client):
    with pytest.raises(NotFound, match="No experiment with id '999'"):
        client.get_experiment("999")
    with pytest.raises(InvalidParameter, match="whole numbers"):
        client.get_experiment("abc")
    assert client.get_experiment_by_name("nope") is None


def test_rename(client):
    eid = client.create_experiment("a")
    client.create_experiment("b")
    client.rename_experiment(eid, "c")
    assert client.get_experiment(eid).name == "c"
    with pytest.raises(AlreadyExists):
        client.rename_experiment(eid, "b")
    assert client.get_experiment(eid).name == "c"


def test_delete_and_restore_take_runs_along(client):
    eid = client.create_experiment("doomed")
    run = client.create_run(eid, record_context=False)
    client.delete_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "deleted"
    assert client.get_run(run.run_id).info.lifecycle_stage == "deleted"
    assert [e.name for e in client.search_experiments(ViewType.DELETED_ONLY).items] == ["doomed"]
    client.restore_experiment(eid)
    assert client.get_run(run.run_id).info.lifecycle_stage == "active"


def test_default_cannot_be_deleted(client):
    with pytest.raises(InvalidParameter, match="cannot be deleted"):
        client.delete_experiment("0")


def test_search_pages_through_everything(client):
    for i in range(7):
        client.create_experiment(f"exp-{i}")
    seen, token = [], None
    while True:
        page = client.search_experiments(max_results=3, page_token=token)
        seen += [e.name for e in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert sorted(seen) == sorted([f"exp-{i}" for i in range(7)] + ["Default"])
    assert len(seen) == len(set(seen))


def test_bad_page_token(client):
    with pytest.raises(InvalidParameter, match="page_token"):
        client.search_experiments(page_token="not-a-token")


def test_experiment_tag(client):
    eid = client.create_experiment("t")
    client.set_experiment_tag(eid, "owner", "ana")
    client.set_experiment_tag(eid, "owner", "bo")
    assert client.get_experiment(eid).tags == {"owner": "bo"}
