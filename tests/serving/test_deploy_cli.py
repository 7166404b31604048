"""`stead deploy ...` as a user runs it: real CLI processes, their output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from serving_helpers import Home


def _stead(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", "from stead.cli.main import run; run()", "deploy", *args]
    return subprocess.run(argv, env=home.env(), capture_output=True, text=True, timeout=120)


def _json(home: Home, *args: str) -> Any:
    done = _stead(home, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _split(dep: dict[str, Any]) -> dict[str, int]:
    return {v["name"]: v["weight"] for v in dep["variants"] if not v["shadow"]}


def test_deploy_lifecycle_from_the_shell(home: Home) -> None:
    created = _json(home, "create", "churn", "--model", "churn@production", "--canary", "churn@staging",
                    "--weight", "10", "--shadow", "churn/2")
    assert _split(created) == {"primary": 90, "canary": 10}
    assert [v["name"] for v in created["variants"] if v["shadow"]] == ["shadow"]
    table = _stead(home, "list")
    assert table.returncode == 0 and "churn" in table.stdout and "canary=churn@staging:10" in table.stdout
    assert _split(_json(home, "set-traffic", "churn", "primary=75", "canary=25")) == {"primary": 75, "canary": 25}
    shown = _stead(home, "show", "churn")
    assert shown.returncode == 0 and "churn@staging" in shown.stdout and "25" in shown.stdout

    # No model server reports on the deployment, so nothing vouches for the canary: --force.
    promoted = _json(home, "promote", "churn", "--reason", "canary wins", "--force")
    assert _split(promoted) == {"primary": 100, "canary": 0}
    assert promoted["moved"] == {"what": "churn@production", "from": "1", "to": "2"}
    assert home.registry().get_version_by_alias("churn", "production").version == 2
    rolled = _stead(home, "rollback", "churn", "--reason", "latency")
    assert rolled.returncode == 0 and rolled.stdout.splitlines()[0] == "churn@production: 2 -> 1"
    assert home.registry().get_version_by_alias("churn", "production").version == 1

    deleted = _stead(home, "delete", "churn")
    assert deleted.returncode == 0 and "deleted deployment churn" in deleted.stdout
    assert _json(home, "list") == []


def test_deploy_bad_input_is_one_line_and_changes_nothing(home: Home) -> None:
    assert _stead(home, "create", "churn", "--model", "churn@production").returncode == 0
    for args, words in [
        (("set-traffic", "churn", "primary=60"), "100"),
        (("set-traffic", "churn", "primary"), "VARIANT=PERCENT"),
        (("show", "nope"), "nope"),
        (("create", "churn", "--model", "churn@production"), "churn"),
        (("create", "other", "--model", "missing@production"), "missing"),
        (("create", "bg", "--strategy", "blue-green", "--model", "churn/1", "--canary", "churn/2"), "--idle"),
        (("create", "bg", "--strategy", "rainbow", "--model", "churn/1"), "rainbow"),
        (("switch", "churn"), "not blue-green"),
        (("set-model", "churn", "primary", "churn/9"), "version=9"),
        (("set-model", "churn", "nope", "churn/2"), "no variant 'nope'"),
    ]:
        done = _stead(home, *args)
        assert done.returncode != 0, args
        assert "Traceback" not in done.stderr and words in done.stderr, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert _split(_json(home, "show", "churn")) == {"primary": 100}
    assert [d["name"] for d in _json(home, "list")] == ["churn"]


def test_blue_green_from_the_shell(home: Home) -> None:
    created = _json(home, "create", "churn", "--strategy", "blue-green", "--model", "churn/1")
    assert created["strategy"] == "blue-green" and _split(created) == {"blue": 100, "green": 0}
    assert [v["model"] for v in created["variants"]] == ["churn/1", "churn/1"]
    staged = _json(home, "set-model", "churn", "green", "churn/2")
    assert [v["model"] for v in staged["variants"]] == ["churn/1", "churn/2"]
    promote = _stead(home, "promote", "churn")
    assert promote.returncode != 0 and "stead deploy switch churn" in promote.stderr
    refused = _stead(home, "switch", "churn")  # no model server has vouched for green
    assert refused.returncode != 0 and "no model server reports" in refused.stderr and "--force" in refused.stderr
    switched = _stead(home, "switch", "churn", "--force")
    assert switched.returncode == 0 and switched.stdout.splitlines()[0] == "churn: blue (version 1) -> green (version 2)"
    assert _split(_json(home, "show", "churn")) == {"blue": 0, "green": 100}
    again = _stead(home, "switch", "churn", "--to", "green", "--force")
    assert again.returncode != 0 and "already has all the traffic" in again.stderr
    back = _json(home, "rollback", "churn", "--force")
    assert _split(back) == {"blue": 100, "green": 0} and back["moved"]["to"] == "blue (version 1)"
