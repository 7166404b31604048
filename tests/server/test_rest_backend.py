"""stead's own remote client (``STEAD_TRACKING_URI=http://...``) against a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stead.config import Settings
from stead.errors import AlreadyExists, InvalidParameter, NotFound, Unauthenticated
from stead.tracking.records import Metric


@pytest.fixture
def remote(live_server: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    from stead.tracking.client import TrackingClient

    c = TrackingClient(Settings(home=tmp_path / "client", tracking_uri=live_server))
    yield c
    c.close()
    c.backend.close()


def test_tracking_through_the_server(remote, tmp_path):
    from stead.tracking.rest_backend import RestBackend

    assert isinstance(remote.backend, RestBackend)
    eid = remote.create_experiment("remote", tags={"a": "b"})
    assert remote.get_experiment(eid).tags == {"a": "b"}
    assert remote.get_experiment_by_name("nope") is None
    run = remote.create_run(eid, run_name="r1")
    rid = run.info.run_id
    assert run.info.artifact_uri == f"mlflow-artifacts:/{eid}/{rid}/artifacts"
    for step in range(50):
        remote.log_metric(rid, "loss", 1.0 / (step + 1), step=step)
    remote.log_metric(rid, "nan", float("nan"))
    remote.log_params(rid, {"lr": 0.1, "depth": 3})
    remote.set_tag(rid, "team", "x")
    remote.flush()
    got = remote.get_run(rid)
    assert got.data.params == {"lr": "0.1", "depth": "3"}
    assert got.data.metrics["loss"].step == 49
    history = remote.get_metric_history(rid, "loss", max_results=20)
    assert len(history.items) == 20 and history.next_page_token
    assert [r.info.run_id for r in remote.search_runs([eid], "params.depth = '3'").items] == [rid]
    with pytest.raises(InvalidParameter):
        remote.log_param(rid, "lr", "0.2")
    with pytest.raises(NotFound):
        remote.get_run("f" * 32)
    with pytest.raises(AlreadyExists):
        remote.create_experiment("remote")

    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_text("alpha")
    (tmp_path / "d" / "sub" / "b.txt").write_text("beta")
    remote.log_artifacts(rid, tmp_path / "d", "dir")
    remote.log_text(rid, "hello", "notes.txt")
    store = remote.run_artifacts(rid)
    assert [f.path for f in store.list("")] == ["dir", "notes.txt"]
    assert store.get_bytes("dir/sub/b.txt") == b"beta"
    store.get_dir("dir", tmp_path / "out")
    assert (tmp_path / "out" / "sub" / "b.txt").read_text() == "beta"
    store.delete("dir/a.txt")
    assert not store.exists("dir/a.txt")
    with pytest.raises(InvalidParameter):
        store.get_bytes("../../etc/passwd")
    remote.set_terminated(rid)
    assert remote.get_run(rid).info.status.value == "FINISHED"


def test_big_upload_streams(remote, tmp_path):
    eid = remote.create_experiment("big")
    rid = remote.create_run(eid, run_name="big").info.run_id
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for i in range(64):
            f.write(bytes([i]) * (1 << 20))
    remote.log_artifact(rid, big)
    store = remote.run_artifacts(rid)
    assert store.size("big.bin") == 64 << 20
    store.get_file("big.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()


def test_auth_with_password_and_token(tmp_path):
    from server_process import stead_server

    from stead.tracking.rest_backend import RestBackend

    home = tmp_path / "srv"
    home.mkdir()
    store_url = f"sqlite:///{home / 'stead.db'}"
    cli = [sys.executable, "-c", "from stead.cli.main import run; run()"]
    subprocess.run([*cli, "users", "create", "admin", "--admin", "--store-url", store_url],
                   input="admin-password\n", text=True, check=True, capture_output=True)
    subprocess.run([*cli, "users", "create", "alice", "--store-url", store_url],
                   input="alice-password\n", text=True, check=True, capture_output=True)
    token = subprocess.run([*cli, "tokens", "create", "alice", "--store-url", store_url, "--json"],
                           text=True, check=True, capture_output=True).stdout
    import json

    token = json.loads(token)["token"]
    with stead_server(home, "--auth", store_url=store_url) as url:
        anon = RestBackend(Settings(tracking_uri=url))
        with pytest.raises(Unauthenticated):
            anon.get_experiment("0")
        admin = RestBackend(Settings(tracking_uri=url, tracking_username="admin", tracking_password="admin-password"))
        eid = admin.create_experiment("secured")
        alice = RestBackend(Settings(tracking_uri=url, tracking_token=token))
        with pytest.raises(NotFound):  # someone else's experiment is answered as a missing one
            alice.get_experiment(eid)
        own = alice.create_experiment("alices")
        assert alice.get_experiment(own).name == "alices"
        for b in (anon, admin, alice):
            b.close()
