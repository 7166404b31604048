"""One error hierarchy: every code is unique, mapped to an HTTP status and documented."""

from __future__ import annotations

from pathlib import Path

import stead.errors as errors


def _error_classes():
    return [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.SteadError)]


def test_codes_are_unique_per_class():
    codes = [c.code for c in _error_classes() if c is not errors.SteadError]
    assert len(codes) == len(set(codes)), codes


def test_every_code_has_an_http_status_and_is_documented():
    doc = (Path(__file__).parents[1] / "docs" / "errors.md").read_text()
    for cls in _error_classes():
        assert cls.code in errors.HTTP_STATUS, cls
        assert f"`{cls.code}`" in doc, f"{cls.code} is not in docs/errors.md"


def test_mlflow_statuses():
    assert errors.NotFound("x").http_status == 404
    assert errors.InvalidParameter("x").http_status == 400
    assert errors.AlreadyExists("x").to_json() == {"error_code": "RESOURCE_ALREADY_EXISTS", "message": "x"}
