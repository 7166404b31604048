"""Registry calls made with the official MLflow client against a tracking URI.

Run with a python that has ``mlflow`` installed (not stead's venv):
    MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python mlflow_registry_script.py WORKDIR
Prints one JSON object of what the client saw.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

work = Path(sys.argv[1])
client = MlflowClient()
out: dict[str, object] = {}

exp = client.create_experiment("churn")
run = client.create_run(exp)
rid = run.info.run_id
model_dir = work / "model"
model_dir.mkdir(parents=True, exist_ok=True)
(model_dir / "MLmodel").write_text("flavors:\n  python_function: {}\n")
client.log_artifacts(rid, str(model_dir), "model")
client.log_metric(rid, "auc", 0.75)
client.set_terminated(rid)

rm = client.create_registered_model("churn", tags={"team": "ml"}, description="Predicts churn")
out["created"] = {"name": rm.name, "tags": rm.tags, "description": rm.description}
mv1 = client.create_model_version("churn", f"runs:/{rid}/model", run_id=rid)
mv2 = mlflow.register_model(f"runs:/{rid}/model", "churn")
out["versions"] = [mv1.version, mv2.version, mv1.status]
client.set_registered_model_alias("churn", "production", mv1.version)
client.set_registered_model_alias("churn", "production", mv2.version)
by_alias = client.get_model_version_by_alias("churn", "production")
out["by_alias"] = {"version": by_alias.version, "aliases": list(by_alias.aliases)}
out["download_uri"] = client.get_model_version_download_uri("churn", "1").endswith("/model")
out["model_aliases"] = client.get_registered_model("churn").aliases
out["search"] = [m.name for m in client.search_registered_models(filter_string="name LIKE 'ch%'")]
out["search_versions"] = sorted(v.version for v in client.search_model_versions(f"run_id = '{rid}'"))
client.set_model_version_tag("churn", "1", "validated", "yes")
out["version_tags"] = client.get_model_version("churn", "1").tags
staged = client.transition_model_version_stage("churn", "2", "Staging")
out["stage"] = staged.current_stage
out["latest"] = [v.version for v in client.get_latest_versions("churn", stages=["Staging"])]
client.update_model_version("churn", "1", description="first")
out["description"] = client.get_model_version("churn", "1").description
downloaded = mlflow.artifacts.download_artifacts("models:/churn@production", dst_path=str(work / "dl"))
out["downloaded"] = sorted(p.name for p in Path(downloaded).iterdir())
try:
    client.create_model_version("churn", "file:///etc", run_id=rid)
    out["etc"] = "accepted"
except MlflowException as exc:
    out["etc"] = exc.error_code
try:
    client.get_registered_model("nope")
except MlflowException as exc:
    out["missing"] = exc.error_code
client.delete_registered_model_alias("churn", "production")
out["after_delete"] = client.get_registered_model("churn").aliases
print(json.dumps(out))
