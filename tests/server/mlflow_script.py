"""One script of official-MLflow-client calls, run against a tracking URI.

Run with the python of a venv that has ``mlflow`` installed (never stead's venv):
    MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python mlflow_script.py WORKDIR BIGFILE_MB
Prints one JSON object: step name -> result, with ids and timestamps replaced by labels so
that two servers' outputs compare equal when they behave the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import mlflow
import requests
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

WORK = Path(sys.argv[1])
BIG_MB = int(sys.argv[2]) if len(sys.argv) > 2 else 0
URI = os.environ["MLFLOW_TRACKING_URI"]
client = MlflowClient()
out: dict[str, object] = {}
labels: dict[str, str] = {}
SYSTEM_TAGS = ("mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.source.git.commit")


def label(value: str, kind: str) -> str:
    if value not in labels:
        labels[value] = f"{kind}{sum(1 for v in labels.values() if v.startswith(kind))}"
    return labels[value]


def exp_json(e) -> dict:
    return {"id": label(e.experiment_id, "exp"), "name": e.name, "stage": e.lifecycle_stage,
            "tags": dict(sorted(e.tags.items())), "loc_suffix": e.artifact_location.split("/")[-1] == e.experiment_id}


def run_json(r) -> dict:
    return {
        "id": label(r.info.run_id, "run"), "exp": label(r.info.experiment_id, "exp"), "name": r.info.run_name,
        "status": r.info.status, "stage": r.info.lifecycle_stage, "has_end": r.info.end_time is not None,
        "uri_ok": r.info.artifact_uri.endswith(f"{r.info.run_id}/artifacts"),
        "params": dict(sorted(r.data.params.items())),
        "metrics": dict(sorted((k, repr(v)) for k, v in r.data.metrics.items())),
        "tags": dict(sorted((k, v) for k, v in r.data.tags.items() if k not in SYSTEM_TAGS)),
        "inputs": sorted((d.dataset.name, d.dataset.digest) for d in (r.inputs.dataset_inputs if r.inputs else [])),
    }


def err(fn) -> dict:
    try:
        fn()
    except MlflowException as exc:
        return {"error_code": exc.error_code}
    return {"error_code": None}


def step(name: str, fn) -> None:
    try:
        out[name] = fn()
    except MlflowException as exc:
        out[name] = {"unexpected_error": exc.error_code, "message": str(exc)[:300]}


# ---- experiments -----------------------------------------------------------------
ea = client.create_experiment("diff-a", tags={"team": "core", "k2": "v2"})
eb = client.create_experiment("diff-b")
ec = client.create_experiment("diff-c")
step("exp_get", lambda: exp_json(client.get_experiment(ea)))
step("exp_by_name", lambda: exp_json(client.get_experiment_by_name("diff-b")))
step("exp_by_name_missing", lambda: client.get_experiment_by_name("no-such-exp") is None)
client.set_experiment_tag(eb, "note", "hello")
client.rename_experiment(ec, "diff-c2")
client.delete_experiment(ec)
step("exp_deleted", lambda: exp_json(client.get_experiment(ec)))
step("exp_search_active", lambda: [exp_json(e) for e in client.search_experiments(filter_string="name LIKE 'diff-%'", order_by=["name ASC"])])
step("exp_search_all", lambda: [exp_json(e) for e in client.search_experiments(view_type=ViewType.ALL, filter_string="name LIKE 'diff-%'", order_by=["name DESC"])])
step("exp_search_deleted", lambda: [exp_json(e) for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)])
step("exp_search_tag", lambda: [exp_json(e) for e in client.search_experiments(filter_string="tags.team = 'core'")])


def paged_experiments():
    pages, token = [], None
    while True:
        page = client.search_experiments(max_results=1, page_token=token, filter_string="name LIKE 'diff-%'", order_by=["name ASC"])
        pages.append([e.name for e in page])
        token = page.token
        if not token:
            return pages


step("exp_search_paged", paged_experiments)
client.restore_experiment(ec)
step("exp_restored", lambda: exp_json(client.get_experiment(ec)))

# ---- runs ------------------------------------------------------------------------
run_ids = []
for i in range(5):
    r = client.create_run(ea, run_name=f"run-{i}", tags={"team": "x" if i % 2 else "y", "idx": str(i)})
    rid = r.info.run_id
    run_ids.append(rid)
    client.log_param(rid, "lr", str(0.1 * (i + 1)))
    client.log_param(rid, "depth", str(i))
    for s in range(30):
        client.log_metric(rid, "loss", 1.0 / (s + 1 + i), step=s, timestamp=1000 + s)
    client.log_metric(rid, "acc", 0.2 * i, step=0, timestamp=5)
    client.log_batch(rid, metrics=[Metric("m_batch", float(j), 100 + j, j) for j in range(10)],
                     params=[Param("bp", "v")], tags=[RunTag("bt", "tv"), RunTag("gone", "soon")])
    client.delete_tag(rid, "gone")
    if i < 3:
        client.set_terminated(rid, "FINISHED" if i < 2 else "FAILED")
step("run_created_shape", lambda: run_json(client.get_run(run_ids[0])))
step("runs_get", lambda: [run_json(client.get_run(r)) for r in run_ids])
# (MLflow's SQL store clamps +-inf to +-1.8e308; stead keeps them: not compared.)
step("run_nan", lambda: (client.log_metric(run_ids[4], "weird", float("nan"), timestamp=1),
                             run_json(client.get_run(run_ids[4]))["metrics"])[-1])
step("history", lambda: [(m.step, m.value, m.timestamp) for m in client.get_metric_history(run_ids[1], "loss")])
step("history_missing_key", lambda: [m.value for m in client.get_metric_history(run_ids[1], "nope")])


def paged_history():
    base = URI + "/api/2.0/mlflow/metrics/get-history"
    token, pages = None, []
    while True:
        q = {"run_id": run_ids[2], "metric_key": "loss", "max_results": 7}
        if token:
            q["page_token"] = token
        body = requests.get(base, params=q, timeout=30).json()
        pages.append([m["step"] for m in body.get("metrics", [])])
        token = body.get("next_page_token")
        if not token:
            return pages


step("history_paged", paged_history)
client.update_run(run_ids[3], name="renamed-3")
client.delete_run(run_ids[4])
step("run_deleted", lambda: run_json(client.get_run(run_ids[4]))["stage"])


def search(filter_string="", order_by=None, max_results=1000, view=ViewType.ACTIVE_ONLY):
    return [label(r.info.run_id, "run") for r in client.search_runs([ea], filter_string, view, max_results, order_by)]


step("search_all", lambda: search(order_by=["attributes.run_name ASC"]))
step("search_metric", lambda: search("metrics.acc > 0.3", ["metrics.acc DESC"]))
step("search_param", lambda: search("params.depth = '1'"))
step("search_tag", lambda: search("tags.team = 'x'", ["attributes.run_name DESC"]))
step("search_status", lambda: search("attributes.status = 'FINISHED'", ["attributes.run_name ASC"]))
step("search_name_like", lambda: search("attributes.run_name LIKE 'run-%'", ["attributes.run_name ASC"]))
step("search_and", lambda: search("metrics.loss < 0.5 and params.lr != '0.1'", ["attributes.run_name ASC"]))
step("search_deleted", lambda: search(view=ViewType.DELETED_ONLY))
step("search_all_views", lambda: search(view=ViewType.ALL, order_by=["attributes.run_name ASC"]))


def paged_runs():
    pages, token = [], None
    while True:
        page = client.search_runs([ea], "", ViewType.ALL, 2, ["attributes.run_name ASC"], token)
        pages.append([r.info.run_name for r in page])
        token = page.token
        if not token:
            return pages


step("search_paged", paged_runs)
step("search_df", lambda: sorted(mlflow.search_runs([ea], order_by=["attributes.run_name ASC"])["tags.mlflow.runName"].tolist()))

# fluent API
mlflow.set_experiment("diff-b")
with mlflow.start_run(run_name="fluent") as active:
    mlflow.log_params({"a": 1, "b": "two"})
    mlflow.log_metrics({"x": 1.5, "y": 2.5}, step=3)
    mlflow.set_tags({"t": "1"})
    fluent_id = active.info.run_id
step("fluent_run", lambda: run_json(client.get_run(fluent_id)))

# ---- artifacts -------------------------------------------------------------------
art = WORK / "art"
(art / "sub" / "deep").mkdir(parents=True, exist_ok=True)
(art / "a.txt").write_text("alpha")
(art / "sub" / "b.json").write_text('{"b": 1}')
(art / "sub" / "deep" / "c.bin").write_bytes(bytes(range(256)) * 10)
arid = run_ids[0]
client.log_artifact(arid, str(art / "a.txt"))
client.log_artifacts(arid, str(art), artifact_path="tree")
client.log_text(arid, "some text", "notes/readme.md")
client.log_dict(arid, {"k": [1, 2]}, "cfg/config.json")


def listing(path=None):
    return [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(arid, path)]


step("art_list_root", listing)
step("art_list_tree", lambda: listing("tree"))
step("art_list_deep", lambda: listing("tree/sub/deep"))
step("art_list_file", lambda: listing("a.txt"))
step("art_list_missing", lambda: listing("nope"))


def download(path):
    dst = WORK / "dl" / path.replace("/", "_")
    dst.mkdir(parents=True, exist_ok=True)
    local = client.download_artifacts(arid, path, str(dst))
    files = {}
    for p in sorted(Path(local).rglob("*")) if Path(local).is_dir() else [Path(local)]:
        if p.is_file():
            files[str(p.relative_to(dst))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return files


step("art_download_file", lambda: download("a.txt"))
step("art_download_dir", lambda: download("tree"))
step("art_load_text", lambda: mlflow.artifacts.load_text(f"runs:/{arid}/notes/readme.md"))
step("art_load_dict", lambda: mlflow.artifacts.load_dict(f"runs:/{arid}/cfg/config.json"))
step("art_download_missing", lambda: err(lambda: download("missing.txt")))

if BIG_MB:
    big = WORK / "big.bin"
    h = hashlib.sha256()
    with open(big, "wb") as f:
        block = os.urandom(1024 * 1024)
        for i in range(BIG_MB):
            chunk = block[i % 1024:] + block[: i % 1024]
            f.write(chunk)
            h.update(chunk)
    want = h.hexdigest()
    client.log_artifact(run_ids[1], str(big), "big")
    big.unlink()
    local = client.download_artifacts(run_ids[1], "big/big.bin", str(WORK / "bigdl"))
    got = hashlib.sha256()
    with open(local, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            got.update(chunk)
    out["art_big"] = {"same_hash": got.hexdigest() == want, "size": os.path.getsize(local)}
    os.unlink(local)

# ---- MLflow 3 logged models -------------------------------------------------------
os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
from sklearn.linear_model import LogisticRegression  # noqa: E402

X = [[float(i), float((i * 7) % 5)] for i in range(24)]
Y = [int(x0 + x1 > 12) for x0, x1 in X]
clf = LogisticRegression().fit(X, Y)
mlflow.set_experiment("diff-models")
with mlflow.start_run(run_name="train") as model_run:
    mlflow.log_param("C", 1.0)
    model_info = mlflow.sklearn.log_model(clf, name="model", input_example=X[:2])
mrid = model_run.info.run_id
mid = model_info.model_id


def lm_json(m) -> dict:
    return {"id": label(m.model_id, "model"), "name": m.name, "exp": label(m.experiment_id, "exp"),
            "run": label(m.source_run_id, "run") if m.source_run_id else None, "status": str(m.status),
            "params": dict(sorted(m.params.items())),
            "tags": dict(sorted((k, v) for k, v in m.tags.items() if not k.startswith("mlflow."))),
            "loc_ok": m.artifact_location.endswith(f"/{m.experiment_id}/models/{m.model_id}/artifacts")}


step("lm_info", lambda: {"uri_ok": model_info.model_uri == f"models:/{mid}", "run": label(model_info.run_id, "run"),
                         "flavors": sorted(model_info.flavors)})
step("lm_get", lambda: lm_json(client.get_logged_model(mid)))
step("lm_search", lambda: [lm_json(m) for m in client.search_logged_models(
    [model_run.info.experiment_id], filter_string="name = 'model'")])
step("lm_search_none", lambda: [lm_json(m) for m in client.search_logged_models(
    [model_run.info.experiment_id], filter_string="name = 'nothing'")])
step("lm_load", lambda: [int(v) for v in mlflow.pyfunc.load_model(model_info.model_uri).predict(X)])
step("lm_set_tags", lambda: (client.set_logged_model_tags(mid, {"quality": "good", "x": "1"}),
                             client.delete_logged_model_tag(mid, "x"), lm_json(client.get_logged_model(mid)))[-1])
step("lm_missing", lambda: err(lambda: client.get_logged_model("m-" + "0" * 32)))
step("lm_delete_missing_tag", lambda: err(lambda: client.delete_logged_model_tag(mid, "never")))

# ---- model registry --------------------------------------------------------------


def rm_json(r) -> dict:
    return {"name": r.name, "description": r.description, "tags": dict(sorted(r.tags.items())),
            "aliases": dict(sorted(r.aliases.items())),
            "latest": sorted((v.version, v.current_stage) for v in r.latest_versions or [])}


def mv_json(v) -> dict:
    source = v.source
    if source.startswith("models:/m-"):
        source = "models:/" + label(source[len("models:/"):], "model")
    return {"name": v.name, "version": v.version, "stage": v.current_stage, "source": source,
            "run": label(v.run_id, "run") if v.run_id else None, "status": v.status,
            "description": v.description, "tags": dict(sorted(v.tags.items())), "aliases": sorted(v.aliases)}


RM = "diff-rm"
step("rm_create", lambda: rm_json(client.create_registered_model(RM, tags={"team": "ml"}, description="first")))
step("rm_dup", lambda: err(lambda: client.create_registered_model(RM)))
step("mv_register_run", lambda: mv_json(mlflow.register_model(f"runs:/{mrid}/model", RM)))
step("mv_create_no_model_id", lambda: err(lambda: client.create_model_version(RM, model_info.model_uri, run_id=mrid)))
step("mv_create_model", lambda: mv_json(client.create_model_version(
    RM, model_info.model_uri, run_id=mrid, tags={"k": "v"}, description="second", model_id=mid)))
step("mv_get", lambda: mv_json(client.get_model_version(RM, "2")))
step("mv_unknown", lambda: err(lambda: client.get_model_version(RM, "99")))
step("rm_get", lambda: rm_json(client.get_registered_model(RM)))
step("rm_missing", lambda: err(lambda: client.get_registered_model("no-such-model")))
step("mv_download_uri", lambda: client.get_model_version_download_uri(RM, "2").endswith(
    f"/models/{mid}/artifacts"))
step("mv_load", lambda: [int(v) for v in mlflow.pyfunc.load_model(f"models:/{RM}/1").predict(X)])
step("rm_update", lambda: (client.update_registered_model(RM, description="changed"),
                           rm_json(client.get_registered_model(RM)))[-1])
step("mv_update", lambda: (client.update_model_version(RM, "1", description="d1"),
                           mv_json(client.get_model_version(RM, "1")))[-1])
step("do_1", lambda: (client.create_registered_model("diff-other") and None))
step("rm_search", lambda: [rm_json(r) for r in client.search_registered_models("name LIKE 'diff-%'",
                                                                               order_by=["name ASC"])])
step("mv_search", lambda: sorted((mv_json(v) for v in client.search_model_versions(f"name = '{RM}'")),
                                 key=lambda d: d["version"]))
step("mv_search_run", lambda: sorted(v.version for v in client.search_model_versions(f"run_id = '{mrid}'")))
step("do_2", lambda: (client.set_registered_model_alias(RM, "champion", "2") and None))
step("do_3", lambda: (client.set_registered_model_alias(RM, "canary", "1") and None))
step("alias_get", lambda: mv_json(client.get_model_version_by_alias(RM, "champion")))
step("alias_on_model", lambda: rm_json(client.get_registered_model(RM)))
step("alias_load", lambda: [int(v) for v in mlflow.pyfunc.load_model(f"models:/{RM}@champion").predict(X)])
step("do_4", lambda: (client.delete_registered_model_alias(RM, "canary") and None))
step("alias_deleted", lambda: err(lambda: client.get_model_version_by_alias(RM, "canary")))
step("alias_missing", lambda: err(lambda: client.get_model_version_by_alias(RM, "never")))
step("alias_bad_version", lambda: err(lambda: client.set_registered_model_alias(RM, "x", "99")))
step("stage_staging", lambda: mv_json(client.transition_model_version_stage(RM, "1", "Staging")))
step("stage_latest", lambda: sorted((v.version, v.current_stage) for v in client.get_latest_versions(RM)))
step("stage_latest_staging", lambda: [v.version for v in client.get_latest_versions(RM, stages=["Staging"])])
step("stage_prod_archive", lambda: (client.transition_model_version_stage(RM, "2", "Production"),
                                    client.transition_model_version_stage(RM, "1", "Production",
                                                                          archive_existing_versions=True),
                                    sorted((v.version, v.current_stage) for v in client.search_model_versions(
                                        f"name = '{RM}'")))[-1])
step("stage_bad", lambda: err(lambda: client.transition_model_version_stage(RM, "1", "Nowhere")))
step("do_5", lambda: (client.set_registered_model_tag(RM, "t1", "a") and None))
step("do_6", lambda: (client.set_registered_model_tag(RM, "t2", "b") and None))
step("do_7", lambda: (client.delete_registered_model_tag(RM, "t2") and None))
step("do_8", lambda: (client.set_model_version_tag(RM, "1", "mt", "x") and None))
step("do_9", lambda: (client.set_model_version_tag(RM, "1", "gone", "y") and None))
step("do_10", lambda: (client.delete_model_version_tag(RM, "1", "gone") and None))
step("tags_after", lambda: {"rm": rm_json(client.get_registered_model(RM))["tags"],
                            "mv": mv_json(client.get_model_version(RM, "1"))["tags"]})
step("rm_rename", lambda: (client.rename_registered_model(RM, "diff-rm2"),
                           rm_json(client.get_registered_model("diff-rm2")))[-1])
step("rm_old_name", lambda: err(lambda: client.get_registered_model(RM)))
step("mv_after_rename", lambda: mv_json(client.get_model_version("diff-rm2", "2")))
step("do_11", lambda: (client.delete_model_version("diff-rm2", "1") and None))
step("mv_deleted", lambda: err(lambda: client.get_model_version("diff-rm2", "1")))
step("rm_after_mv_delete", lambda: rm_json(client.get_registered_model("diff-rm2")))
step("do_12", lambda: (client.delete_registered_model("diff-rm2") and None))
step("rm_deleted", lambda: err(lambda: client.get_registered_model("diff-rm2")))
step("rm_search_after", lambda: [r.name for r in client.search_registered_models("name LIKE 'diff-%'")])
step("do_13", lambda: (client.delete_logged_model(mid) and None))
step("lm_deleted", lambda: err(lambda: client.get_logged_model(mid)))

# ---- errors ----------------------------------------------------------------------
step("err_get_missing_exp", lambda: err(lambda: client.get_experiment("987654")))
step("err_get_bad_exp_id", lambda: err(lambda: client.get_experiment("abc")))
step("err_dup_exp", lambda: err(lambda: client.create_experiment("diff-a")))
step("err_get_missing_run", lambda: err(lambda: client.get_run("0" * 32)))
step("err_param_overwrite", lambda: err(lambda: client.log_param(run_ids[3], "lr", "999")))
step("err_bad_filter", lambda: err(lambda: client.search_runs([ea], "metrics.acc >>> 1")))
step("err_bad_order", lambda: err(lambda: client.search_runs([ea], "", order_by=["nonsense.x DESC"])))
step("err_bad_metric_key", lambda: err(lambda: client.log_metric(run_ids[3], "../bad", 1.0)))
step("err_delete_missing_tag", lambda: err(lambda: client.delete_tag(run_ids[3], "never-set")))
step("err_log_deleted_run", lambda: err(lambda: client.log_param(run_ids[4], "z", "1")))
step("err_too_many_params", lambda: err(lambda: client.log_batch(run_ids[3], params=[Param(f"p{i}", "v") for i in range(101)])))
step("err_long_param", lambda: err(lambda: client.log_param(run_ids[3], "longp", "x" * 6001)))
step("err_run_in_missing_exp", lambda: err(lambda: client.create_run("987654")))
step("err_empty_exp_name", lambda: err(lambda: client.create_experiment("")))


def raw_errors():
    res = {}
    base = URI + "/api/2.0/mlflow"
    cases = {
        "missing_param": ("GET", "/experiments/get", None),
        "missing_run_id": ("GET", "/runs/get", None),
        "create_no_name": ("POST", "/experiments/create", {}),
        "log_metric_missing_value": ("POST", "/runs/log-metric", {"run_id": run_ids[3], "key": "k", "timestamp": 1}),
        "history_bad_max": ("GET", "/metrics/get-history", {"run_id": run_ids[3], "metric_key": "loss", "max_results": 0}),
    }
    for name, (method, path, body) in cases.items():
        if method == "GET":
            r = requests.get(base + path, params=body or {}, timeout=30)
        else:
            r = requests.post(base + path, json=body, timeout=30)
        res[name] = (r.status_code, r.json().get("error_code"))
    r = requests.post(base + "/experiments/create", data='{"name": "x"}', headers={"Content-Type": "text/plain"}, timeout=30)
    res["text_plain"] = (r.status_code, r.json().get("error_code"))
    r = requests.get(URI + "/api/2.0/mlflow-artifacts/artifacts/does/not/exist.txt", timeout=30)
    res["art_missing"] = r.status_code
    return res


step("raw_errors", raw_errors)
print(json.dumps(out, sort_keys=True))
