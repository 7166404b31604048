"""Kubernetes: one Job per step, rendered as manifests or submitted by the runner.

Every Job runs ``stead pipeline exec-step REF --run-id R --step S`` in the pipeline's
image: it rebuilds the graph, waits until the step's upstream steps are recorded as done
(so ``kubectl apply`` of all rendered Jobs at once works), runs the step and records it
in the metadata store. ``KubernetesExecutor`` submits those Jobs through the official
kubernetes client (when a kubeconfig is present) and reads each step's record back.
Pods run as a non-root user without privilege escalation.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from stead.errors import BackendUnavailable, InvalidParameter, MissingExtra
from stead.pipelines.execute import StepResult, StepTask
from stead.pipelines.serializers import StoredOutput

if TYPE_CHECKING:
    from stead.config import Settings
    from stead.pipelines.graph import Graph, Node
    from stead.pipelines.records import PipelineRun

__all__ = ["render_jobs", "job_for", "exec_step", "check_cluster_settings", "KubernetesExecutor"]

_UID = 1000
_POD_AWS_KEYS = ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION")  # not the keys: the Secret has them
_NAME = re.compile(r"[^a-z0-9-]+")


def _dns_name(*parts: str) -> str:
    name = _NAME.sub("-", "-".join(parts).lower()).strip("-")
    return name[:63].rstrip("-")


def _quantity(cpu: float) -> str:
    return str(int(cpu)) if float(cpu).is_integer() else f"{int(cpu * 1000)}m"


def _param_args(params: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in params.items():
        args += ["-p", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    return args


def _portable_source(source: str) -> str:
    path, sep, name = source.rpartition(":")
    if sep and path.endswith(".py") and os.path.isabs(path):
        try:
            rel = os.path.relpath(path)
        except ValueError:
            return source
        if not rel.startswith(".."):
            return f"{rel}:{name}"
    return source


def _pod_environment(settings: "Settings") -> list[dict[str, str]]:
    """The Job's variables: where the stores are, a home inside the pod, no secrets (those
    come from the stead-credentials Secret)."""
    from stead.config import settings_environment

    variables = settings_environment(settings)
    env = [{"name": key, "value": variables[key]} for key in ("STEAD_STORE_URL", "STEAD_ARTIFACTS_URL")]
    env += [{"name": "STEAD_HOME", "value": "/tmp/stead"}, {"name": "HOME", "value": "/tmp"}]
    env += [{"name": key, "value": variables[key]} for key in _POD_AWS_KEYS if variables.get(key)]
    return env


def check_cluster_settings(settings: "Settings") -> None:
    """Refuse a store or artifact root that lives in this machine's files: a pod cannot
    reach them, and its Job would fail (or write into its own throw-away disk)."""
    from urllib.parse import urlsplit

    local: list[str] = []
    store = settings.resolved_store_url
    if store.startswith("sqlite"):
        local.append(f"the metadata store {store}")
    artifacts = settings.resolved_artifacts_url
    if urlsplit(artifacts).scheme.lower() in ("", "file", "memory"):
        local.append(f"the artifact root {artifacts}")
    if local:
        raise InvalidParameter(
            f"Kubernetes Jobs cannot use {' or '.join(local)}: pods cannot reach this machine's files. "
            "Point stead at a shared store and artifact root first: STEAD_STORE_URL=postgresql://USER@HOST/DB "
            "and STEAD_ARTIFACTS_URL=s3://BUCKET/PREFIX (plus AWS_ENDPOINT_URL for MinIO or Ceph; passwords and "
            "keys go in the stead-credentials Secret), in the environment or stead.toml"
        )


def job_for(
    node: "Node",
    graph: "Graph",
    *,
    run_id: str,
    source: str,
    image: str,
    settings: "Settings",
    namespace: str = "default",
    backoff_limit: int | None = None,
) -> dict[str, Any]:
    """The Job manifest of one step call."""
    step = node.step
    res = step.resources
    requests: dict[str, str] = {"cpu": _quantity(res.cpu)}
    limits: dict[str, str] = {}
    if res.memory_text:
        requests["memory"] = limits["memory"] = res.memory_text
    if res.gpu:
        limits["nvidia.com/gpu"] = str(math.ceil(res.gpu))
    for name, amount in res.custom:  # extended resources: whole numbers, requested by their limit
        limits[name] = str(math.ceil(amount))
    env = _pod_environment(settings)
    labels = {
        "app.kubernetes.io/managed-by": "stead",
        "stead.dev/run-id": run_id,
        "stead.dev/step": _dns_name(node.id),
    }
    container: dict[str, Any] = {
        "name": "step",
        "image": image,
        "command": ["stead", "pipeline", "exec-step", _portable_source(source), "--run-id", run_id,
                    "--step", node.id, *_param_args(graph.params)],
        "env": env,
        # Credentials (AWS keys, database password) come from this Secret when it exists.
        "envFrom": [{"secretRef": {"name": "stead-credentials", "optional": True}}],
        "resources": {"requests": requests, **({"limits": limits} if limits else {})},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": _UID,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    spec: dict[str, Any] = {
        "backoffLimit": step.retries if backoff_limit is None else backoff_limit,
        "ttlSecondsAfterFinished": 86400,
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "restartPolicy": "Never",
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": _UID,
                    "runAsGroup": _UID,
                    "fsGroup": _UID,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [container],
            },
        },
    }
    if step.timeout:
        spec["activeDeadlineSeconds"] = max(1, math.ceil(step.timeout))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": _dns_name("stead", run_id[:8], node.id),
            "namespace": namespace,
            "labels": labels,
            "annotations": {
                "stead.dev/pipeline": graph.name,
                "stead.dev/depends-on": ",".join(sorted(node.upstream)),
            },
        },
        "spec": spec,
    }


def render_jobs(
    graph: "Graph", *, run_id: str, source: str, image: str, settings: "Settings", namespace: str = "default"
) -> list[dict[str, Any]]:
    """One Job per step, in topological order (each waits for its upstream records)."""
    if not image:
        raise InvalidParameter("Rendering for Kubernetes needs --image (an image with stead and the pipeline code)")
    check_cluster_settings(settings)
    return [
        job_for(graph.nodes[nid], graph, run_id=run_id, source=source, image=image, settings=settings,
                namespace=namespace)
        for nid in graph.topological_order()
    ]


def exec_step(
    ref: str,
    *,
    run_id: str,
    step_id: str,
    params: dict[str, Any],
    settings: "Settings",
    wait_timeout: float = 86400.0,
    poll_interval: float = 2.0,
) -> bool:
    """Run one step of run ``run_id`` here (inside a Job's pod); True when it succeeded."""
    from stead.pipelines.executors.local import LocalExecutor
    from stead.pipelines.loader import load_pipeline
    from stead.pipelines.records import PipelineRecords, PipelineRun, RunStatus, StepRun, StepStatus, now_ms
    from stead.pipelines.store import open_pipeline_store
    from stead.pipelines.walk import Walk

    pipeline = load_pipeline(ref)
    graph = pipeline.build(params)
    if step_id not in graph.nodes:
        raise InvalidParameter(f"Pipeline {pipeline.name!r} has no step {step_id!r}; steps: {sorted(graph.nodes)}")
    records = PipelineRecords(open_pipeline_store(settings))
    shell = PipelineRun(run_id, pipeline.name, ref, graph.params, "kubernetes", RunStatus.RUNNING, now_ms(),
                        start_time=now_ms(), graph=graph.describe(), trigger="kubernetes")
    records.ensure(shell, [StepRun(run_id, n.id, i, n.step.name) for i, n in enumerate(graph.nodes.values())])
    node = graph.nodes[step_id]
    once = copy.copy(node.step)
    once.retries = 0  # retries are the Job's backoffLimit, or the runner's, never both
    graph.nodes[step_id] = node = dataclasses.replace(node, step=once)
    deadline = time.monotonic() + wait_timeout
    while True:
        run = records.get(run_id, with_logs=False)
        ups = [run.step(u) for u in node.upstream]
        if all(u.status in StepStatus.FINAL for u in ups):
            break
        if time.monotonic() > deadline:
            raise BackendUnavailable(f"Step {step_id!r} waited {wait_timeout:g}s for its upstream steps")
        time.sleep(poll_interval)  # waiting on other pods' records, not synchronising threads
    walk = Walk(graph, run, records, LocalExecutor(1), settings, no_cache=run.no_cache)
    walk.restore(run.steps)
    step_run = walk.run_step(step_id)
    run = records.get(run_id, with_logs=False)
    if all(s.status in StepStatus.FINAL for s in run.steps):
        failed = [s for s in run.steps if s.status == StepStatus.FAILED]
        run.status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
        run.end_time = now_ms()
        run.error = "; ".join(f"{s.step_id} ({s.error})" for s in failed) or None
        records.save(run=run)
    return step_run.status in StepStatus.DONE


class KubernetesExecutor:
    """Submits each step as a Job through the kubernetes client and waits for it."""

    name = "kubernetes"

    def __init__(
        self,
        max_parallel: int | None = None,
        *,
        image: str | None = None,
        namespace: str = "default",
        settings: "Settings | None" = None,
        kubeconfig: str | None = None,
        poll_interval: float = 2.0,
    ) -> None:
        try:
            from kubernetes import client, config
        except ImportError:
            raise MissingExtra("The kubernetes executor", "kubernetes") from None
        if not image:
            raise InvalidParameter("The kubernetes executor needs --image (an image with stead and the pipeline code)")
        if settings is not None:
            check_cluster_settings(settings)
        from stead.config import kubeconfig_path

        path = kubeconfig or str(kubeconfig_path())
        if not os.path.exists(path):
            raise BackendUnavailable(f"No kubeconfig at {path}; use `stead pipeline render` and kubectl instead")
        api_client = config.new_client_from_config(config_file=path)
        self._batch = client.BatchV1Api(api_client)
        self.image = image
        self.namespace = namespace
        self.settings = settings
        self.poll_interval = poll_interval
        self.max_parallel = max_parallel or 16
        self._watchers = ThreadPoolExecutor(self.max_parallel, thread_name_prefix="stead-k8s")
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()
        self._jobs: dict[Future[StepResult], str] = {}
        self.graph: "Graph | None" = None
        self.run: "PipelineRun | None" = None

    def bind(self, run: "PipelineRun", graph: "Graph", settings: "Settings") -> None:
        """Refuse a store the pods cannot reach (settings given to the constructor were
        checked there and win)."""
        self.run, self.graph = run, graph
        if self.settings is None:
            check_cluster_settings(settings)
            self.settings = settings

    def inline(self, task: StepTask) -> bool:
        return False

    def submit(self, task: StepTask) -> "Future[StepResult]":
        assert self.graph is not None and self.run is not None and self.settings is not None
        node = self.graph.nodes[task.step_id]
        job = job_for(node, self.graph, run_id=self.run.run_id, source=self.run.source, image=self.image,
                      settings=self.settings, namespace=self.namespace, backoff_limit=0)
        job["metadata"]["name"] = _dns_name(job["metadata"]["name"][:58], f"a{task.attempt}")
        # the stubs want a V1Job; the client serialises a plain manifest dict just the same
        self._batch.create_namespaced_job(self.namespace, job)  # type: ignore[arg-type]
        future = self._watchers.submit(self._wait_for, job["metadata"]["name"], task)
        self._jobs[future] = job["metadata"]["name"]
        return future

    def _wait_for(self, name: str, task: StepTask) -> StepResult:
        from stead.pipelines.records import PipelineRecords
        from stead.pipelines.store import open_pipeline_store

        start = time.time()
        while name not in self._cancelled:
            job = self._batch.read_namespaced_job_status(name, self.namespace)
            status = job.status
            if status is not None and (status.succeeded or status.failed):
                break
            time.sleep(self.poll_interval)  # polling the API server for the Job's state
        assert self.run is not None and self.settings is not None
        record = PipelineRecords(open_pipeline_store(self.settings)).get(self.run.run_id).step(task.step_id)
        ok = record.status in ("SUCCEEDED", "CACHED") and bool(record.outputs)
        return StepResult(
            task.step_id, ok=ok, outputs=[StoredOutput.from_json(o) for o in record.outputs] if ok else [],
            logs=record.logs, error=None if ok else (record.error or f"Job {name} failed"),
            start=start, end=time.time(), tracking_run_id=record.tracking_run_id,
        )

    def cancel(self, future: "Future[StepResult]") -> None:
        name = self._jobs.pop(future, None)
        if name is None:
            return
        self._cancelled.add(name)
        try:
            self._batch.delete_namespaced_job(name, self.namespace, propagation_policy="Background")
        except Exception:
            pass

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            for future in list(self._jobs):
                self.cancel(future)
        self._watchers.shutdown(wait=not cancel, cancel_futures=cancel)
