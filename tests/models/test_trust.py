"""Pickled models load only with an opt-in; formats that run no code need none."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml

import stead.models as sm
from stead.config import load_settings
from stead.errors import UntrustedModel
from stead.models.trust import TRUST_KEY


class Doubler(sm.PythonModel):
    def predict(self, context, model_input):  # type: ignore[no-untyped-def]
        return np.asarray(model_input) * 2


def test_a_pickled_model_is_refused_naming_the_file_and_the_opt_in(tmp_path: Path, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    sm.save_model(logistic, tmp_path / "m", input_example=frame.head(2))
    with pytest.raises(UntrustedModel) as err:
        sm.load_model(tmp_path / "m", trust=False)
    message = err.value.message
    assert str(tmp_path / "m" / "model.pkl") in message
    assert "trust=True" in message and "--trust-pickle" in message and "STEAD_TRUST_PICKLE" in message
    assert err.value.code == "UNTRUSTED_MODEL"
    model = sm.load_model(tmp_path / "m", trust=True)
    np.testing.assert_array_equal(model.predict(frame), logistic.predict(frame))


def test_saving_infers_the_outputs_of_a_pickled_model(tmp_path: Path, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    info = sm.save_model(logistic, tmp_path / "m", input_example=frame.head(3))
    assert info.signature is not None and info.signature.outputs is not None  # read back, trusted: it wrote it


def test_a_python_model_needs_the_opt_in(tmp_path: Path) -> None:
    sm.save_model(Doubler(), tmp_path / "m")
    with pytest.raises(UntrustedModel, match="python_model.pkl"):
        sm.load_model(tmp_path / "m", trust=False)
    assert sm.load_model(tmp_path / "m", trust=True).predict([1.0]).tolist() == [2.0]


def test_a_model_from_a_run_is_named_by_its_uri(client, logistic) -> None:  # type: ignore[no-untyped-def]
    from stead.tracking import fluent

    fluent.set_client(client)
    try:
        with fluent.start_run():
            info = sm.log_model(logistic, "model")
    finally:
        fluent.set_client(None)
    with pytest.raises(UntrustedModel, match=f"{info.model_uri}/model.pkl is a scikit-learn model"):
        sm.load_model(info.model_uri, client=client, trust=False)


def test_the_setting_is_the_default(tmp_path: Path, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    sm.save_model(logistic, tmp_path / "m")
    assert load_settings({}, cwd=tmp_path).trust_pickle is False
    assert load_settings({"STEAD_TRUST_PICKLE": "1"}, cwd=tmp_path).trust_pickle is True
    (tmp_path / "stead.toml").write_text("trust_pickle = true\n")
    assert load_settings({}, cwd=tmp_path).trust_pickle is True
    assert load_settings({"STEAD_TRUST_PICKLE": "0"}, cwd=tmp_path).trust_pickle is False

    from stead.tracking.client import TrackingClient

    trusting = TrackingClient(load_settings({"STEAD_HOME": str(tmp_path / "h"), "STEAD_TRUST_PICKLE": "true"},
                                            cwd=tmp_path))
    assert sm.load_model(tmp_path / "m", client=trusting).predict(frame).tolist() == logistic.predict(frame).tolist()
    with pytest.raises(UntrustedModel):  # an explicit trust=False wins over the setting
        sm.load_model(tmp_path / "m", client=trusting, trust=False)


def test_a_model_file_cannot_opt_itself_in(tmp_path: Path, logistic) -> None:  # type: ignore[no-untyped-def]
    sm.save_model(logistic, tmp_path / "m")
    doc = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    doc["flavors"]["python_function"]["model_config"] = {TRUST_KEY: True}
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(doc))
    with pytest.raises(UntrustedModel):
        sm.load_model(tmp_path / "m", trust=False)


def test_native_linear_reader_and_skops_need_no_opt_in(tmp_path: Path, logistic, frame) -> None:  # type: ignore[no-untyped-def]
    sm.save_model(logistic, tmp_path / "m")
    native = sm.load_model(tmp_path / "m", trust=False, model_config={"stead.native_linear": True})
    np.testing.assert_allclose(native.predict(frame), logistic.predict(frame))

    sio = pytest.importorskip("skops.io")
    (tmp_path / "s").mkdir()
    sio.dump(logistic, tmp_path / "s" / "model.skops")
    (tmp_path / "s" / "MLmodel").write_text(yaml.safe_dump({"flavors": {
        "python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.skops"},
        "sklearn": {"pickled_model": "model.skops", "serialization_format": "skops"}}}))
    model = sm.load_model(tmp_path / "s", trust=False)
    np.testing.assert_array_equal(model.predict(frame.to_numpy()), logistic.predict(frame.to_numpy()))


def test_skops_types_listed_by_the_file_count_only_with_the_opt_in(tmp_path: Path, frame) -> None:  # type: ignore[no-untyped-def]
    sio = pytest.importorskip("skops.io")
    from sklearn.preprocessing import FunctionTransformer

    model = FunctionTransformer(os.system)  # what a hostile file would carry: outside skops' safe defaults
    (tmp_path / "s").mkdir()
    sio.dump(model, tmp_path / "s" / "model.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "s" / "model.skops")
    assert untrusted
    (tmp_path / "s" / "MLmodel").write_text(yaml.safe_dump({"flavors": {
        "python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.skops", "predict_fn": "predict"},
        "sklearn": {"pickled_model": "model.skops", "serialization_format": "skops",
                    "skops_trusted_types": untrusted}}}))
    with pytest.raises(UntrustedModel, match="outside skops' safe defaults"):
        sm.load_model(tmp_path / "s", trust=False)
