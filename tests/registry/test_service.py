"""The registry on SQLite and PostgreSQL: versions, aliases, audit log, rollback, stages, search."""

from __future__ import annotations

import pytest

from stead.errors import AlreadyExists, InvalidParameter, NotFound


def test_versions_auto_number_and_carry_provenance(registry, model_run):
    rid = model_run(acc=0.91, commit="deadbeef")
    v1 = registry.register_model(f"runs:/{rid}/model", "churn", description="Predicts churn")
    v2 = registry.register_model(f"runs:/{model_run()}/model", "churn", tags={"team": "ml"})
    assert (v1.version, v2.version) == (1, 2)
    assert v1.run_id == rid and v1.status == "READY" and v1.current_stage == "None"
    assert v1.metrics == {"acc": 0.91}
    assert v1.git_commit == "deadbeef"
    assert v1.datasets[0]["uri"] == "data:/customers@4"
    assert set(v1.flavors) == {"python_function", "sklearn"}
    assert v1.signature["inputs"] == [{"name": "age", "type": "long"}]
    assert v1.user_id == "alice"
    assert v1.storage_location.endswith(f"{rid}/artifacts/model")
    assert v2.tags == {"team": "ml"}
    model = registry.get_registered_model("churn")
    assert [mv.version for mv in model.latest_versions] == [2]


def test_deleted_version_numbers_are_not_reused(registry, model_run):
    rid = model_run()
    registry.register_model(f"runs:/{rid}/model", "churn")
    registry.register_model(f"runs:/{rid}/model", "churn")
    registry.delete_model_version("churn", 2)
    with pytest.raises(NotFound, match=r"name=churn, version=2"):
        registry.get_model_version("churn", 2)
    assert registry.register_model(f"runs:/{rid}/model", "churn").version == 3
    assert [v.version for v in registry.list_versions("churn")] == [3, 1]


def test_aliases_move_and_the_audit_log_records_each_move(registry, model_run):
    rid = model_run()
    for _ in range(3):
        registry.register_model(f"runs:/{rid}/model", "churn")
    registry.set_alias("churn", "production", 1, reason="first")
    registry.set_alias("churn", "production", 2)
    registry.set_alias("churn", "canary", 3)
    assert registry.get_version_by_alias("churn", "production").version == 2
    assert registry.get_model_version("churn", 3).aliases == ("canary",)
    assert registry.get_registered_model("churn").aliases == {"canary": 3, "production": 2}
    history = registry.alias_history("churn", "production")
    assert [(e.action, e.from_version, e.to_version) for e in history] == [("set", None, 1), ("set", 1, 2)]
    assert history[0].reason == "first" and history[0].user_id == "alice"
    registry.delete_alias("churn", "canary", reason="bad latency")
    events = registry.alias_history("churn")
    assert (events[-1].action, events[-1].from_version, events[-1].to_version) == ("delete", 3, None)
    with pytest.raises(InvalidParameter, match="alias canary not found"):
        registry.get_version_by_alias("churn", "canary")


def test_rollback_walks_back_through_the_log(registry, model_run):
    rid = model_run()
    for _ in range(3):
        registry.register_model(f"runs:/{rid}/model", "churn")
    for version in (1, 2, 3):
        registry.set_alias("churn", "production", version)
    assert registry.rollback("churn", "production", reason="v3 regressed").version == 2
    assert registry.rollback("churn", "production").version == 1
    with pytest.raises(InvalidParameter, match="no earlier version"):
        registry.rollback("churn", "production")
    assert registry.get_version_by_alias("churn", "production").version == 1
    actions = [(e.action, e.from_version, e.to_version) for e in registry.alias_history("churn", "production")]
    assert actions[-2:] == [("rollback", 3, 2), ("rollback", 2, 1)]


def test_rollback_skips_deleted_versions_and_restores_a_deleted_alias(registry, model_run):
    rid = model_run()
    for _ in range(3):
        registry.register_model(f"runs:/{rid}/model", "churn")
    for version in (1, 2, 3):
        registry.set_alias("churn", "production", version)
    registry.delete_model_version("churn", 2)
    assert registry.rollback("churn", "production").version == 1
    registry.set_alias("churn", "staging", 3)
    registry.delete_alias("churn", "staging")
    assert registry.rollback("churn", "staging").version == 3


def test_alias_on_missing_version_or_reserved_name_writes_nothing(registry, model_run):
    registry.register_model(f"runs:/{model_run()}/model", "churn")
    with pytest.raises(NotFound, match="version=7"):
        registry.set_alias("churn", "production", 7)
    for bad in ("latest", "v1", "has space", ""):
        with pytest.raises(InvalidParameter):
            registry.set_alias("churn", bad, 1)
    assert registry.alias_history("churn") == []
    assert registry.get_version_by_alias("churn", "latest").version == 1


