"""Kubernetes: rendered Jobs validate against the Kubernetes schemas; submission goes
through the official client to a *mock API server* (no real cluster runs on these machines)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stead.config import Settings
from stead.pipelines.executors.kubernetes import render_jobs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from s3_server import FAKE_AWS, aws_settings, create_bucket, running_s3_server  # noqa: E402

kubernetes_validate = pytest.importorskip("kubernetes_validate")

PIPE = """
import stead.pipelines as sp

@sp.step(resources={"cpu": 0.5, "memory": "256Mi"})
def prepare(n: int) -> list:
    return list(range(n))

@sp.step(resources={"cpu": 2, "gpu": 1, "memory": "4Gi"}, timeout=600, retries=2)
def train(data: list, lr: float) -> float:
    return lr * sum(data)

@sp.pipeline
def k8s_pipeline(n: int = 4, lr: float = 0.5, name: str = "churn"):
    train(prepare(n), lr)
"""


def test_rendered_jobs_validate_against_kubernetes_schemas(write_module):
    mod = write_module(PIPE)
    graph = mod.k8s_pipeline.build({"lr": 0.1})
    settings = Settings(home=Path("/tmp/x"), store_url="postgresql://stead@db/stead", artifacts_url="s3://ml/artifacts",
                        aws={"AWS_ENDPOINT_URL": "http://minio:9000", "AWS_SECRET_ACCESS_KEY": "secret"})
    jobs = render_jobs(graph, run_id="ab" * 16, source="pipe.py:k8s_pipeline", image="registry.local/churn:1",
                       settings=settings, namespace="ml")
    assert [j["metadata"]["name"] for j in jobs] == ["stead-abababab-prepare", "stead-abababab-train"]
    for job in jobs:
        kubernetes_validate.validate(job, "1.30.0", strict=True)
    train = jobs[1]
    pod = train["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "registry.local/churn:1"
    assert container["resources"] == {"requests": {"cpu": "2", "memory": "4Gi"},
                                      "limits": {"memory": "4Gi", "nvidia.com/gpu": "1"}}
    assert jobs[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "500m"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["STEAD_STORE_URL"] == "postgresql://stead@db/stead" and env["STEAD_ARTIFACTS_URL"] == "s3://ml/artifacts"
    assert env["AWS_ENDPOINT_URL"] == "http://minio:9000" and "AWS_SECRET_ACCESS_KEY" not in env
    assert pod["securityContext"]["runAsNonRoot"] is True and container["securityContext"]["allowPrivilegeEscalation"] is False
    assert train["spec"]["backoffLimit"] == 2 and train["spec"]["activeDeadlineSeconds"] == 600
    assert train["metadata"]["annotations"]["stead.dev/depends-on"] == "prepare"
    assert container["command"][:8] == ["stead", "pipeline", "exec-step", "pipe.py:k8s_pipeline", "--run-id", "ab" * 16,
                                        "--step", "train"]
    assert container["command"][8:] == ["-p", "n=4", "-p", "lr=0.1", "-p", "name=churn"]


def test_render_cli_writes_valid_yaml(tmp_path):
    import yaml

    pipe = tmp_path / "pipe.py"
    pipe.write_text(PIPE)
    out = tmp_path / "jobs.yaml"
    env = {**os.environ, "STEAD_HOME": str(tmp_path / "home"), "STEAD_STORE_URL": "postgresql://stead@db/stead",
           "STEAD_ARTIFACTS_URL": "s3://ml/artifacts"}
    proc = subprocess.run(
        [sys.executable, "-c", "from stead.cli.main import run; run()", "pipeline", "render", f"{pipe}:k8s_pipeline",
         "--target", "kubernetes", "--image", "me/churn:1", "-o", str(out), "-p", "n=2"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    docs = list(yaml.safe_load_all(out.read_text()))
    assert len(docs) == 2
    for doc in docs:
        kubernetes_validate.validate(doc, "1.30.0", strict=True)


@pytest.mark.parametrize("store, artifacts, named", [
    (None, None, "the metadata store sqlite:///"),  # the embedded defaults of a new project
    ("postgresql://stead@db/stead", None, "the artifact root /"),
    (None, "s3://ml/artifacts", "the metadata store sqlite:///"),
])
def test_render_refuses_a_store_pods_cannot_reach(tmp_path, store, artifacts, named):
    pipe = tmp_path / "pipe.py"
    pipe.write_text(PIPE)
    out = tmp_path / "jobs.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEAD_")}
    env.update({"STEAD_HOME": str(tmp_path / "home"), **({"STEAD_STORE_URL": store} if store else {}),
                **({"STEAD_ARTIFACTS_URL": artifacts} if artifacts else {})})
    proc = subprocess.run(
        [sys.executable, "-c", "from stead.cli.main import run; run()", "pipeline", "render", f"{pipe}:k8s_pipeline",
         "--image", "me/churn:1", "-o", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode != 0 and not out.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "[INVALID_PARAMETER_VALUE]" in lines[0] and named in lines[0]
    assert "STEAD_STORE_URL=postgresql://" in lines[0] and "STEAD_ARTIFACTS_URL=s3://" in lines[0]


def test_executor_refuses_local_store_before_recording_a_run(settings, write_module, tmp_path):
    from stead.errors import InvalidParameter
    from stead.pipelines import run_pipeline
    from stead.pipelines.records import PipelineRecords
    from stead.pipelines.store import open_pipeline_store

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                                      "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                                      "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                                      "users": [{"name": "u", "user": {"token": "t"}}]}))
    mod = write_module(PIPE)
    with pytest.raises(InvalidParameter, match="the artifact root"):
        run_pipeline(mod.k8s_pipeline, settings=settings, executor="kubernetes",
                     executor_options={"image": "me/churn:1", "kubeconfig": str(kubeconfig)})
    assert PipelineRecords(open_pipeline_store(settings)).list(None, 10) == []


class _MockApiServer(ThreadingHTTPServer):
    """Answers the two Job calls the executor makes, and "runs the pod" as a local process."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.jobs: dict[str, dict] = {}
        self.workdir = workdir


