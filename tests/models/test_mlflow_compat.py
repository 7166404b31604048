"""Round trips with the real MLflow 3.17 client, run in its own virtualenv.

``STEAD_TEST_MLFLOW_PYTHON`` names that virtualenv's python (mlflow==3.17.2 is never
installed beside stead). MLflow 3.17 refuses every deserialization unless
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` is true, so the subprocess sets it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import stead.models as sm
from stead.errors import UntrustedModel

MLFLOW_PYTHON = os.environ.get("STEAD_TEST_MLFLOW_PYTHON")
pytestmark = pytest.mark.skipif(
    not MLFLOW_PYTHON, reason="set STEAD_TEST_MLFLOW_PYTHON to a python with mlflow==3.17.2 installed"
)

_LOAD = """
import json, sys
import mlflow.pyfunc, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
frame = pd.read_json(sys.argv[2], orient="split")
print(json.dumps([int(v) for v in model.predict(frame)]))
"""

_SAVE = """
import json, sys
import mlflow.sklearn, pandas as pd
from sklearn.linear_model import LogisticRegression
frame = pd.read_json(sys.argv[2], orient="split")
labels = json.loads(sys.argv[3])
clf = LogisticRegression().fit(frame, labels)
kwargs = {} if sys.argv[4] == "default" else {"serialization_format": sys.argv[4]}
mlflow.sklearn.save_model(clf, sys.argv[1], input_example=frame.head(3), **kwargs)
print(json.dumps([int(v) for v in clf.predict(frame)]))
"""


def _mlflow(code: str, *args: str) -> str:
    env = {**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true", "MLFLOW_TRACKING_URI": "file:///nonexistent"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(MLFLOW_PYTHON), "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout.strip().splitlines()[-1]


def test_mlflow_loads_a_model_saved_by_stead(tmp_path: Path, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    sm.save_model(logistic, tmp_path / "m", input_example=frame.head(3))
    data = tmp_path / "frame.json"
    frame.to_json(data, orient="split")
    got = json.loads(_mlflow(_LOAD, str(tmp_path / "m"), str(data)))
    assert got == [int(v) for v in logistic.predict(frame)]


@pytest.mark.parametrize("fmt", ["cloudpickle", "pickle", "default"])
def test_stead_loads_a_model_saved_by_mlflow(tmp_path: Path, frame, labels, fmt: str) -> None:  # type: ignore[no-untyped-def]
    if fmt == "default":  # MLflow 3.17 writes skops by default
        pytest.importorskip("skops", reason="skops is not installed (MLflow's default sklearn format)")
    data = tmp_path / "frame.json"
    frame.to_json(data, orient="split")
    expected = json.loads(_mlflow(_SAVE, str(tmp_path / "m"), str(data), json.dumps(labels.tolist()), fmt))
    if fmt != "default":  # skops with its safe types needs no opt-in; a pickle does
        with pytest.raises(UntrustedModel, match="model.pkl"):
            sm.load_model(tmp_path / "m")
    model = sm.load_model(tmp_path / "m", trust=fmt != "default")
    assert model.flavor == "sklearn"
    assert model.metadata.mlflow_version == "3.17.2"
    assert [c.name for c in model.signature.inputs.inputs] == ["age", "visits"]
    np.testing.assert_array_equal(model.predict(frame), expected)
