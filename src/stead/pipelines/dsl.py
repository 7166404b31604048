"""The pipeline DSL: ``@step``, ``@pipeline`` and ``when`` on plain functions (describe only).

Calling a step inside a pipeline being built records a node and returns an ``Output``
handle; nothing runs. Outside a pipeline a step is the plain function it decorates, so
steps stay testable as ordinary Python. This module imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from stead.errors import InvalidParameter
from stead.pipelines.graph import Graph, Node

__all__ = ["Step", "Pipeline", "Output", "Condition", "step", "when", "find_outputs"]

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

_building: contextvars.ContextVar["_Builder | None"] = contextvars.ContextVar("stead_pipeline_builder", default=None)

_MEMORY_UNITS = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4,
                 "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}


def parse_memory(value: str | int) -> int:
    """``"4Gi"`` / ``"512M"`` / ``1024`` to bytes (Kubernetes quantity suffixes)."""
    if isinstance(value, int):
        return value
    text = str(value).strip()
    for suffix in sorted(_MEMORY_UNITS, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            number = text[: -len(suffix)]
            break
    else:
        suffix, number = "", text
    try:
        return int(float(number) * _MEMORY_UNITS[suffix])
    except ValueError:
        raise InvalidParameter(f"Memory {value!r} is not a quantity like '4Gi' or '512M'") from None


@dataclass(frozen=True)
class Resources:
    """What a step needs: CPUs, GPUs, memory (bytes; ``memory_text`` keeps the quantity) and
    custom resources by name (Ray custom resources, Kubernetes extended resources)."""

    cpu: float = 1.0
    gpu: float = 0.0
    memory: int | None = None
    memory_text: str | None = None
    custom: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any] | None) -> "Resources":
        spec = dict(spec or {})
        unknown = set(spec) - {"cpu", "gpu", "memory", "custom"}
        if unknown:
            raise InvalidParameter(f"Unknown step resources {sorted(unknown)}; use cpu, gpu, memory and custom")
        mem = spec.get("memory")
        try:
            cpu = float(spec.get("cpu", 1))
            gpu = float(spec.get("gpu", 0))
            custom = tuple(sorted((str(k), float(v)) for k, v in dict(spec.get("custom") or {}).items()))
        except (TypeError, ValueError):
            raise InvalidParameter(
                f"Step resources {spec} need numbers for cpu and gpu, and custom as {{name: number}}"
            ) from None
        if cpu < 0 or gpu < 0 or any(v < 0 for _, v in custom):
            raise InvalidParameter(f"Step resources {spec} must not be negative")
        return cls(cpu, gpu, parse_memory(mem) if mem is not None else None, None if mem is None else str(mem), custom)


class Step(Generic[R]):
    """A function marked as a pipeline step, with its execution options."""

    def __init__(
        self,
        fn: Callable[..., R],
        *,
        name: str | None = None,
        retries: int = 0,
        retry_delay: float = 0.0,
        timeout: float | None = None,
        cache: bool = True,
        isolated: bool = False,
        resources: Mapping[str, Any] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> None:
        if retries < 0 or retry_delay < 0 or (timeout is not None and timeout <= 0):
            raise InvalidParameter(f"Step {fn.__name__}: retries and retry_delay must be >= 0, timeout > 0")
        self.fn = fn
        self.name = name or fn.__name__
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.cache = cache
        self.isolated = isolated
        self.resources = Resources.from_mapping(resources)
        self.outputs = tuple(outputs) if outputs else None
        self.signature = _signature(fn)
        self.return_type = _plain_type(self.signature.return_annotation)
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Step({self.name!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = _building.get()
        if builder is None:
            return self.fn(*args, **kwargs)
        return builder.add_call(self, args, kwargs)


def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    """The signature with string annotations (``from __future__ import annotations``) resolved."""
    try:
        return inspect.signature(fn, eval_str=True)
    except Exception:  # an annotation naming something not importable at runtime
        return inspect.signature(fn)


def _plain_type(annotation: Any) -> type | None:
    return annotation if isinstance(annotation, type) and annotation is not inspect.Signature.empty else None


class Output:
    """The future value of a step's output, inside a pipeline being built."""

    __slots__ = ("node_id", "index", "name", "type", "_builder")

    def __init__(self, node_id: str, index: int | None, name: str, type_: type | None, builder: "_Builder") -> None:
        self.node_id = node_id
        self.index = index
        self.name = name
        self.type = type_
        self._builder = builder

    def __repr__(self) -> str:
        return f"Output({self.node_id}.{self.name})"

    def __bool__(self) -> bool:
        raise InvalidParameter(
            f"{self!r} has no value while the pipeline is being built; gate steps on it with "
            "`with stead.when(output > x):` instead of `if`"
        )

    def __iter__(self) -> Iterator[Any]:
        raise InvalidParameter(
            f"{self!r} cannot be unpacked while the pipeline is being built; declare "
            "@stead.step(outputs=[...]) to return several outputs"
        )

    def _cmp(self, op: str, other: Any) -> "Condition":
        return Condition(op, (self, other))

    def __gt__(self, other: Any) -> "Condition":
        return self._cmp("gt", other)

    def __ge__(self, other: Any) -> "Condition":
        return self._cmp("ge", other)

    def __lt__(self, other: Any) -> "Condition":
        return self._cmp("lt", other)

    def __le__(self, other: Any) -> "Condition":
        return self._cmp("le", other)

    def eq(self, other: Any) -> "Condition":
        return self._cmp("eq", other)

    def ne(self, other: Any) -> "Condition":
        return self._cmp("ne", other)

    def truthy(self) -> "Condition":
        return Condition("truth", (self,))

    def __getitem__(self, key: Any) -> "Condition":
        raise InvalidParameter(f"{self!r}: index outputs by declaring @stead.step(outputs=[...])")


