"""The model runtime: ``load``, ``prepare``, ``predict_batch``, ``unload`` for one model version.

``prepare`` runs on the event loop (cheap: the signature check of one request);
``predict_batch`` runs in the runtime's own worker thread on a whole batch. A scikit-learn
estimator whose signature is numeric columns gets the fast path: requests become rows
of one float block, the estimator runs once per batch, and the result is split back.
Every other model goes through ``PyFuncModel.predict`` (its own signature check).

A model that raises ``ValueError`` or ``TypeError`` on a request that passed the signature
check refuses that input (scikit-learn's "Input X contains NaN", a wrong value for the
model's own code): the request gets 400 ``BAD_REQUEST`` with what the model said, as MLflow's
scoring server answers. Any other exception is a fault of the model or server: 500. When a
merged batch fails, its requests are run again one at a time, so only the one at fault fails.
"""

from __future__ import annotations

import asyncio
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from stead.errors import BadRequest, InvalidParameter, SteadError
from stead.serving.inputs import FieldProblem, Inputs, check_columns, checked_inputs, invalid_input

__all__ = ["ModelRuntime", "Prepared", "ModelFailed", "ModelRefused"]

_NUMERIC_TYPES = ("integer", "long", "float", "double", "boolean")
_METHODS = ("predict", "predict_proba")


class ModelFailed(SteadError):
    """The model raised while predicting; the server answers 500 and keeps serving."""

    code = "INTERNAL_ERROR"


class ModelRefused(BadRequest):
    """The model refused a request's values (it raised ``ValueError``/``TypeError``): 400."""


# What a model raises when it refuses the values it was given, rather than failing itself.
_REFUSALS = (ValueError, TypeError)


@dataclass
class Prepared:
    """A request checked and ready for the batcher: ``data`` is a float block (fast path)
    or the ``Inputs`` themselves."""

    data: Any
    rows: int
    outputs: tuple[str, ...]
    params: dict[str, Any] | None


