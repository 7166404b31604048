"""Registry fixtures: a tracking client and a registry client on the same store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def registry(client):  # type: ignore[no-untyped-def]
    """A RegistryClient on the tracking client's store (each supported database)."""
    from stead.registry.client import RegistryClient

    return RegistryClient(tracking=client, user="alice")


@pytest.fixture
def model_run(client, tmp_path: Path) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    """Make a finished run with a tiny MLmodel directory at ``model``; returns its run id."""

    def make(acc: float = 0.9, commit: str = "abc123", artifact: str = "model") -> str:
        exp = client.resolve_experiment("churn", create=True)
        run = client.create_run(exp.experiment_id, record_context=False,
                                tags={"mlflow.source.git.commit": commit, "purpose": "test"})
        rid = run.info.run_id
        client.log_param(rid, "lr", "0.1")
        client.log_metric(rid, "acc", acc)
        from stead.tracking.records import RunInput

        client.log_inputs(rid, [RunInput(name="customers", digest="4", source_type="stead-dataset",
                                         source="data:/customers@4", context="training", uri="data:/customers@4")])
        src = tmp_path / f"m-{rid}"
        src.mkdir()
        (src / "MLmodel").write_text(
            "flavors:\n  python_function:\n    loader_module: x\n  sklearn:\n    pickled_model: model.pkl\n"
            "signature:\n  inputs: '[{\"name\": \"age\", \"type\": \"long\"}]'\n"
            "  outputs: '[{\"type\": \"double\"}]'\n"
        )
        (src / "model.pkl").write_bytes(b"not really a pickle")
        client.log_artifacts(rid, src, artifact)
        client.set_terminated(rid)
        return rid

    return make