_OPS: dict[str, Callable[..., Any]] = {
    "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
    "eq": operator.eq, "ne": operator.ne, "truth": bool,
    "and": lambda a, b: bool(a) and bool(b), "or": lambda a, b: bool(a) or bool(b), "not": operator.not_,
}


@dataclass(frozen=True)
class Condition:
    """A lazy test on step outputs, evaluated by the runner when its inputs exist."""

    op: str
    args: tuple[Any, ...]

    def __and__(self, other: "Condition | Output") -> "Condition":
        return Condition("and", (self, _as_condition(other)))

    def __or__(self, other: "Condition | Output") -> "Condition":
        return Condition("or", (self, _as_condition(other)))

    def __invert__(self) -> "Condition":
        return Condition("not", (self,))

    def __bool__(self) -> bool:
        raise InvalidParameter("A stead condition has no value while building; use `with stead.when(...):`")

    def outputs(self) -> list[Output]:
        found: list[Output] = []
        for arg in self.args:
            if isinstance(arg, Output):
                found.append(arg)
            elif isinstance(arg, Condition):
                found.extend(arg.outputs())
        return found

    def evaluate(self, value_of: Callable[[Output], Any]) -> bool:
        values = [
            value_of(a) if isinstance(a, Output) else a.evaluate(value_of) if isinstance(a, Condition) else a
            for a in self.args
        ]
        return bool(_OPS[self.op](*values))

    def describe(self) -> str:
        def show(a: Any) -> str:
            if isinstance(a, Output):
                return f"{a.node_id}.{a.name}"
            if isinstance(a, Condition):
                return f"({a.describe()})"
            return repr(a)

        symbols = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!=", "and": "and", "or": "or"}
        if self.op == "truth":
            return show(self.args[0])
        if self.op == "not":
            return f"not {show(self.args[0])}"
        return f" {symbols[self.op]} ".join(show(a) for a in self.args)


def _as_condition(value: "Condition | Output") -> Condition:
    if isinstance(value, Condition):
        return value
    if isinstance(value, Output):
        return value.truthy()
    raise InvalidParameter(f"stead.when needs a step output or a comparison of one, got {value!r}")


@contextlib.contextmanager
def when(condition: "Condition | Output") -> Iterator[None]:
    """Steps called inside the block run only if ``condition`` holds (else SKIPPED).

    Example: ``with stead.when(accuracy > 0.9): register(model)``
    """
    builder = _building.get()
    if builder is None:
        raise InvalidParameter("stead.when is used inside a @stead.pipeline function")
    builder.conditions.append(_as_condition(condition))
    try:
        yield
    finally:
        builder.conditions.pop()


