"""The official mlflow client against a real `stead server` process, and back through stead."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

MLFLOW_PYTHON = os.environ.get("STEAD_TEST_MLFLOW_PYTHON")
SCRIPT = Path(__file__).with_name("mlflow_registry_script.py")


@pytest.mark.skipif(not MLFLOW_PYTHON, reason="set STEAD_TEST_MLFLOW_PYTHON to a python with mlflow==3.17.2")
def test_mlflow_client_round_trip(tmp_path: Path):
    from server_process import stead_server

    from stead.config import Settings
    from stead.registry.client import RegistryClient

    with stead_server(tmp_path / "server") as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STEAD_", "MLFLOW_"))}
        env["MLFLOW_TRACKING_URI"] = url
        proc = subprocess.run([str(MLFLOW_PYTHON), str(SCRIPT), str(tmp_path / "work")], capture_output=True,
                              text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
        seen = json.loads(proc.stdout.strip().splitlines()[-1])
        assert seen["created"] == {"name": "churn", "tags": {"team": "ml"}, "description": "Predicts churn"}
        assert seen["versions"] == ["1", "2", "READY"]
        assert seen["by_alias"] == {"version": "2", "aliases": ["production"]}
        assert seen["download_uri"] is True
        assert seen["model_aliases"] == {"production": "2"}
        assert seen["search"] == ["churn"] and seen["search_versions"] == ["1", "2"]
        assert seen["version_tags"] == {"validated": "yes"}
        assert seen["stage"] == "Staging" and seen["latest"] == ["2"]
        assert seen["description"] == "first"
        assert "MLmodel" in seen["downloaded"]
        assert seen["etc"] == "INVALID_PARAMETER_VALUE"
        assert seen["missing"] == "RESOURCE_DOES_NOT_EXIST"
        assert seen["after_delete"] == {}

        # and stead's own client reads what the mlflow client wrote, audit log included
        reg = RegistryClient(Settings(home=tmp_path / "client", tracking_uri=url))
        assert reg.get_version("churn/2").metrics == {"auc": 0.75}
        history = reg.alias_history("churn", "production")
        assert [(e.action, e.from_version, e.to_version) for e in history] == [
            ("set", None, 1), ("set", 1, 2), ("delete", 2, None)]
        assert reg.rollback("churn", "production").version == 2
