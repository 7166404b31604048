"""``stead.tracking.keys``: the keys an experiment's runs use, by a piece of their name, on
SQLite and PostgreSQL (what the UI's column chooser asks)."""

from __future__ import annotations

from stead.tracking.backend import EmbeddedBackend
from stead.tracking.keys import experiment_keys
from stead.tracking.records import Metric


def test_keys_of_one_experiment_by_a_piece_of_their_name(store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from stead.store import open_store

    store = open_store(store_url)
    backend = EmbeddedBackend(store, str(tmp_path / "artifacts"))
    try:
        ours = backend.create_experiment("ours")
        theirs = backend.create_experiment("theirs")
        for i in range(3):
            run = backend.create_run(ours, tags={"team": "a"})
            backend.log_batch(run.info.run_id, metric_points=[Metric(f"loss_{k:03d}", 1.0, 1, 0) for k in range(120)],
                              param_items={"lr": "0.1", "Batch_Size": "32", "topXk": "5"})
        other = backend.create_run(theirs)
        backend.log_batch(other.info.run_id, metric_points=[Metric("secret_metric", 1.0, 1, 0)],
                          param_items={"secret_param": "x"})
        gone = backend.create_run(ours)
        backend.log_batch(gone.info.run_id, metric_points=[Metric("deleted_only", 1.0, 1, 0)])
        backend.delete_run(gone.info.run_id)

        found = experiment_keys(store, ours, "metrics", "", 50)
        assert found == [f"loss_{k:03d}" for k in range(50)]  # bounded, in name order
        assert experiment_keys(store, ours, "metrics", "s_11", 50) == [f"loss_{k:03d}" for k in range(110, 120)]
        assert "secret_metric" not in experiment_keys(store, ours, "metrics", "secret", 50)  # another experiment's
        assert experiment_keys(store, ours, "metrics", "deleted", 50) == []  # only a deleted run has it
        assert experiment_keys(store, ours, "params", "", 50) == ["Batch_Size", "lr", "topXk"]
        assert experiment_keys(store, ours, "params", "batch", 50) == ["Batch_Size"]  # any case
        assert experiment_keys(store, ours, "params", "h_s", 50) == ["Batch_Size"]
        assert experiment_keys(store, ours, "params", "p_k", 50) == []  # % and _ are literal, not wildcards
        assert experiment_keys(store, ours, "params", "%", 50) == []
        assert experiment_keys(store, ours, "tags", "", 50) == ["team"]  # mlflow.* tags left out
        assert experiment_keys(store, theirs, "params", "", 50) == ["secret_param"]
    finally:
        store.dispose()
