"""The one error hierarchy of stead.

Every failure a user can cause is a ``SteadError`` with a stable ``code`` (MLflow's error
codes where MLflow has one). The HTTP status and the CLI exit status are derived from the
code here, once, so that every edge (REST API, CLI, Python API) reports the same thing.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SteadError",
    "InvalidParameter",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "PermissionDenied",
    "Unauthenticated",
    "InvalidState",
    "BadRequest",
    "RequestTooLarge",
    "RequestTimeout",
    "TooManyRequests",
    "UnsupportedMediaType",
    "UntrustedModel",
    "BackendUnavailable",
    "MissingExtra",
    "SchemaTooNew",
    "InternalError",
    "HTTP_STATUS",
    "EXIT_CODES",
    "http_status_for",
    "exit_code_for",
]


class SteadError(Exception):
    """Base of every error stead raises on purpose; ``code`` never changes between releases."""

    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        """The MLflow error body: ``{"error_code": ..., "message": ...}``."""
        return {"error_code": self.code, "message": self.message}

    @property
    def http_status(self) -> int:
        return http_status_for(self.code)


class InvalidParameter(SteadError):
    """A value the user gave is malformed, out of range, or contradicts what is stored."""

    code = "INVALID_PARAMETER_VALUE"


class BadRequest(SteadError):
    """A request that cannot be parsed at all (malformed JSON, wrong content type)."""

    code = "BAD_REQUEST"


class NotFound(SteadError):
    """The named experiment, run, model, dataset or file does not exist."""

    code = "RESOURCE_DOES_NOT_EXIST"


class AlreadyExists(SteadError):
    """Creating something whose name is taken."""

    code = "RESOURCE_ALREADY_EXISTS"


class Conflict(SteadError):
    """The operation conflicts with the current state (a concurrent change, a lock)."""

    code = "RESOURCE_CONFLICT"


class PermissionDenied(SteadError):
    code = "PERMISSION_DENIED"


class Unauthenticated(SteadError):
    code = "UNAUTHENTICATED"


class InvalidState(SteadError):
    """The object exists but is in a state that forbids the operation (a finished run...)."""

    code = "INVALID_STATE"


class RequestTooLarge(SteadError):
    code = "REQUEST_TOO_LARGE"


class RequestTimeout(SteadError):
    """A request's headers or body stopped arriving; the server gave up waiting for them."""

    code = "REQUEST_TIMEOUT"


class TooManyRequests(SteadError):
    """Too many failed attempts (logins) from one client or for one user; wait and retry."""

    code = "REQUEST_LIMIT_EXCEEDED"


class UnsupportedMediaType(SteadError):
    """The request's Content-Type is one this route never reads (e.g. a browser form's)."""

    code = "UNSUPPORTED_MEDIA_TYPE"


class UntrustedModel(SteadError):
    """Loading this model would unpickle its files, which runs code, and nobody opted in."""

    code = "UNTRUSTED_MODEL"


class BackendUnavailable(SteadError):
    """The store, artifact store, server or remote could not be reached."""

    code = "TEMPORARILY_UNAVAILABLE"


class MissingExtra(SteadError):
    """An optional dependency is needed; the message carries the exact ``pip install`` line."""

    code = "MISSING_DEPENDENCY"

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(f"{feature} needs an optional dependency: pip install 'stead[{extra}]'")


class SchemaTooNew(SteadError):
    """The metadata store was migrated by a newer stead than this one."""

    code = "SCHEMA_TOO_NEW"


class InternalError(SteadError):
    code = "INTERNAL_ERROR"


# MLflow's ERROR_CODE_TO_HTTP_STATUS, plus stead's own codes.
HTTP_STATUS: dict[str, int] = {
    "BAD_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "CUSTOMER_UNAUTHORIZED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "RESOURCE_CONFLICT": 409,
    "ABORTED": 409,
    "REQUEST_TIMEOUT": 408,
    "REQUEST_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "UNTRUSTED_MODEL": 403,
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "DATA_LOSS": 500,
    "MISSING_DEPENDENCY": 500,
    "SCHEMA_TOO_NEW": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

# CLI exit statuses: 1 for anything the user can fix in the call, others for the world.
EXIT_CODES: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 2,
    "BAD_REQUEST": 2,
    "RESOURCE_DOES_NOT_EXIST": 3,
    "RESOURCE_ALREADY_EXISTS": 4,
    "RESOURCE_CONFLICT": 4,
    "INVALID_STATE": 5,
    "UNAUTHENTICATED": 6,
    "PERMISSION_DENIED": 6,
    "REQUEST_LIMIT_EXCEEDED": 6,
    "UNTRUSTED_MODEL": 6,
    "TEMPORARILY_UNAVAILABLE": 7,
    "MISSING_DEPENDENCY": 8,
    "SCHEMA_TOO_NEW": 9,
}


def http_status_for(code: str) -> int:
    return HTTP_STATUS.get(code, 500)


def exit_code_for(code: str) -> int:
    return EXIT_CODES.get(code, 1)
