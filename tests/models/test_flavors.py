"""Every flavor saves, loads and predicts exactly as the in-memory model does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import stead.models as sm
from stead.errors import InvalidParameter
from stead.models.mlmodel import MLmodel


def test_sklearn_round_trip(tmp_path: Path, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    info = sm.save_model(logistic, tmp_path / "m", input_example=frame.head(3))
    assert info.flavor == "sklearn"
    model = sm.load_model(tmp_path / "m", trust=True)
    np.testing.assert_array_equal(model.predict(frame), logistic.predict(frame))
    assert model.flavor == "sklearn"
    assert [c.name for c in model.signature.inputs.inputs] == ["age", "visits"]
    assert model.metadata.flavors["python_function"]["loader_module"] == "mlflow.sklearn"
    # dict and records go through the same signature check
    np.testing.assert_array_equal(model.predict(frame.head(2).to_dict("records")), logistic.predict(frame.head(2)))
    np.testing.assert_array_equal(model.predict(frame.head(2).to_dict("list")), logistic.predict(frame.head(2)))


def test_saved_files_follow_the_mlmodel_layout(tmp_path: Path, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    sm.save_model(logistic, tmp_path / "m", input_example=frame.head(2), metadata={"owner": "ana"})
    names = {p.name for p in (tmp_path / "m").iterdir()}
    assert {"MLmodel", "model.pkl", "requirements.txt", "conda.yaml", "python_env.yaml",
            "input_example.json", "serving_input_example.json"} <= names
    meta = MLmodel.load(tmp_path / "m")
    assert meta.flavors["sklearn"]["serialization_format"] == "cloudpickle"
    assert meta.flavors["python_function"]["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    assert meta.saved_input_example_info["type"] == "dataframe"
    assert meta.metadata == {"owner": "ana"}
    assert "scikit-learn==" in (tmp_path / "m" / "requirements.txt").read_text()


def test_save_refuses_a_non_empty_target(tmp_path: Path, logistic) -> None:  # type: ignore[no-untyped-def]
    from stead.errors import AlreadyExists

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x").write_text("keep me")
    with pytest.raises(AlreadyExists):
        sm.save_model(logistic, tmp_path / "m")
    assert (tmp_path / "m" / "x").read_text() == "keep me"


def test_signature_mismatch_fails_before_the_model_runs(tmp_path: Path, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    sm.save_model(logistic, tmp_path / "m", input_example=frame.head(2))
    model = sm.load_model(tmp_path / "m", trust=True)
    with pytest.raises(InvalidParameter, match="missing column\\(s\\) 'visits'.*unexpected column\\(s\\) 'zip'"):
        model.predict(pd.DataFrame({"age": [1.0], "zip": ["x"]}))


def test_xgboost_round_trip(tmp_path: Path, frame, labels) -> None:  # type: ignore[no-untyped-def]
    xgb = pytest.importorskip("xgboost", reason="xgboost is not installed (pip install 'stead[xgboost]')")
    clf = xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(frame, labels)
    sm.save_model(clf, tmp_path / "m", input_example=frame.head(2))
    model = sm.load_model(tmp_path / "m")
    assert model.flavor == "xgboost"
    np.testing.assert_array_equal(model.predict(frame), clf.predict(frame))
    booster = clf.get_booster()
    sm.save_model(booster, tmp_path / "b")
    np.testing.assert_allclose(sm.load_model(tmp_path / "b").predict(frame), booster.predict(xgb.DMatrix(frame)))


def _tiny_net() -> Any:
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")

    class TinyNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def forward(self, x):
            return torch.sigmoid(self.linear(x))

    torch.manual_seed(0)
    return torch, TinyNet()


def test_pytorch_module_round_trip(tmp_path: Path) -> None:
    torch, net = _tiny_net()
    x = np.random.default_rng(1).normal(size=(6, 2)).astype("float32")
    sm.save_model(net, tmp_path / "m", input_example=x)
    model = sm.load_model(tmp_path / "m", trust=True)
    assert model.flavor == "pytorch"
    expected = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model.predict(x), expected)
    # the weights alone rebuild the model, without unpickling any code
    state = torch.load(tmp_path / "m" / "data" / "state_dict.pth", weights_only=True)
    fresh = type(net)()
    fresh.load_state_dict(state)
    np.testing.assert_allclose(fresh(torch.from_numpy(x)).detach().numpy(), expected)
    assert model.signature.inputs.inputs[0].shape == (-1, 2)


@pytest.mark.parametrize("scripted", [False, True])
@pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")
def test_pytorch_device_from_model_config(tmp_path: Path, scripted: bool) -> None:
    """``device`` puts the model and each batch on that device; a GPU asked for must exist.
    On a machine with CUDA (the GPU check) the model runs there; CI checks the CPU paths."""
    torch, net = _tiny_net()
    x = np.random.default_rng(3).normal(size=(5, 2)).astype("float32")
    sm.save_model(torch.jit.script(net) if scripted else net, tmp_path / "m")
    want = net(torch.from_numpy(x)).detach().numpy()
    auto = sm.load_model(tmp_path / "m", trust=True, model_config={"device": "auto"})
    gpu = torch.cuda.is_available()
    assert next(auto.raw.parameters()).device.type == ("cuda" if gpu else "cpu")
    np.testing.assert_allclose(auto.predict(x), want, rtol=1e-5)
    assert next(sm.load_model(tmp_path / "m", trust=True, model_config={"device": "cpu"}).raw.parameters()).device.type == "cpu"
    if gpu:
        np.testing.assert_allclose(sm.load_model(tmp_path / "m", trust=True, model_config={"device": "cuda:0"}).predict(x),
                                   want, rtol=1e-5)
    else:
        with pytest.raises(InvalidParameter, match="sees 0 CUDA GPU"):
            sm.load_model(tmp_path / "m", trust=True, model_config={"device": "cuda"})
    with pytest.raises(InvalidParameter, match="not one of cpu, cuda, cuda:N or auto"):
        sm.load_model(tmp_path / "m", trust=True, model_config={"device": "gpu"})


@pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")
def test_pytorch_torchscript_round_trip(tmp_path: Path) -> None:
    torch, net = _tiny_net()
    scripted = torch.jit.script(net)
    x = np.random.default_rng(2).normal(size=(4, 2)).astype("float32")
    sm.save_model(scripted, tmp_path / "m")
    assert MLmodel.load(tmp_path / "m").flavors["pytorch"]["stead_format"] == "torchscript"
    model = sm.load_model(tmp_path / "m")
    np.testing.assert_allclose(model.predict(x), scripted(torch.from_numpy(x)).detach().numpy())


def test_onnx_round_trip(tmp_path: Path, frame, labels) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("onnx", reason="onnx is not installed (pip install 'stead[onnx]')")
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install 'stead[onnx]')")
    skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx is not installed (pip install 'stead[onnx]')")
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression

    x = frame.to_numpy(dtype="float32")
    clf = LogisticRegression().fit(x, labels)
    onx = skl2onnx.convert_sklearn(clf, initial_types=[("x", FloatTensorType([None, 2]))],
                                   options={id(clf): {"zipmap": False}})
    sm.save_model(onx, tmp_path / "m", input_example=x[:3])
    model = sm.load_model(tmp_path / "m")
    assert model.flavor == "onnx"
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"x": x})
    got = model.predict(x)
    np.testing.assert_array_equal(got["label"], expected[0])
    np.testing.assert_allclose(got["probabilities"], expected[1])
    np.testing.assert_array_equal(got["label"], clf.predict(x))


class Doubler(sm.PythonModel):
    def load_context(self, context: Any) -> None:
        self.factor = 2

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        scale = (params or {}).get("scale", 1)
        return model_input["x"] * self.factor * scale


def test_python_model_round_trip(tmp_path: Path) -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    sm.save_model(Doubler(), tmp_path / "m", input_example=df)
    model = sm.load_model(tmp_path / "m", trust=True)
    assert model.flavor == "python_model"
    assert model.metadata.flavors["python_function"]["loader_module"] == "mlflow.pyfunc.model"
    pd.testing.assert_series_equal(model.predict(df), df["x"] * 2)
    pd.testing.assert_series_equal(model.predict(df, params={"scale": 3}), df["x"] * 6)
    assert model.predict(pd.DataFrame({"x": [1, 2]})).dtype == np.float64  # int → double


def test_unknown_model_asks_for_a_flavor(tmp_path: Path) -> None:
    from stead.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="pass flavor="):
        sm.save_model(object(), tmp_path / "m")
    assert not (tmp_path / "m").exists()
