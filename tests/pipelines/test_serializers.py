"""Step outputs by type: JSON, numpy, pandas/arrow Parquet, sklearn, files, folders, pickle."""

from __future__ import annotations

from pathlib import Path

import pytest

from stead.artifacts.local import LocalArtifactStore
from stead.pipelines.serializers import ObjectStore, load_value, serializer_for, store_value


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return ObjectStore(LocalArtifactStore(tmp_path / "artifacts"))


class Opaque:
    def __init__(self, x: int) -> None:
        self.x = x


def test_each_type_round_trips_with_its_serializer(objects, tmp_path):
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    single = tmp_path / "report.txt"
    single.write_text("hello")
    folder = tmp_path / "model_dir"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.bin").write_bytes(b"\x00\x01")
    (folder / "sub" / "b.txt").write_text("b")
    cases = {
        "json": {"acc": 0.9, "labels": ["a", "b"], "n": 3, "ok": True, "none": None},
        "numpy": np.arange(6, dtype="float32").reshape(2, 3),
        "pandas": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
        "arrow": pa.table({"a": [1, 2]}),
        "sklearn": model,
        "file": single,
        "dir": folder,
        "pickle": Opaque(7),
    }
    for expected, value in cases.items():
        assert serializer_for(value) == expected
        stored = store_value(value, objects)
        assert stored.serializer == expected and len(stored.hash) == 64
        back = load_value(stored, objects, workdir=str(tmp_path / "work"))
        if expected == "numpy":
            assert (back == value).all() and back.dtype == value.dtype
        elif expected == "pandas":
            assert back.equals(value)
        elif expected == "arrow":
            assert back.equals(value)
        elif expected == "sklearn":
            assert back.predict([[3.0]]).tolist() == [1]
        elif expected == "file":
            assert Path(back).read_text() == "hello"
        elif expected == "dir":
            assert (back / "sub" / "b.txt").read_text() == "b" and (back / "a.bin").read_bytes() == b"\x00\x01"
        elif expected == "pickle":
            assert back.x == 7
        else:
            assert back == value
    assert "type" in stored.to_json() and stored.type.endswith("Opaque")


def test_equal_values_are_stored_once(objects):
    a = store_value([1, 2, 3], objects)
    b = store_value([1, 2, 3], objects)
    assert a.hash == b.hash and a.path == b.path
    assert store_value((1, 2, 3), objects).serializer == "pickle"  # a tuple is not JSON: kept exact


def test_unstorable_value_is_refused_clearly(objects):
    import threading

    from stead.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="not picklable"):
        store_value(threading.Lock(), objects)
    with pytest.raises(InvalidParameter, match="does not exist"):
        store_value(Path("/nonexistent/file"), objects)