class ModelRuntime:
    """One loaded model version; ``name`` and ``version`` are what the protocols report."""

    def __init__(self, uri: str, *, name: str, version: str | None, client: Any = None,
                 model_config: dict[str, Any] | None = None, variant: str | None = None) -> None:
        self.uri = uri
        self.variant = variant
        self.model_config = model_config
        self.name = name
        self.version = version
        self._client = client
        self._model: Any = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{name}")
        self._specs: tuple[tuple[str, str, bool], ...] | None = None
        self._column_names: frozenset[str] = frozenset()
        self._fast = False
        self._output_name = "predict"
        self.ready = False

    # ---- lifecycle -------------------------------------------------------------------
    async def load(self, warm: bool = True) -> None:
        """Load the model files in the worker thread, then run one prediction to warm it."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._load)
        if warm:
            example = self._example()
            if example is not None:
                prepared = self.prepare(example)
                results = await loop.run_in_executor(self._executor, self.predict_batch, [prepared])
                if isinstance(results[0], BaseException):
                    raise results[0]
        self.ready = True

    def _load(self) -> None:
        from stead.models.pyfunc import load_model

        self._model = load_model(self.uri, client=self._client, model_config=self.model_config)
        sig = self._model.signature
        inputs = sig.inputs if sig is not None else None
        if inputs is not None and not inputs.is_tensor and inputs.has_names:
            self._specs = tuple((s.name, s.type, s.required) for s in inputs.inputs)  # type: ignore[misc]
            self._column_names = frozenset(n for n, _, _ in self._specs)
        outputs = sig.outputs if sig is not None else None
        if outputs is not None and len(outputs.inputs) == 1 and outputs.inputs[0].name:
            self._output_name = str(outputs.inputs[0].name)
        numeric = self._specs is None or all(t in _NUMERIC_TYPES for _, t, _ in self._specs)
        self._fast = self._model.flavor == "sklearn" and numeric and (inputs is None or not inputs.is_tensor)
        if self._fast:
            # The estimator gets an ndarray in signature order; one fitted on a DataFrame would
            # warn about feature names on every call.
            warnings.filterwarnings("ignore", message="X does not have valid feature names")

    def _example(self) -> Inputs | None:
        from stead.serving.scoring import decode_invocation

        path = self._model.path / "serving_input_example.json"
        if path.is_file():
            try:
                return decode_invocation(path.read_bytes(), "application/json")
            except SteadError:
                pass
        if self._specs is not None and self._fast:
            zeros = np.zeros((1, len(self._specs)))
            return Inputs.from_matrix(zeros, [n for n, _, _ in self._specs])
        return None

    async def unload(self) -> None:
        self.ready = False
        self._executor.shutdown(wait=True)
        self._model = None

    @property
    def runs_inline(self) -> bool:
        """Whether a batch costs microseconds (a linear model run with NumPy alone), so it
        runs on the event loop instead of hopping to the model's thread."""
        from stead.models.flavors.sklearn_native import NativeLinearModel

        return self._fast and isinstance(getattr(self._model, "raw", None), NativeLinearModel)

    @property
    def executor(self) -> ThreadPoolExecutor:
        return self._executor

    @property
    def column_names(self) -> frozenset[str]:
        """The signature's column names (empty when it names none)."""
        return self._column_names

    def metadata(self) -> dict[str, Any]:
        """Inputs and outputs in V2 metadata form (variable dimensions are -1)."""
        from stead.serving.oip import datatype_of

        def tensor(spec: Any, i: int) -> dict[str, Any]:
            if getattr(spec, "shape", None) is not None:
                return {"name": spec.name or f"input-{i}", "datatype": datatype_of(np.dtype(spec.dtype))
                        if spec.dtype not in ("str", "bytes") else "BYTES", "shape": list(spec.shape)}
            dt = {"integer": "INT32", "long": "INT64", "float": "FP32", "double": "FP64",
                  "boolean": "BOOL"}.get(spec.type, "BYTES")
            return {"name": spec.name or f"input-{i}", "datatype": dt, "shape": [-1]}

        sig = self._model.signature if self._model is not None else None
        ins = [tensor(s, i) for i, s in enumerate(sig.inputs.inputs)] if sig and sig.inputs else []
        outs = [tensor(s, i) for i, s in enumerate(sig.outputs.inputs)] if sig and sig.outputs else []
        if len(outs) == 1 and outs[0]["name"] == "input-0":
            outs[0]["name"] = self._output_name
        return {"inputs": ins, "outputs": outs}

    # ---- request path ----------------------------------------------------------------
    def prepare(self, inputs: Inputs) -> Prepared:
        """Check ``inputs`` against the signature (``BadRequest`` naming each bad field)."""
        outputs = inputs.outputs
        if outputs:
            allowed = _METHODS if self._fast else (self._output_name,)
            bad = [o for o in outputs if o not in allowed or (o != "predict" and not hasattr(self._model.raw, o))]
            if bad:
                raise BadRequest(f"Unknown output(s) {bad}; this model has {list(allowed)}",
                                 fields=[{"name": o, "problem": "unknown output"} for o in bad])
        if not self._fast:
            if self._specs is not None:  # typed columns in signature order, checked before queueing
                inputs = checked_inputs(self._specs, inputs)
            return Prepared(inputs, inputs.rows, outputs, inputs.params)
        if self._specs is not None:
            data = check_columns(self._specs, inputs)
        else:
            data = inputs.matrix if inputs.matrix is not None else np.column_stack(inputs.columns)
            if data.ndim != 2 or data.dtype.kind not in "iufb":
                raise invalid_input([FieldProblem("input", "must be a 2-D numeric table")])
        return Prepared(data, inputs.rows, outputs, inputs.params)

    # ---- worker thread ---------------------------------------------------------------
    def predict_batch(self, items: list[Prepared]) -> list[dict[str, np.ndarray] | BaseException]:
        """Run the model once on the batch (fast path) or once per request; never raises.
        A merged batch that fails is run again request by request, so one bad request gets
        its own error and the others their answers."""
        if not self._fast:
            return [self._one(p) for p in items]
        try:
            return self._fast_batch(items)
        except Exception as exc:  # noqa: BLE001 - a model error answers 400 or 500, the server goes on
            if len(items) == 1:
                return [self._failure(exc)]
        out: list[dict[str, np.ndarray] | BaseException] = []
        for p in items:
            try:
                out.extend(self._fast_batch([p]))
            except Exception as exc:  # noqa: BLE001
                out.append(self._failure(exc))
        return out

    def _failure(self, exc: Exception) -> SteadError:
        """The error a request gets for ``exc`` raised by the model: 400 when the model refused
        the values (``ValueError``/``TypeError``), 500 for anything else."""
        who = f"Model {self.name} version {self.version or 'local'}" + (f" (variant {self.variant})"
                                                                         if self.variant else "")
        said = f"{type(exc).__name__}: {str(exc).rstrip('.')}"
        if isinstance(exc, _REFUSALS):
            return ModelRefused(f"{who} refused the input: {said}. Check the values sent "
                                "(NaN, infinity, out-of-range or wrongly typed values) against what the model takes")
        return ModelFailed(f"{who} failed: {said}")

    def _fast_batch(self, items: list[Prepared]) -> list[dict[str, np.ndarray] | BaseException]:
        raw = self._model.raw
        block = items[0].data if len(items) == 1 else np.concatenate([p.data for p in items])
        wanted = {o for p in items for o in (p.outputs or ("predict",))}
        results = {m: np.asarray(getattr(raw, m)(block)) for m in _METHODS if m in wanted}
        if len(items) == 1:
            split = {m: [r] for m, r in results.items()}
        else:
            cuts = np.cumsum([p.rows for p in items])[:-1]
            split = {m: np.split(r, cuts) for m, r in results.items()}
        out: list[dict[str, np.ndarray] | BaseException] = []
        for i, p in enumerate(items):
            names = p.outputs or ("predict",)
            out.append({(self._output_name if n == "predict" else n): split[n][i] for n in names})
        return out

    def _one(self, p: Prepared) -> dict[str, np.ndarray] | BaseException:
        inputs: Inputs = p.data
        try:
            data = self._model_input(inputs)
            result = self._model.predict(data, inputs.params)
        except InvalidParameter as exc:
            problems = exc.details.get("problems") or [exc.message]
            return BadRequest(exc.message, fields=[{"name": "input", "problem": str(x)} for x in problems])
        except SteadError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001
            return self._failure(exc)
        return _as_outputs(result, self._output_name)

    def _model_input(self, inputs: Inputs) -> Any:
        sig = self._model.signature
        tensor = sig is not None and sig.inputs is not None and sig.inputs.is_tensor
        if inputs.names is None:
            data = inputs.matrix if inputs.matrix is not None else inputs.columns[0]
            return _float_as_declared(data, sig.inputs.inputs[0]) if tensor else data  # type: ignore[union-attr]
        if tensor:
            specs = {s.name: s for s in sig.inputs.inputs}  # type: ignore[union-attr]
            return {n: _float_as_declared(c, specs.get(n)) for n, c in zip(inputs.names, inputs.columns)}
        import pandas as pd

        return pd.DataFrame(dict(zip(inputs.names, inputs.columns)))


def _float_as_declared(data: Any, spec: Any) -> Any:
    """JSON has one number type: numbers for a float32 (or float16) tensor arrive as float64
    or int64 and are cast to the declared type, as MLflow's scoring server does."""
    declared = getattr(spec, "dtype", None)
    if declared is None or not isinstance(data, np.ndarray):
        return data
    want = np.dtype(declared)
    if want.kind == "f" and data.dtype.kind in "fiu" and data.dtype != want:
        return data.astype(want)
    return data


def _as_outputs(result: Any, default: str) -> dict[str, np.ndarray]:
    if hasattr(result, "columns") and hasattr(result, "to_numpy"):
        return {str(c): result[c].to_numpy() for c in result.columns}
    if hasattr(result, "to_numpy"):
        return {str(result.name) if getattr(result, "name", None) is not None else default: result.to_numpy()}
    if isinstance(result, dict):
        return {str(k): np.asarray(v) for k, v in result.items()}
    return {default: np.asarray(result)}
