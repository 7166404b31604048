"""Reference statistics per model version in the metadata store, on SQLite and PostgreSQL:
stored and read back whole, replaced on recompute, features from the model's signature,
computed from the dataset version the model's run trained on, and clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from churn_project import FEATURES, Project, customers, make_project  # noqa: E402

from stead.errors import InvalidParameter, NotFound  # noqa: E402


@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    from stead.store import open_store

    s = open_store(store_url)
    yield s
    s.dispose()


@pytest.fixture
def project(tmp_path: Path, store_url: str) -> Project:
    return make_project(tmp_path / "proj", store_url)


def _table(rows: int = 500, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"age": rng.integers(18, 90, rows), "income": rng.lognormal(10, 1, rows),
                     "city": rng.choice(["Lyon", "Oslo", "Rome"], rows), "label": rng.integers(0, 2, rows),
                     "prediction": rng.random(rows)})


def test_stored_statistics_read_back_whole(store) -> None:  # type: ignore[no-untyped-def]
    from stead.monitoring import compute_reference
    from stead.monitoring.references import compute_and_store, find, get

    assert find(store, "churn", 3) is None
    table = _table()
    stored = compute_and_store(store, "churn", 3, table, user_id="alice")
    assert (stored.model, stored.version, stored.source, stored.source_kind) == ("churn", 3, "table", "table")
    assert stored.rows == 500 and stored.prediction == "prediction"  # the column named like a prediction
    read = get(store, "churn", 3)
    assert read == stored
    assert read.stats.to_json() == compute_reference(table, prediction="prediction").to_json()
    assert read.stats.features == ["age", "income", "city", "label"]  # no signature: every column
    assert read.user_id == "alice" and read.created_at > 0


def test_recomputing_replaces_the_row(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq
    from sqlalchemy import func, select

    from stead.monitoring.references import compute_and_store, get
    from stead.monitoring.tables import reference_stats

    compute_and_store(store, "churn", 3, _table(seed=1))
    pq.write_table(_table(rows=800, seed=2), tmp_path / "train.parquet")
    compute_and_store(store, "churn", 3, str(tmp_path / "train.parquet"))
    again = get(store, "churn", 3)
    assert (again.source, again.source_kind, again.rows) == ("train.parquet", "file", 800)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(reference_stats)).scalar() == 1


def test_signature_names_the_features(store) -> None:  # type: ignore[no-untyped-def]
    from stead.monitoring.references import compute_and_store, find

    signature = {"inputs": [{"name": "age", "type": "long"}, {"name": "city", "type": "string"}],
                 "outputs": [{"type": "double", "name": "prediction"}]}
    stored = compute_and_store(store, "churn", 1, _table(), signature=signature)
    assert stored.stats.features == ["age", "city"] and stored.prediction == "prediction"
    assert set(stored.stats.columns) == {"age", "city", "prediction"}  # the label is not a model input
    with pytest.raises(InvalidParameter, match="lacks the column.*tenure.*signature"):
        compute_and_store(store, "churn", 2, _table(), signature={"inputs": [{"name": "tenure", "type": "long"}]})
    assert find(store, "churn", 2) is None  # nothing half written


def test_missing_statistics_say_how_to_make_them(store) -> None:  # type: ignore[no-untyped-def]
    from stead.monitoring.references import get

    with pytest.raises(NotFound, match=r"churn/3 has no reference statistics.*"
                                       r"stead monitor reference churn@3 --data data:/"):
        get(store, "churn", 3)


def test_bad_data_stores_nothing(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from stead.monitoring.references import compute_and_store, find

    with pytest.raises(NotFound, match="No such file"):
        compute_and_store(store, "churn", 1, str(tmp_path / "nope.parquet"))
    with pytest.raises(InvalidParameter, match="has no column 'score'"):
        compute_and_store(store, "churn", 1, _table(), prediction="score")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidParameter, match="not a Parquet or CSV file"):
        compute_and_store(store, "churn", 1, str(tmp_path / "notes.txt"))
    assert find(store, "churn", 1) is None


def test_model_references() -> None:
    from stead.monitoring.references import model_uri

    assert model_uri("churn@3") == "models:/churn/3"
    assert model_uri("churn@production") == "models:/churn@production"
    assert model_uri("churn/3") == "models:/churn/3"
    assert model_uri("models:/churn/3") == "models:/churn/3"
    assert model_uri("models:/churn@staging") == "models:/churn@staging"
    for bad in ("", "churn", "churn@"):
        with pytest.raises(InvalidParameter):
            model_uri(bad)


def test_version_trained_on_a_dataset_gets_its_statistics_from_lineage(project: Project) -> None:
    from stead.monitoring.references import compute_and_store, ensure, find, resolve_version, training_dataset
    from stead.registry.client import RegistryClient
    from stead.store import open_store
    from stead.tracking.client import TrackingClient

    client = TrackingClient(project.settings())
    store = open_store(project.store_url)
    try:
        registry = RegistryClient(tracking=client)
        version = resolve_version(registry, "churn@production")
        assert version.version == project.version
        assert training_dataset(version) == "data:/customers@1"
        assert find(store, "churn", version.version) is None
        stored = ensure(store, version, settings=project.settings())
        assert stored.source == "data:/customers@1" and stored.source_kind == "dataset"
        assert stored.stats.features == FEATURES and stored.rows == 2000  # not customer_id, not the label
        assert stored.stats.columns["plan"].kind == "categorical"
        assert ensure(store, version, settings=project.settings()) == stored  # computed once, then read
        # an explicit file replaces them, the signature still choosing the columns
        customers(300, seed=1).to_parquet(project.root / "data" / "other.parquet")
        other = compute_and_store(store, "churn", version.version, str(project.root / "data" / "other.parquet"),
                                  signature=version.signature)
        assert other.rows == 300 and other.stats.features == FEATURES
    finally:
        store.dispose()
        client.close()


def test_version_without_lineage_says_how(project: Project) -> None:
    import stead
    from sklearn.linear_model import LogisticRegression

    from stead.monitoring.references import ensure
    from stead.registry.client import RegistryClient
    from stead.store import open_store
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    client = TrackingClient(project.settings())
    store = open_store(project.store_url)
    fluent.set_client(client)
    try:
        table = customers(200, seed=3)
        with fluent.start_run("plain") as run:  # no stead.log_input: no lineage
            x = table[["tenure_months", "monthly_charges"]]
            stead.log_model(LogisticRegression().fit(x, table["churned"]), "model", input_example=x.head(3))
        registry = RegistryClient(tracking=client)
        version = registry.register_model(f"runs:/{run.info.run_id}/model", "plain")
        assert version.datasets == ()
        with pytest.raises(NotFound, match=r"plain/1 has no reference statistics.*stead monitor reference plain@1"):
            ensure(store, version, settings=project.settings())
    finally:
        fluent.set_client(None)
        store.dispose()
        client.close()
