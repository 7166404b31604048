"""Describing pipelines: building a graph runs nothing; bad graphs fail before running."""

from __future__ import annotations

import pytest

import stead.pipelines as sp
from stead.errors import InvalidParameter
from stead.pipelines.graph import Graph, Node

CALLS: list[str] = []


@sp.step
def load(n: int) -> list:
    CALLS.append("load")
    return list(range(n))


@sp.step(retries=2, retry_delay=0.5, timeout=10, cache=False, resources={"cpu": 2, "gpu": 1, "memory": "4Gi"})
def train(data: list, lr: float = 0.1) -> float:
    CALLS.append("train")
    return lr * len(data)


@sp.step
def count(data: list) -> int:
    return len(data)


@sp.step
def deploy(score: float) -> str:
    return "deployed"


@sp.pipeline
def train_pipeline(n: int = 10, lr: float = 0.1, threshold: float = 0.5):
    data = load(n)
    score = train(data, lr=lr)
    with sp.when(score > threshold):
        deploy(score)


def test_building_runs_no_step():
    CALLS.clear()
    graph = train_pipeline.build()
    assert CALLS == []
    assert list(graph.nodes) == ["load", "train", "deploy"]
    assert graph.nodes["train"].upstream == {"load"}
    assert graph.nodes["deploy"].upstream == {"train"}
    assert graph.describe()["nodes"][2]["condition"] == "train.output > 0.5"
    assert graph.params == {"n": 10, "lr": 0.1, "threshold": 0.5}


def test_steps_outside_a_pipeline_are_plain_functions():
    assert train([1, 2], lr=2.0) == 4.0


def test_building_a_pipeline_runs_nothing():
    CALLS.clear()
    train_pipeline.build({"n": 3})
    assert CALLS == []


def test_step_options_are_kept():
    assert train.retries == 2 and train.retry_delay == 0.5 and train.timeout == 10 and train.cache is False
    assert train.resources.cpu == 2 and train.resources.gpu == 1
    assert train.resources.memory == 4 * 1024**3 and train.resources.memory_text == "4Gi"


def test_parameters_are_converted_and_checked():
    assert train_pipeline.resolve_params({"lr": "0.5", "n": "3"}) == {"n": 3, "lr": 0.5, "threshold": 0.5}
    with pytest.raises(InvalidParameter, match="no parameter"):
        train_pipeline.build({"learning_rate": 1})
    with pytest.raises(InvalidParameter, match="not a valid int"):
        train_pipeline.build({"n": "ten"})


def test_missing_parameter_is_named():
    @sp.pipeline
    def needs(path: str):
        load(3)

    with pytest.raises(InvalidParameter, match="needs parameter 'path'.*-p path=VALUE"):
        needs.build()


def test_repeated_calls_get_numbered_ids_and_fan_in_works():
    @sp.step
    def total(xs: list) -> int:
        return sum(xs)

    @sp.pipeline
    def fan(n: int = 3):
        total([count(load(i)) for i in range(n)])

    graph = fan.build()
    assert list(graph.nodes) == ["load", "count", "load_2", "count_2", "load_3", "count_3", "total"]
    assert graph.nodes["total"].upstream == {"count", "count_2", "count_3"}


def test_using_an_output_as_a_value_while_building_is_refused():
    @sp.pipeline
    def bad():
        if train(load(3)):
            deploy(1.0)

    with pytest.raises(InvalidParameter, match="stead.when"):
        bad.build()


def test_type_mismatch_between_steps_is_refused():
    @sp.step
    def name() -> str:
        return "x"

    @sp.pipeline
    def bad():
        count(name())

    with pytest.raises(InvalidParameter, match="expects list, but 'name' returns str"):
        bad.build()


def test_a_cycle_is_named_before_anything_runs():
    graph = Graph("cyclic")
    graph.add(Node("a", load, {}, None, frozenset({"c"})))
    graph.add(Node("b", load, {}, None, frozenset({"a"})))
    graph.add(Node("c", load, {}, None, frozenset({"b"})))
    with pytest.raises(InvalidParameter, match="has a cycle: .*a -> b -> c -> a|cycle"):
        graph.validate()


def test_unknown_upstream_and_bad_resources():
    graph = Graph("g")
    graph.add(Node("a", load, {}, None, frozenset({"zzz"})))
    with pytest.raises(InvalidParameter, match="unknown steps"):
        graph.validate()
    with pytest.raises(InvalidParameter, match="Unknown step resources"):
        sp.step(resources={"tpu": 1})(lambda: 1)
    with pytest.raises(InvalidParameter, match="quantity"):
        sp.step(resources={"memory": "lots"})(lambda: 1)


def test_importing_the_dsl_is_light():
    import subprocess
    import sys

    code = (
        "import sys, stead.pipelines; heavy=[m for m in ('sqlalchemy','pandas','ray','numpy','kubernetes',"
        "'sklearn','pyarrow') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
