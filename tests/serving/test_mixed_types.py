"""Models whose columns mix integers, floats, booleans and strings, through every input format.

JSON rows read as one block merge their types (``[3, 65.3, true, "pro"]``), so each column is
checked with the type of its own values; a float block still goes to an all-float model as
it is. One scikit-learn pipeline (one-hot plan + logistic regression) on int, float, bool and
string columns is served by a real `stead serve` process; a numeric model with a boolean
column runs in-process on the one-block path.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from serving_helpers import Home
from server_process import free_port, run_server

COLUMNS = ["tenure", "charges", "paperless", "plan"]


def _table(n: int, seed: int) -> Any:
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame({"tenure": rng.integers(1, 72, n), "charges": rng.normal(70, 20, n).round(2),
                         "paperless": rng.integers(0, 2, n).astype(bool),
                         "plan": rng.choice(["basic", "plus", "pro"], n)})


def _mixed_model() -> tuple[Any, Any]:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    df = _table(300, 0)
    y = ((df.tenure < 20) ^ (df.plan == "basic") ^ df.paperless).astype(int)
    encode = ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough")
    return make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(df, y), df


def _register(home: Home, model: Any, example: Any, name: str) -> None:
    from stead.models.log import log_model
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    fluent.set_client(TrackingClient(home.settings()))
    try:
        with fluent.start_run():
            info = log_model(model, "model", input_example=example, registered_model_name=name)
    finally:
        fluent.set_client(None)
    home.registry().set_alias(name, "production", int(info.registered_model_version))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A served mixed-type model (warmed on its own saved input example) and the model itself."""
    path = tmp_path_factory.mktemp("mixed-home")
    home = Home(path, f"sqlite:///{path / 'stead.db'}")
    model, df = _mixed_model()
    _register(home, model, df.iloc[:3], "mixed")
    port = free_port()
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "serve", "models:/mixed@production",
            "--port", str(port)]
    env = {**home.env(), "STEAD_TRUST_PICKLE": "1"}  # a pipeline with a one-hot encoder is pickled
    with run_server(argv, port, env, deadline_s=60, health_path="/v2/health/ready",
                    log_path=path / "serve.log") as url:
        yield url, model


def _bodies(rows: Any) -> dict[str, dict[str, Any]]:
    records = json.loads(rows.to_json(orient="records"))
    split = json.loads(rows.to_json(orient="split", index=False))
    return {
        "dataframe_split": {"dataframe_split": split},
        "dataframe_records": {"dataframe_records": records},
        "instances (records)": {"instances": records},
        "instances (rows)": {"instances": split["data"]},
        "inputs (columns)": {"inputs": {c: rows[c].tolist() for c in rows.columns}},
        "inputs (rows)": {"inputs": split["data"]},
    }


def _v2(rows: Any) -> dict[str, Any]:
    types = {"tenure": "INT64", "charges": "FP64", "paperless": "BOOL", "plan": "BYTES"}
    return {"inputs": [{"name": c, "shape": [len(rows)], "datatype": types[c], "data": rows[c].tolist()}
                       for c in rows.columns]}


def test_every_format_answers_what_the_model_predicts(mixed: tuple[str, Any]) -> None:
    url, model = mixed
    rows = _table(6, 1)
    want = model.predict(rows).tolist()
    for name, body in _bodies(rows).items():
        r = httpx.post(f"{url}/invocations", json=body)
        assert r.status_code == 200, (name, r.text)
        assert r.json() == {"predictions": want}, name
    r = httpx.post(f"{url}/v2/models/mixed/infer", json=_v2(rows))
    assert r.status_code == 200, r.text
    assert r.json()["outputs"][0]["data"] == want


def test_tritonclient_sends_bytes_bool_int_and_float_tensors(mixed: tuple[str, Any]) -> None:
    import tritonclient.http as triton

    url, model = mixed
    rows = _table(5, 5)
    arrays = {"tenure": (rows.tenure.to_numpy(np.int64), "INT64"), "charges": (rows.charges.to_numpy(), "FP64"),
              "paperless": (rows.paperless.to_numpy(), "BOOL"),
              "plan": (rows.plan.to_numpy().astype(object), "BYTES")}
    client = triton.InferenceServerClient(url.removeprefix("http://"))
    try:
        tensors = []
        for name, (arr, datatype) in arrays.items():
            tensors.append(triton.InferInput(name, [len(arr)], datatype))
            tensors[-1].set_data_from_numpy(arr)  # binary data, the client's default
        result = client.infer("mixed", tensors)
    finally:
        client.close()
    assert result.as_numpy("predict").tolist() == model.predict(rows).tolist()