class _Builder:
    def __init__(self, pipeline_name: str) -> None:
        self.graph = Graph(pipeline_name)
        self.conditions: list[Condition] = []
        self._counts: dict[str, int] = {}

    def add_call(self, step: Step[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidParameter(f"Step {step.name!r} called with wrong arguments: {exc}") from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        n = self._counts.get(step.name, 0) + 1
        self._counts[step.name] = n
        node_id = step.name if n == 1 else f"{step.name}_{n}"
        upstream: set[str] = set()
        for pname, value in arguments.items():
            for out in find_outputs(value):
                self._check_own(out, step)
                upstream.add(out.node_id)
            if isinstance(value, Output):
                self._check_type(value, step, pname)
        condition: Condition | None = None
        for cond in self.conditions:
            condition = cond if condition is None else Condition("and", (condition, cond))
        if condition is not None:
            for out in condition.outputs():
                self._check_own(out, step)
                upstream.add(out.node_id)
        self.graph.add(Node(node_id, step, arguments, condition, frozenset(upstream)))
        if step.outputs:
            return tuple(Output(node_id, i, name, None, self) for i, name in enumerate(step.outputs))
        return Output(node_id, None, "output", step.return_type, self)

    def _check_own(self, out: Output, step: Step[Any]) -> None:
        if out._builder is not self:
            raise InvalidParameter(
                f"Step {step.name!r} got {out!r}, an output of another pipeline; pass values between "
                "steps of one pipeline only"
            )

    @staticmethod
    def _check_type(out: Output, step: Step[Any], pname: str) -> None:
        param = step.signature.parameters.get(pname)
        expected = _plain_type(param.annotation) if param is not None else None
        if expected is None or out.type is None or expected is object:
            return
        if not issubclass(out.type, expected) and not (expected is float and out.type is int):
            raise InvalidParameter(
                f"Step {step.name!r} parameter {pname!r} expects {expected.__name__}, but "
                f"{out.node_id!r} returns {out.type.__name__}"
            )


def find_outputs(value: Any) -> list[Output]:
    """The ``Output`` handles in ``value``, also inside lists, tuples and dicts (fan-in)."""
    if isinstance(value, Output):
        return [value]
    if isinstance(value, (list, tuple)):
        return [o for v in value for o in find_outputs(v)]
    if isinstance(value, dict):
        return [o for v in value.values() for o in find_outputs(v)]
    return []


class Pipeline:
    """A function whose body wires steps together; ``build(**params)`` returns its graph."""

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.signature = _signature(fn)
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r})"

    @property
    def parameters(self) -> dict[str, Any]:
        """Parameter name to default (``inspect.Parameter.empty`` when required)."""
        return {n: p.default for n, p in self.signature.parameters.items()}

    def resolve_params(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overlaid by ``params``; strings are converted by the annotation."""
        given = dict(params or {})
        unknown = set(given) - set(self.signature.parameters)
        if unknown:
            raise InvalidParameter(
                f"Pipeline {self.name!r} has no parameter {sorted(unknown)}; "
                f"its parameters: {sorted(self.signature.parameters)}"
            )
        resolved: dict[str, Any] = {}
        for pname, param in self.signature.parameters.items():
            if pname in given:
                resolved[pname] = _convert(given[pname], param.annotation, pname)
            elif param.default is not inspect.Parameter.empty:
                resolved[pname] = param.default
            else:
                raise InvalidParameter(
                    f"Pipeline {self.name!r} needs parameter {pname!r}; pass it with -p {pname}=VALUE"
                )
        return resolved

    def build(self, params: Mapping[str, Any] | None = None) -> Graph:
        """Run the body with the resolved parameters, recording steps instead of running them."""
        resolved = self.resolve_params(params)
        builder = _Builder(self.name)
        token = _building.set(builder)
        try:
            self.fn(**resolved)
        finally:
            _building.reset(token)
        builder.graph.params = resolved
        builder.graph.validate()
        return builder.graph


def _convert(value: Any, annotation: Any, pname: str) -> Any:
    if not isinstance(value, str) or annotation in (str, inspect.Parameter.empty, Any):
        if isinstance(value, str) and annotation is inspect.Parameter.empty:
            return _literal(value)
        return value
    try:
        if annotation is bool:
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if annotation in (int, float):
            return annotation(value)
    except ValueError:
        raise InvalidParameter(f"Parameter {pname!r}={value!r} is not a valid {annotation.__name__}") from None
    return _literal(value)


def _literal(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


@overload
def step(fn: F) -> F: ...
@overload
def step(
    *,
    name: str | None = ...,
    retries: int = ...,
    retry_delay: float = ...,
    timeout: float | None = ...,
    cache: bool = ...,
    isolated: bool = ...,
    resources: Mapping[str, Any] | None = ...,
    outputs: Sequence[str] | None = ...,
) -> Callable[[F], F]: ...
def step(fn: Any = None, **options: Any) -> Any:
    """Mark a function as a pipeline step.

    Example: ``@stead.step(retries=2, cache=True, resources={"cpu": 2, "memory": "4Gi"})``
    """
    if fn is not None:
        return Step(fn, **options)
    return lambda f: Step(f, **options)
