"""Helpers shared by the serving tests: a stead home with a registered scikit-learn model."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

COLUMNS = ["age", "tenure", "spend"]


@dataclass
class Home:
    path: Path
    store_url: str

    @property
    def artifacts(self) -> Path:
        return self.path / "artifacts"

    def env(self) -> dict[str, str]:
        return {"STEAD_HOME": str(self.path), "STEAD_STORE_URL": self.store_url,
                "STEAD_ARTIFACTS_URL": str(self.artifacts), "STEAD_TRACKING_URI": ""}

    def settings(self):  # type: ignore[no-untyped-def]
        from stead.config import Settings

        return Settings(home=self.path, store_url=self.store_url, artifacts_url=str(self.artifacts))

    def registry(self):  # type: ignore[no-untyped-def]
        from stead.registry.client import RegistryClient
        from stead.tracking.client import TrackingClient

        return RegistryClient(tracking=TrackingClient(self.settings()), user="test")


def training_data() -> tuple[object, np.ndarray]:
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype(np.int64)
    return pd.DataFrame(x, columns=COLUMNS), y


def _register(home: Home, model: object, example: object, name: str = "churn") -> int:
    from stead.models.log import log_model
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    client = TrackingClient(home.settings())
    fluent.set_client(client)
    try:
        with fluent.start_run():
            info = log_model(model, "model", input_example=example, registered_model_name=name)
    finally:
        fluent.set_client(None)
    return int(info.registered_model_version)


def make_home(path: Path, store_url: str) -> Home:
    from sklearn.linear_model import LogisticRegression

    home = Home(path, store_url)
    path.mkdir(parents=True, exist_ok=True)
    x, y = training_data()
    v1 = _register(home, LogisticRegression().fit(x, y), x.iloc[:2])
    v2 = _register(home, LogisticRegression().fit(x, 1 - y), x.iloc[:2])  # answers the opposite
    reg = home.registry()
    reg.set_alias("churn", "production", v1)
    reg.set_alias("churn", "staging", v2)
    return home


def rows(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, len(COLUMNS)))


def expected(home: Home, version: int, x: np.ndarray) -> list[int]:
    from stead.models.pyfunc import load_model
    from stead.tracking.client import TrackingClient

    import pandas as pd

    model = load_model(f"models:/churn/{version}", client=TrackingClient(home.settings()), trust=True)
    return model.predict(pd.DataFrame(x, columns=COLUMNS)).tolist()


class SlowOrFailing:
    """A tiny Python model: 2*x, but x == -1 sleeps (a slow model), x > 1000 fails (a fault of
    the model: RuntimeError) and x < -1000 is refused (ValueError: the input's fault)."""

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        import time

        x = model_input["x"].to_numpy()
        if (x > 1000).any():
            raise RuntimeError("x is too large for this model")
        if (x < -1000).any():
            raise ValueError("x must be at least -1000")
        if (x == -1).any():
            time.sleep(1.0)
        return x * 2


def register_python_model(home: Home) -> int:
    """Register ``SlowOrFailing`` as model ``quirky`` (pickled by value) and alias it @production."""
    import cloudpickle
    import pandas as pd

    import serving_helpers
    from stead.models.flavors.python_model import PythonModel
    from stead.models.log import log_model
    from stead.tracking import fluent
    from stead.tracking.client import TrackingClient

    cloudpickle.register_pickle_by_value(serving_helpers)
    model = type("Quirky", (SlowOrFailing, PythonModel), {})()
    fluent.set_client(TrackingClient(home.settings()))
    try:
        with fluent.start_run():
            info = log_model(model, "model", input_example=pd.DataFrame({"x": [1.0, 2.0]}),
                             registered_model_name="quirky")
    finally:
        fluent.set_client(None)
    home.registry().set_alias("quirky", "production", int(info.registered_model_version))
    return int(info.registered_model_version)


def register_broken(home: Home, alias: str = "broken") -> int:
    """Register a version of ``churn`` whose model file is damaged (it cannot load), at ``@alias``."""
    from sklearn.linear_model import LogisticRegression

    x, y = training_data()
    version = _register(home, LogisticRegression().fit(x, y), x.iloc[:2])
    run_id = home.registry().get_version(f"churn/{version}").run_id
    [model_file] = home.artifacts.glob(f"*/{run_id}/artifacts/model/model.pkl")
    model_file.write_bytes(b"these bytes are not a pickled model")
    home.registry().set_alias("churn", alias, version)
    return version


def stead(home: Home, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``stead ARGS`` as a user would, in ``home``."""
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", *args]
    return subprocess.run(argv, env={**home.env(), "COLUMNS": "200"}, capture_output=True, text=True,
                          timeout=timeout)


def wait_for(what: str, check: Callable[[], object], deadline_s: float = 30.0) -> object:
    """Poll ``check`` until it returns something true (returned), failing after ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


class RequestLoop:
    """``/invocations`` asked in background threads until the block ends (bounded), each answer
    checked against what the version that gave it predicts: ``answers`` holds (variant,
    version) in order, ``failures`` every error or wrong answer."""

    def __init__(self, url: str, body: dict, by_version: dict[str, list[int]], threads: int = 1,
                 limit: int = 20_000) -> None:
        self.url, self.body, self.by_version, self.limit = url, body, by_version, limit
        self.answers: list[tuple[str, str]] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._ask) for _ in range(threads)]

    def _ask(self) -> None:
        with httpx.Client(timeout=30) as client:
            for _ in range(self.limit):  # bounded; the test stops it long before
                if self._stop.is_set():
                    return
                try:
                    r = client.post(f"{self.url}/invocations", json=self.body)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                version = r.headers.get("x-stead-model-version", "")
                if r.status_code != 200 or r.json()["predictions"] != self.by_version.get(version):
                    self.failures.append(f"{r.status_code} {r.text}")
                self.answers.append((r.headers.get("x-stead-variant", ""), version))

    def __enter__(self) -> "RequestLoop":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()
