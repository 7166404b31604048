"""Killing add, push or pull half-way (SIGKILL, a real subprocess) and running it again
finishes the job with nothing corrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import stead.data
from data_files import make_files
from stead.data.workspace import Workspace

pytestmark = pytest.mark.slow

N_FILES = 300


def _count(folder: Path) -> int:
    """Complete objects under ``folder``: a write in flight is a hidden ``.<id>.tmp`` file until
    its rename, and a kill leaves it incomplete (rerunning must not count it as there)."""
    if not folder.exists():
        return 0
    return sum(1 for _, _, fs in os.walk(folder) for f in fs if not f.startswith("."))


def _run_and_kill(code: str, env: dict[str, str], watch: Path, at_least: int) -> bool:
    """Start ``code``; SIGKILL it once ``watch`` holds ``at_least`` files. True if it was killed."""
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 60
    while proc.poll() is None and _count(watch) < at_least and time.monotonic() < deadline:
        time.sleep(0.001)  # polling a condition, not waiting for time to pass
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True
    return False


def _verify_cache(settings) -> None:  # type: ignore[no-untyped-def]
    cache = Workspace.from_settings(settings).cache()
    for digest in cache.iter_objects():
        assert cache.verify(digest), f"corrupt object {digest}"


@pytest.fixture
def env(local_project) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**os.environ, "STEAD_HOME": str(local_project.home), "STEAD_STORE_URL": local_project.store_url}


@pytest.fixture
def files() -> dict[str, bytes]:
    make = {f"f{i:03d}": os.urandom(256 << 10) for i in range(N_FILES)}
    make_files(Path.cwd() / "ds", make)
    return make


def test_kill_add_then_rerun(local_project, env, files) -> None:
    killed = _run_and_kill("import stead.data; stead.data.add('ds', 'ds')", env,
                           local_project.home / "cache" / "objects", N_FILES // 4)
    assert killed, "add finished before it could be killed; make the data set larger"
    assert not (Path.cwd() / "ds.stead").exists()
    r = stead.data.add("ds", "ds", settings=local_project)
    assert r.created and r.version.version == 1 and r.version.num_files == N_FILES
    _verify_cache(local_project)
    assert stead.data.status(settings=local_project)[0].clean


def test_kill_push_and_pull_then_rerun(local_project, env, files, tmp_path) -> None:
    stead.data.add("ds", "ds", settings=local_project)
    remote = tmp_path / "remote"
    stead.data.remotes(local_project).add("origin", str(remote))
    assert _run_and_kill("import stead.data; stead.data.push(jobs=2)", env, remote / "blake3", N_FILES // 4)
    r = stead.data.push(settings=local_project)
    assert r.ok and r.already_there >= N_FILES // 4 and r.already_there + r.transferred == N_FILES + 1
    from stead.data.remotes import LocalRemote

    for digest in LocalRemote(str(remote)).list_objects():
        from stead.data.hashing import hash_file

        assert hash_file(LocalRemote(str(remote)).location(digest))[0] == digest
    # pull into an empty cache, killed half-way
    import shutil

    shutil.rmtree(local_project.home / "cache")
    shutil.rmtree(Path.cwd() / "ds")
    assert _run_and_kill("import stead.data; stead.data.pull(jobs=2)", env,
                         local_project.home / "cache" / "objects", N_FILES // 4)
    r = stead.data.pull(settings=local_project)
    assert r.ok
    _verify_cache(local_project)
    for rel, data in files.items():
        assert (Path.cwd() / "ds" / rel).read_bytes() == data