def test_whole_floats_are_accepted_for_an_integer_column(mixed: tuple[str, Any]) -> None:
    url, model = mixed
    rows = _table(2, 2)
    body = {"dataframe_split": {"columns": COLUMNS, "data": [[float(r.tenure), r.charges, bool(r.paperless), r.plan]
                                                             for r in rows.itertuples()]}}
    r = httpx.post(f"{url}/invocations", json=body)
    assert r.status_code == 200 and r.json()["predictions"] == model.predict(rows).tolist()


@pytest.mark.parametrize(("row", "field", "problem"), [
    ([3.5, 70.0, True, "pro"], "tenure", "is float64 with a value that is not a whole number (3.5) but the "
                                         "signature wants long"),
    ([3, "cheap", True, "pro"], "charges", "is string but the signature wants double"),
    ([3, 70.0, "yes", "pro"], "paperless", "is string but the signature wants boolean"),
    ([3, 70.0, True, 5], "plan", "is int64 but the signature wants string"),
    ([3, 70.0, None, "pro"], "paperless", "is missing values but the signature wants boolean"),
])
def test_a_mistyped_column_is_named(mixed: tuple[str, Any], row: list[Any], field: str, problem: str) -> None:
    url, _ = mixed
    for body in ({"dataframe_split": {"columns": COLUMNS, "data": [row]}}, {"instances": [row]},
                 {"dataframe_records": [dict(zip(COLUMNS, row))]}):
        r = httpx.post(f"{url}/invocations", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error_code"] == "BAD_REQUEST"
        assert r.json()["fields"] == [{"name": field, "problem": problem}], body


# ---- a numeric model with a boolean column: the one-block path, in-process ---------------------------
@pytest.fixture(scope="module")
def numeric_runtime(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    from sklearn.linear_model import LogisticRegression

    from stead.models.save import save_model
    from stead.serving.runtime import ModelRuntime

    df = _table(300, 3)[["tenure", "charges", "paperless"]]
    y = ((df.tenure < 30) ^ df.paperless).astype(int)
    model = LogisticRegression(max_iter=1000).fit(df, y)
    path = tmp_path_factory.mktemp("numeric") / "model"
    save_model(model, path, input_example=df.iloc[:3])
    runtime = ModelRuntime(str(path), name="numeric", version="1",
                           model_config={"stead.trust_pickle": True})  # a cloudpickle written here
    asyncio.run(runtime.load())  # warms on the saved example: ints, floats and booleans in rows
    return runtime, model


def _predict(runtime: Any, body: dict[str, Any], v2: bool = False) -> list[int]:
    from stead.serving.oip import decode_infer
    from stead.serving.scoring import decode_invocation

    raw = json.dumps(body).encode()
    inputs = decode_infer(raw, runtime.column_names).inputs if v2 else decode_invocation(raw, "application/json")
    prepared = runtime.prepare(inputs)
    assert isinstance(prepared.data, np.ndarray) and prepared.data.dtype == np.float64  # one block
    out = runtime.predict_batch([prepared])[0]
    assert not isinstance(out, BaseException), out
    return next(iter(out.values())).tolist()


def test_int_float_and_bool_columns_on_the_one_block_path(numeric_runtime: tuple[Any, Any]) -> None:
    runtime, model = numeric_runtime
    rows = _table(5, 4)[["tenure", "charges", "paperless"]]
    want = model.predict(rows).tolist()
    for name, body in _bodies(rows).items():
        assert _predict(runtime, body) == want, name
    assert _predict(runtime, _v2(rows), v2=True) == want


def test_the_float_block_of_an_all_float_model_is_not_copied(tmp_path: Path) -> None:
    from stead.serving.inputs import check_columns
    from stead.serving.scoring import decode_invocation

    body = {"dataframe_split": {"columns": ["a", "b"], "data": [[1.5, 2], [3, 4.25]]}}
    inputs = decode_invocation(json.dumps(body).encode(), "application/json")
    block = check_columns((("a", "double", True), ("b", "double", True)), inputs)
    assert block is inputs.matrix and block.tolist() == [[1.5, 2.0], [3.0, 4.25]]
