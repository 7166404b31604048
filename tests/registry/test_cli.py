"""`stead models` as a user runs it: a real process in a project folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

STEAD = [sys.executable, "-m", "stead.cli"]


def stead(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    env["COLUMNS"] = "200"
    return subprocess.run([*STEAD, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Three runs of 'churn', each registered as a version; production moved 1 -> 2 -> 3."""
    script = (
        "import pathlib, stead, stead.data, stead.registry as reg\n"
        "pathlib.Path('customers.csv').write_text('id,age\\n1,30\\n2,41\\n')\n"
        "stead.data.add('customers.csv', 'customers')\n"
        "model = pathlib.Path('m'); model.mkdir()\n"
        "(model / 'MLmodel').write_text('flavors:\\n  sklearn: {}\\nsignature:\\n  inputs: \\'[{\"name\": \"age\", \"type\": \"long\"}]\\'\\n')\n"
        "for i, lr in enumerate((0.1, 0.01, 0.001), 1):\n"
        "    with stead.start_run('churn') as r:\n"
        "        stead.log_param('lr', lr)\n"
        "        stead.log_metric('auc', 0.7 + i / 100)\n"
        "        stead.set_tag('mlflow.source.git.commit', f'c0ffee{i}')\n"
        "        stead.log_input('data:/customers@1')\n"
        "        stead.log_artifacts(str(model), 'model')\n"
        "    mv = reg.register_model(f'runs:/{r.info.run_id}/model', 'churn', description='Predicts churn')\n"
        "    reg.set_alias('churn', 'production', mv.version, reason=f'ship {i}')\n"
        "reg.default_client().set_registered_model_tag('churn', 'limitations', 'Not for customers under 18')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_every_command_has_help_with_an_example(tmp_path: Path):
    for command in ("list", "show", "versions", "rollback", "delete", "download", "card", "alias set",
                    "alias delete", "alias history"):
        helped = stead(tmp_path, "models", *command.split(), "--help")
        assert helped.returncode == 0, helped.stderr
        assert "Example:" in helped.stdout, f"stead models {command} --help has no example"


def test_list_show_versions(project: Path):
    models = json.loads(stead(project, "models", "list", "--json").stdout)
    assert [(m["name"], m["aliases"]) for m in models] == [("churn", {"production": 3})]
    shown = json.loads(stead(project, "models", "show", "churn", "--json").stdout)
    assert [v["version"] for v in shown["versions"]] == [3, 2, 1]
    versions = json.loads(stead(project, "models", "versions", "churn", "--json").stdout)
    assert versions[0]["git_commit"] == "c0ffee3" and versions[0]["aliases"] == ["production"]
    table = stead(project, "models", "show", "churn")
    assert table.returncode == 0 and "production" in table.stdout and "auc" in table.stdout


def test_alias_rollback_and_history(project: Path):
    rolled = stead(project, "models", "rollback", "churn@production", "--reason", "v3 regressed")
    assert rolled.returncode == 0, rolled.stderr
    assert "version 2" in rolled.stdout
    history = json.loads(stead(project, "models", "alias", "history", "churn@production", "--json").stdout)
    assert [(e["action"], e["from_version"], e["to_version"]) for e in history] == [
        ("set", None, 1), ("set", 1, 2), ("set", 2, 3), ("rollback", 3, 2)]
    assert history[-1]["reason"] == "v3 regressed"
    assert stead(project, "models", "alias", "set", "churn@canary", "3").returncode == 0
    assert stead(project, "models", "alias", "delete", "churn@canary", "-r", "done").returncode == 0
    missing = stead(project, "models", "alias", "set", "churn@canary", "9")
    assert missing.returncode == 3 and "version=9" in missing.stderr and "Traceback" not in missing.stderr


def test_card_and_download(project: Path):
    out = stead(project, "models", "card", "churn@production", "--out", "card.md")
    assert out.returncode == 0, out.stderr
    card = (project / "card.md").read_text()
    for expected in ("# Model card: churn version 3", "Predicts churn", "data:/customers@1", "| lr | 0.001 |",
                     "| auc | 0.73 |", "`age`: long", "c0ffee3", "Not for customers under 18", "`production`"):
        assert expected in card, expected
    got = stead(project, "models", "download", "models:/churn/1", "--to", "dl")
    assert got.returncode == 0, got.stderr
    assert (project / "dl" / "MLmodel").is_file()


def test_delete_version_and_model(project: Path):
    assert stead(project, "models", "delete", "churn/1", "--yes").returncode == 0
    versions = json.loads(stead(project, "models", "versions", "churn", "--json").stdout)
    assert [v["version"] for v in versions] == [3, 2]
    assert stead(project, "models", "delete", "churn", "--yes").returncode == 0
    gone = stead(project, "models", "show", "churn")
    assert gone.returncode == 3 and "not found" in gone.stderr
