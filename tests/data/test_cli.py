"""``stead data`` and ``stead remote`` through typer's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from data_files import make_files


@pytest.fixture
def cli(project, monkeypatch):  # type: ignore[no-untyped-def]
    from stead.cli import common
    from stead.cli.main import app

    monkeypatch.setenv("STEAD_HOME", str(project.home))
    monkeypatch.setenv("STEAD_STORE_URL", project.store_url)
    common.settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, list(args), catch_exceptions=True)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    yield invoke
    common.settings.cache_clear()


CSV1 = b"id,age,country\n1,30,FR\n2,40,DE\n3,50,FR\n"
CSV2 = b"id,age,country,extra\n1,31,FR,x\n2,90,IT,y\n3,95,IT,z\n4,99,IT,w\n"


def test_cli_lifecycle(cli, tmp_path) -> None:
    d = make_files(Path.cwd() / "customers", {"c.csv": CSV1})
    assert "customers@1" in cli("data", "add", "customers", "--name", "customers", "-q").output
    assert "up to date" in cli("data", "status").output
    (d / "c.csv").write_bytes(CSV2)
    assert "1 modified" in cli("data", "status").output
    cli("data", "add", "customers", "-q")
    listed = json.loads(cli("data", "list", "--json").output)
    assert listed[0]["name"] == "customers" and listed[0]["latest_version"] == 2
    versions = json.loads(cli("data", "versions", "customers", "--json").output)
    assert [v["version"] for v in versions] == [1, 2]
    shown = json.loads(cli("data", "show", "customers@1", "--json", "--files").output)
    assert shown["profile"]["c.csv"]["columns"]["age"]["max"] == 50 and shown["files_list"][0]["path"] == "c.csv"
    diff = json.loads(cli("data", "diff", "customers@1", "customers@2", "--json").output)
    assert diff["files"]["modified"] == ["c.csv"]
    assert {"file": "c.csv", "column": "extra", "change": "added", "before": None, "after": "string"} in diff["schema"]
    assert any(s["column"] == "age" and s["metric"] == "mean" for s in diff["shifts"])
    assert any(s["column"] == "country" and s["metric"] == "categories" for s in diff["shifts"])
    assert "Schema changes" in cli("data", "diff", "customers@1", "customers@2").output
    cli("data", "checkout", "customers@1", "--to", "v1")
    assert (Path.cwd() / "v1" / "c.csv").read_bytes() == CSV1
    cli("remote", "add", "origin", str(tmp_path / "remote"))
    assert "origin" in cli("remote", "list").output
    pushed = json.loads(cli("data", "push", "--json").output)
    assert pushed["transferred"] == 2 and pushed["failed"] == []
    cli("data", "gc", "--json")
    cli("remote", "remove", "origin")


def test_cli_validate(cli, tmp_path) -> None:
    make_files(Path.cwd() / "customers", {"c.csv": CSV1})
    cli("data", "add", "customers", "-q")
    good = tmp_path / "good.yaml"
    good.write_text(
        "row_count: {min: 1, max: 10}\ncolumns:\n  id: {type: int, not_null: true, unique: true}\n"
        "  age: {type: int, min: 0, max: 120}\n  country: {type: string, allowed: [FR, DE]}\n"
    )
    out = cli("data", "validate", "customers@1", "--expect", str(good)).output
    assert "passed" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("row_count: {min: 10}\ncolumns:\n  age: {max: 35}\n  country: {allowed: [FR]}\n  zip: {type: string}\n")
    report = json.loads(cli("data", "validate", "customers@1", "-e", str(bad), "--json", code=1).output)
    failed = {(c["check"], c["column"]) for c in report["checks"] if not c["ok"]}
    assert failed == {("row_count", None), ("range", "age"), ("allowed", "country"), ("exists", "zip")}


def test_cli_errors_are_one_line_with_stable_codes(project, tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "STEAD_HOME": str(project.home), "STEAD_STORE_URL": project.store_url}
    r = subprocess.run([sys.executable, "-m", "stead.cli", "data", "add", "nope"], env=env, capture_output=True, text=True)
    assert r.returncode == 3 and "RESOURCE_DOES_NOT_EXIST" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "stead.cli", "data", "show", "x@1"], env=env, capture_output=True, text=True)
    assert r.returncode == 3 and "No dataset named 'x'" in r.stderr


def test_status_command_line_is_lean_and_prints_like_the_full_cli(cli, project, monkeypatch) -> None:
    import subprocess
    import sys

    make_files(Path.cwd() / "customers", {"c.csv": CSV1})
    cli("data", "add", "customers", "--name", "customers", "-q")
    full = cli("data", "status", "--json").output
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(' '.join(m for m in ('typer', 'rich', 'sqlalchemy', 'pyarrow')"
        " if m in sys.modules)))\n"
        "sys.argv = ['stead', 'data', 'status', '--json']\n"
        "from stead.cli.main import run\n"
        "run()\n"
    )
    env = {**os.environ, "STEAD_HOME": str(project.home), "STEAD_STORE_URL": project.store_url}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert r.stderr == "" and json.loads(r.stdout) == json.loads(full)
    r = subprocess.run([sys.executable, "-m", "stead.cli", "data", "status", "nowhere"], env=env,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "nowhere" in r.stderr and "Traceback" not in r.stderr


def test_only_the_named_noun_is_loaded_and_help_lists_every_noun() -> None:
    from stead.cli.main import NOUNS, _noun, build_app

    assert _noun(["--debug", "data", "add", "x"]) == "data" and _noun(["--help"]) is None
    assert _noun(["nonsense"]) is None
    result = CliRunner().invoke(build_app(), ["--help"])
    assert all(noun in result.output for noun in NOUNS)


def _lean(argv: list[str]) -> str:
    """Python code running ``stead *argv`` that reports the heavy modules it imported."""
    return (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(' '.join(m for m in ('typer', 'rich', 'sqlalchemy', 'alembic',"
        " 'pyarrow') if m in sys.modules)))\n"
        f"sys.argv = ['stead', *{argv!r}]\n"
        "from stead.cli.main import run\n"
        "run()\n"
    )


def test_add_command_line_records_without_sqlalchemy_on_a_current_sqlite_store(cli, project) -> None:
    import subprocess
    import sys

    d = make_files(Path.cwd() / "customers", {"c.bin": b"one", "sub/d.bin": b"two"})
    cli("data", "add", "customers", "-q")  # creates and migrates the store (SQLAlchemy)
    (d / "c.bin").write_bytes(b"changed")
    env = {**os.environ, "STEAD_HOME": str(project.home), "STEAD_STORE_URL": project.store_url}
    r = subprocess.run([sys.executable, "-c", _lean(["data", "add", "customers", "--json", "-m", "second"])],
                       env=env, capture_output=True, text=True, check=True)
    out = json.loads(r.stdout)
    assert out["version"] == 2 and out["created"] and out["message"] == "second" and out["files"] == 2
    if project.store_url.startswith("sqlite"):
        assert r.stderr == "", r.stderr  # neither typer, rich nor SQLAlchemy were imported
    # the record is the one the SQLAlchemy store reads back
    [v1, v2] = json.loads(cli("data", "versions", "customers", "--json").output)
    assert (v2["version"], v2["message"], v2["manifest_hash"]) == (2, "second", out["manifest_hash"])
    assert v2["bytes"] == len(b"changed") + 3 and v1["manifest_hash"] != v2["manifest_hash"]
    r = subprocess.run([sys.executable, "-m", "stead.cli", "data", "add", "customers", "--no-profile"],
                       env=env, capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "✓ Unchanged since data:/customers@2"
    r = subprocess.run([sys.executable, "-m", "stead.cli", "data", "add", "customers", "--name", "bad name"],
                       env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "Invalid dataset name" in r.stderr and "Traceback" not in r.stderr


def test_checkout_of_a_file_version_writes_the_file_it_reports(project, tmp_path) -> None:
    """``--to PATH`` writes the file at PATH; ``--to FOLDER`` (existing, or ending in /) inside it, as cp does."""
    import subprocess
    import sys

    make_files(Path.cwd() / "data", {"customers.csv": CSV1})
    env = {**os.environ, "STEAD_HOME": str(project.home), "STEAD_STORE_URL": project.store_url}
    cli = [sys.executable, "-m", "stead.cli", "data"]
    subprocess.run([*cli, "add", "data/customers.csv"], env=env, check=True, capture_output=True)
    (Path.cwd() / "out").mkdir()
    outside = tmp_path / "elsewhere.csv"
    for to, written in (("restored", "restored"), ("out", "out/customers.csv"), ("new/", "new/customers.csv"),
                        (str(outside), str(outside))):
        r = subprocess.run([*cli, "checkout", "customers.csv@1", "--to", to], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        path = Path.cwd() / written
        assert f"{path}:1written" in "".join(r.stdout.split()) and path.read_bytes() == CSV1  # rich may wrap
        assert path.stat().st_mode & 0o200  # the user's copy is writable, as cp makes it
    assert sorted(p.name for p in Path.cwd().iterdir()) == [".stead", "data", "new", "out", "restored"]
    assert sorted(p.name for p in (Path.cwd() / "data").iterdir()) == ["customers.csv", "customers.csv.stead"]
