"""Tiny real models, trained in the fixture (no mocks)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def frame():  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.normal(40, 10, 20), "visits": rng.integers(0, 10, 20)})


@pytest.fixture
def labels(frame):  # type: ignore[no-untyped-def]
    return (frame["age"] > 40).astype(int).to_numpy()


@pytest.fixture
def logistic(frame, labels):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(frame, labels)
