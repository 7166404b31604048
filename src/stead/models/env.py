"""The environment files of a model directory: requirements.txt, conda.yaml, python_env.yaml.

These are data for whoever rebuilds the environment; stead itself never hands them to a
shell (``python_env.yaml`` dependencies into ``bash -c`` was CVE-2025-15379).
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import yaml

from stead.errors import InvalidParameter

__all__ = ["REQUIREMENTS", "CONDA", "PYTHON_ENV", "pinned", "write_env_files"]

REQUIREMENTS = "requirements.txt"
CONDA = "conda.yaml"
PYTHON_ENV = "python_env.yaml"


def pinned(distribution: str) -> str | None:
    """``name==version`` of an installed distribution, or None when it is not installed."""
    try:
        return f"{distribution}=={metadata.version(distribution)}"
    except metadata.PackageNotFoundError:
        return None


def _check(requirements: list[str]) -> list[str]:
    out = []
    for req in requirements:
        if not isinstance(req, str) or not req.strip() or "\n" in req or "\r" in req:
            raise InvalidParameter(f"pip requirement {req!r} must be one non-empty line")
        out.append(req.strip())
    return out


def write_env_files(model_dir: Path, requirements: list[str]) -> None:
    """Write the three environment files MLflow writes, pinned to this interpreter."""
    reqs = _check(requirements)
    python = platform.python_version()
    (model_dir / REQUIREMENTS).write_text("\n".join(reqs) + ("\n" if reqs else ""), encoding="utf-8")
    pip = pinned("pip")
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", f"pip<={pip.split('==')[1]}" if pip else "pip", {"pip": reqs}],
        "name": "stead-env",
    }
    (model_dir / CONDA).write_text(yaml.safe_dump(conda, default_flow_style=False), encoding="utf-8")
    build = [p for p in (pinned("pip"), pinned("setuptools"), pinned("wheel")) if p]
    python_env = {"python": python, "build_dependencies": build, "dependencies": [f"-r {REQUIREMENTS}"]}
    (model_dir / PYTHON_ENV).write_text(yaml.safe_dump(python_env, default_flow_style=False), encoding="utf-8")
