"""MLflow's error body: what the server writes, the clients read back as the same error."""

from __future__ import annotations

import json

import pytest

from stead import errors as E
from stead.wire.errors import error_from_json, error_json


def test_a_written_body_reads_back_as_the_same_error():
    body = json.loads(error_json("RESOURCE_DOES_NOT_EXIST", "Run 'x' not found"))
    assert body == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 'x' not found"}
    exc = error_from_json(404, body)
    assert type(exc) is E.NotFound and exc.message == "Run 'x' not found"


@pytest.mark.parametrize("cls", [E.InvalidParameter, E.AlreadyExists, E.PermissionDenied, E.Unauthenticated,
                                 E.RequestTooLarge, E.BackendUnavailable])
def test_every_code_maps_to_its_class(cls):
    exc = error_from_json(400, {"error_code": cls.code, "message": "m"})
    assert type(exc) is cls and exc.code == cls.code


def test_an_unknown_code_is_kept():
    exc = error_from_json(400, {"error_code": "SOMETHING_NEWER", "message": "m"})
    assert type(exc) is E.SteadError and exc.code == "SOMETHING_NEWER" and exc.message == "m"


def test_a_body_without_a_code_is_named_by_its_status():
    exc = error_from_json(404, "<html>not here</html>", "GET /api/2.0/mlflow/x")
    assert isinstance(exc, E.NotFound) and exc.code == "ENDPOINT_NOT_FOUND"
    assert exc.message == "GET /api/2.0/mlflow/x answered HTTP 404"
    assert error_from_json(502, None).code == "INTERNAL_ERROR"
