"""Fixtures for pipeline tests: settings on each database, pipeline files in tmp_path."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def write_module(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write ``code`` to a fresh module file in tmp_path and import it (unique name)."""
    created: list[str] = []

    def write(code: str, name: str | None = None) -> Any:
        name = name or f"stead_test_pipe_{uuid.uuid4().hex[:10]}"
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(code))
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        created.append(name)
        return module

    yield write
    for name in created:
        sys.modules.pop(name, None)
