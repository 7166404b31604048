#!/usr/bin/env python3
"""Set up and run stead from a fresh checkout with nothing but Python 3.11+.

    python3 dev.py demo     # virtualenv in .venv, install stead, run the quickstart
    python3 dev.py test     # virtualenv with the test extras (+ MLflow in .venv-mlflow), run all tests

Only the standard library is used here, so these work before anything is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MLFLOW_VENV = ROOT / ".venv-mlflow"
MLFLOW_VERSION = "3.17.2"


def _python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(*args: object, **kwargs: object) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kwargs)  # type: ignore[arg-type]


def _ensure_venv(env_dir: Path) -> Path:
    python = _python(env_dir)
    if not python.exists():
        print(f"creating virtualenv {env_dir.name}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(env_dir)
        _run(python, "-m", "pip", "install", "-q", "--upgrade", "pip")
    return python


def _install(python: Path, *requirements: str) -> None:
    _run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements)


def demo() -> int:
    python = _ensure_venv(VENV)
    _install(python, "-e", f"{ROOT}[sklearn]")
    # From the root, in its ./.stead: the README's commands and the demo's closing ones run there.
    _run(python, ROOT / "examples" / "quickstart.py", cwd=ROOT)
    return 0


def test(pytest_args: list[str]) -> int:
    python = _ensure_venv(VENV)
    _install(python, "-e", f"{ROOT}[test]")
    mlflow_python = _ensure_venv(MLFLOW_VENV)
    check = subprocess.run([mlflow_python, "-c", f"import mlflow; assert mlflow.__version__ == '{MLFLOW_VERSION}'"],
                           capture_output=True)
    if check.returncode != 0:
        _install(mlflow_python, f"mlflow=={MLFLOW_VERSION}", "scikit-learn")
    env = dict(os.environ)
    env.setdefault("STEAD_TEST_MLFLOW_PYTHON", str(mlflow_python))
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    args = pytest_args or ["-n", "auto"]
    return subprocess.run([python, "-m", "pytest", *args], cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    if argv[0] == "demo":
        return demo()
    return test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
