"""The JSON API fuzzed with Schemathesis against the server's own ``/openapi.json``.

A real ``stead server`` process and Schemathesis' own runner: its coverage phase (boundary
values, wrong types, repeated query keys, missing fields) and a bounded fuzzing phase over
every operation of the document (the ``/ajax-api`` prefixes mount the same tables, so they
are left out). No request may get a 500, and every answer's status, content type and body
must be ones the document declares. A fixed seed, so CI runs the same cases every time;
about 20 s on an idle machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_no_request_gets_a_500_or_an_undocumented_answer(tmp_path: Path) -> None:
    from server_process import stead_server

    with stead_server(tmp_path / "server") as url:
        done = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
             "--checks", CHECKS, "--phases", "examples,coverage,fuzzing", "--max-examples", "3",
             "--seed", "1", "--generation-database", "none", "--exclude-path-regex", "^/ajax-api/",
             "--warnings", "off", "--no-color", "--report-dir", str(tmp_path / "report")],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )
    out = done.stdout + done.stderr
    assert "API Operations:" in out and "Tested: " in out, out[-3000:]
    tested = int(out.split("Tested: ", 1)[1].split()[0])
    assert tested > 50, out[-3000:]  # the document lists the whole API
    assert done.returncode == 0, out[-6000:]