def test_legacy_stages(registry, model_run):
    rid = model_run()
    for _ in range(3):
        registry.register_model(f"runs:/{rid}/model", "churn")
    registry.transition_model_version_stage("churn", 1, "production")
    registry.transition_model_version_stage("churn", 2, "Staging")
    mv = registry.transition_model_version_stage("churn", 3, "Production", archive_existing_versions=True)
    assert mv.current_stage == "Production"
    assert registry.get_model_version("churn", 1).current_stage == "Archived"
    assert registry.get_model_version("churn", 2).current_stage == "Staging"
    latest = registry.backend.get_latest_versions("churn", ["Production", "Staging"])
    assert [(v.version, v.current_stage) for v in latest] == [(2, "Staging"), (3, "Production")]
    assert registry.resolve("models:/churn/Production").version == 3
    with pytest.raises(InvalidParameter, match="not an Active stage"):
        registry.transition_model_version_stage("churn", 1, "Archived", archive_existing_versions=True)
    with pytest.raises(InvalidParameter, match="stage"):
        registry.transition_model_version_stage("churn", 1, "Prod")


def test_rename_cascades_to_versions_aliases_and_history(registry, model_run):
    registry.register_model(f"runs:/{model_run()}/model", "churn")
    registry.set_alias("churn", "production", 1)
    registry.set_registered_model_tag("churn", "owner", "ml-team")
    renamed = registry.rename_registered_model("churn", "churn-v2")
    assert renamed.aliases == {"production": 1} and renamed.tags == {"owner": "ml-team"}
    assert registry.get_version_by_alias("churn-v2", "production").name == "churn-v2"
    assert len(registry.alias_history("churn-v2")) == 1
    with pytest.raises(NotFound):
        registry.get_registered_model("churn")
    registry.create_registered_model("other")
    with pytest.raises(AlreadyExists):
        registry.rename_registered_model("other", "churn-v2")


def test_delete_model_removes_everything_but_keeps_the_audit_trail(registry, model_run):
    registry.register_model(f"runs:/{model_run()}/model", "churn")
    registry.set_alias("churn", "production", 1)
    registry.delete_registered_model("churn")
    with pytest.raises(NotFound):
        registry.get_registered_model("churn")
    assert registry.search_model_versions("name = 'churn'").items == []
    # a new model of the same name starts from version 1 with an empty history
    registry.register_model(f"runs:/{model_run()}/model", "churn")
    assert registry.alias_history("churn") == []
    assert registry.get_model_version("churn", 1).version == 1


def test_search_with_filters_order_and_pages(registry, model_run):
    rid = model_run()
    for name in ("alpha", "beta", "gamma", "delta"):
        registry.create_registered_model(name, tags={"team": "ml" if name != "delta" else "bi"})
        registry.backend.create_model_version(name, f"runs:/{rid}/model", rid)
    page = registry.search_registered_models(max_results=3)
    assert [m.name for m in page.items] == ["alpha", "beta", "delta"]
    rest = registry.search_registered_models(max_results=3, page_token=page.next_page_token)
    assert [m.name for m in rest.items] == ["gamma"] and rest.next_page_token is None
    assert [m.name for m in registry.search_registered_models("tags.team = 'bi'").items] == ["delta"]
    assert [m.name for m in registry.search_registered_models("name LIKE '%a'", order_by=["name DESC"]).items] == [
        "gamma", "delta", "beta", "alpha"]
    versions = registry.search_model_versions(f"run_id = '{rid}' AND name != 'beta'")
    assert [v.name for v in versions.items] == ["alpha", "delta", "gamma"]
    assert registry.search_model_versions("version_number > 1").items == []
    with pytest.raises(InvalidParameter, match="unknown field"):
        registry.search_registered_models("metrics.acc > 1")
    with pytest.raises(InvalidParameter, match="max_results"):
        registry.search_registered_models(max_results=0)


def test_register_from_unknown_run_or_missing_artifact_writes_nothing(registry, model_run):
    with pytest.raises(NotFound, match="does not exist"):
        registry.register_model("runs:/0123456789abcdef0123456789abcdef/model", "churn")
    rid = model_run()
    with pytest.raises(NotFound, match="no artifact 'nothing-here'"):
        registry.register_model(f"runs:/{rid}/nothing-here", "churn")
    with pytest.raises(InvalidParameter):
        registry.register_model(f"runs:/{rid}/../other", "churn")
    assert registry.search_registered_models().items == []


@pytest.mark.parametrize("look_alike", [
    "churn%2Dmodel",            # percent-encoded '-'
    "churn\u200b-model",        # zero-width space
    "ｃｈｕｒｎ-model",          # full-width letters (NFKC-equal)
    " churn-model ",            # surrounding space
])
def test_duplicate_names_including_look_alikes_are_refused(registry, look_alike):
    registry.create_registered_model("churn-model")
    with pytest.raises((AlreadyExists, InvalidParameter)):
        registry.create_registered_model(look_alike)
    assert [m.name for m in registry.search_registered_models().items] == ["churn-model"]


def test_composed_and_decomposed_accents_are_one_name(registry):
    registry.create_registered_model("mod\u00e8le")
    with pytest.raises(AlreadyExists):
        registry.create_registered_model("mode\u0300le")
    assert registry.get_registered_model("mode\u0300le").name == "mod\u00e8le"


@pytest.mark.parametrize("bad", ["", "a/b", "a:b", "x" * 256, "a\nb"])
def test_bad_model_names(registry, bad):
    with pytest.raises(InvalidParameter):
        registry.create_registered_model(bad)
