"""The tracking commands as a user runs them: a real `stead` process in a project folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

STEAD = [sys.executable, "-m", "stead.cli"]


def stead(cwd: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    env["COLUMNS"] = "200"
    env.update(env_extra or {})
    return subprocess.run([*STEAD, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    script = (
        "import stead\n"
        "for lr in (0.1, 0.01):\n"
        "    with stead.start_run('churn') as r:\n"
        "        stead.log_param('lr', lr)\n"
        "        stead.log_metric('acc', 0.9 if lr == 0.1 else 0.8)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True,
                   env={k: v for k, v in os.environ.items() if not k.startswith("STEAD_")})
    return tmp_path


def _leaf_commands(command, path=()):
    if getattr(command, "commands", None):  # a group (typer vendors its own click)
        for name, sub in command.commands.items():
            yield from _leaf_commands(sub, (*path, name))
    else:
        yield path, command


def test_every_command_has_help_with_an_example():
    """Walks every command of every noun, so a new command without an example fails here."""
    import typer

    from stead.cli.main import NOUNS, app

    root = typer.main.get_command(app)
    leaves = list(_leaf_commands(root))
    assert {path[0] for path, _ in leaves} >= {"experiments", "runs"}
    assert set(NOUNS) >= {path[0] for path, _ in leaves}
    missing = [" ".join(path) for path, cmd in leaves if "Example:" not in (cmd.help or "")]
    assert missing == [], f"commands whose --help has no example: {missing}"


def test_help_runs_for_a_real_process(tmp_path: Path):
    out = stead(tmp_path, "runs", "list", "--help")
    assert out.returncode == 0 and "Example:" in out.stdout


def test_experiments_and_runs_json(project: Path):
    exps = json.loads(stead(project, "experiments", "list", "--json").stdout)
    assert {e["name"] for e in exps} == {"Default", "churn"}
    runs = json.loads(stead(project, "runs", "list", "-e", "churn", "--json").stdout)
    assert sorted(r["params"]["lr"] for r in runs) == ["0.01", "0.1"]
    best = json.loads(stead(project, "runs", "list", "-e", "churn", "-f", "metrics.acc > 0.85", "--json").stdout)
    assert [r["params"]["lr"] for r in best] == ["0.1"]


def test_tables_for_people(project: Path):
    out = stead(project, "runs", "list", "-e", "churn")
    assert out.returncode == 0
    assert "acc" in out.stdout and "FINISHED" in out.stdout
    run_ids = [r["info"]["run_id"] for r in json.loads(stead(project, "runs", "list", "-e", "churn", "--json").stdout)]
    shown = stead(project, "runs", "show", run_ids[0])
    assert "Params" in shown.stdout and "lr" in shown.stdout
    compared = stead(project, "runs", "compare", *run_ids)
    assert "params.lr *" in compared.stdout


@pytest.mark.parametrize(
    "args, code, exit_status",
    [
        (("runs", "show", "0" * 32), "RESOURCE_DOES_NOT_EXIST", 3),
        (("runs", "list", "-e", "nope"), "RESOURCE_DOES_NOT_EXIST", 3),
        (("runs", "list", "-e", "churn", "-f", "metrics.acc ~ 1"), "INVALID_PARAMETER_VALUE", 2),
        (("experiments", "create", "churn"), "RESOURCE_ALREADY_EXISTS", 4),
        (("runs", "compare", "abc"), "INVALID_PARAMETER_VALUE", 2),
    ],
)
def test_user_errors_are_one_line_with_a_code(project: Path, args, code, exit_status):
    out = stead(project, *args)
    assert out.returncode == exit_status
    assert f"[{code}]" in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_experiment_lifecycle(project: Path):
    assert stead(project, "experiments", "create", "tmp").returncode == 0
    assert stead(project, "experiments", "rename", "tmp", "tmp2").returncode == 0
    assert stead(project, "experiments", "delete", "tmp2").returncode == 0
    deleted = json.loads(stead(project, "experiments", "list", "--deleted", "--json").stdout)
    assert [e["name"] for e in deleted] == ["tmp2"]
