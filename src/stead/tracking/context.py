"""What a run records about where it ran: git, Python, packages, host, user, command.

Collected once per process (packages and git are the slow part) and cheap afterwards.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import platform
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["RunContext", "collect_context", "GitState", "git_state", "environment"]


@dataclass(frozen=True)
class GitState:
    commit: str
    dirty: bool
    branch: str | None


@dataclass(frozen=True)
class RunContext:
    user: str
    host: str
    python: str
    command: str
    git: GitState | None
    environment_hash: str
    packages: str

    def tags(self) -> dict[str, str]:
        """System tags, under MLflow's names where MLflow has them so its UI shows them."""
        result = {
            "mlflow.user": self.user,
            "mlflow.source.name": self.command,
            "mlflow.source.type": "LOCAL",
            "stead.host": self.host,
            "stead.python": self.python,
            "stead.environment": self.environment_hash,
        }
        if self.git is not None:
            result["mlflow.source.git.commit"] = self.git.commit
            result["stead.git.dirty"] = "true" if self.git.dirty else "false"
            if self.git.branch:
                result["mlflow.source.git.branch"] = self.git.branch
        return result


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@lru_cache(maxsize=8)
def git_state(cwd: Path) -> GitState | None:
    commit = _git(["rev-parse", "HEAD"], cwd)
    if not commit:
        return None
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
    return GitState(commit=commit, dirty=bool(status), branch=branch if branch != "HEAD" else None)


@lru_cache(maxsize=1)
def environment() -> tuple[str, str, str]:
    """(hash, python version, installed packages as 'name==version' lines)."""
    from importlib import metadata

    names = sorted(
        {f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"]},
        key=str.lower,
    )
    python = platform.python_version()
    packages = "\n".join(names)
    digest = hashlib.sha256(f"{python}\n{packages}".encode()).hexdigest()
    return digest, python, packages


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


@lru_cache(maxsize=1)
def _static() -> tuple[str, str, str]:
    argv = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    return _user(), socket.gethostname(), shlex.join(argv)


def collect_context(cwd: Path | None = None) -> RunContext:
    user, host, command = _static()
    env_hash, python, packages = environment()
    return RunContext(
        user=user,
        host=host,
        python=python,
        command=command,
        git=git_state((cwd or Path.cwd()).resolve()),
        environment_hash=env_hash,
        packages=packages,
    )
