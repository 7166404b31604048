"""The README's first command runs the quickstart: it must keep working end to end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_runs_the_whole_lifecycle(tmp_path: Path):
    project = tmp_path / "examples"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns(".stead", "data", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    env["STEAD_HOME"] = str(project / ".stead")
    done = subprocess.run([sys.executable, "quickstart.py"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for step in ("1. Data", "2. Tracking", "3. Registry", "4. Load", "5. Pipeline", "6. Serving"):
        assert step in out, out
    assert "validation: all" in out and "checks passed" in out
    assert "models:/churn/1 is now models:/churn@production" in out
    assert "5 of 5 steps cached" in out
    assert "/v2/models/churn/infer -> [" in out