class _Handler(BaseHTTPRequestHandler):
    server: _MockApiServer

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # create_namespaced_job
        job = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["command"][0] == "stead"
        env = {**os.environ, **{e["name"]: e["value"] for e in container["env"]}, **FAKE_AWS}  # the Secret's keys
        env["STEAD_HOME"] = str(self.server.workdir / "pod-home")
        proc = subprocess.Popen(
            [sys.executable, "-c", "from stead.cli.main import run; run()", *container["command"][1:]],
            env=env, cwd=self.server.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.server.jobs[job["metadata"]["name"]] = {"job": job, "proc": proc}
        self._send(201, job)

    def do_GET(self) -> None:  # read_namespaced_job_status
        name = self.path.split("/jobs/")[1].split("/")[0]
        entry = self.server.jobs[name]
        code = entry["proc"].poll()
        status = {} if code is None else ({"succeeded": 1} if code == 0 else {"failed": 1})
        self._send(200, {**entry["job"], "status": status})

    def do_DELETE(self) -> None:
        self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})


@pytest.fixture
def cluster_settings(tmp_path, postgres_url):  # type: ignore[no-untyped-def]
    """Settings a pod can use: PostgreSQL and an S3 bucket (moto's server on 127.0.0.1)."""
    with running_s3_server() as endpoint:
        yield Settings(home=tmp_path / ".stead", store_url=postgres_url,
                       artifacts_url=f"s3://{create_bucket(endpoint)}/artifacts", aws=aws_settings(endpoint))


def test_executor_submits_jobs_to_mock_api_server(cluster_settings, write_module, tmp_path):
    from stead.pipelines import load_output, run_pipeline

    settings = cluster_settings
    server = _MockApiServer(tmp_path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "mock",
        "clusters": [{"name": "mock", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "contexts": [{"name": "mock", "context": {"cluster": "mock", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
    }))
    mod = write_module(PIPE.replace('"gpu": 1, ', ""))
    try:
        run = run_pipeline(mod.k8s_pipeline, settings=settings, executor="kubernetes",
                           executor_options={"image": "me/churn:1", "kubeconfig": str(kubeconfig),
                                             "poll_interval": 0.1})
    finally:
        server.shutdown()
    assert run.status == "SUCCEEDED", run.error
    assert sorted(server.jobs) == [f"stead-{run.run_id[:8]}-prepare-a1", f"stead-{run.run_id[:8]}-train-a1"]
    assert load_output(run, "train", settings) == 3.0


def test_executor_without_kubeconfig_is_refused(tmp_path):
    from stead.errors import BackendUnavailable
    from stead.pipelines.executors import get_executor

    with pytest.raises(BackendUnavailable, match="No kubeconfig"):
        get_executor("kubernetes", image="x", kubeconfig=str(tmp_path / "missing"))
