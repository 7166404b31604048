"""SteadError -> MLflow's JSON error body and HTTP status, in one place.

Every error a client sees is JSON ``{"error_code": ..., "message": ...}``; unexpected
failures say ``INTERNAL_ERROR`` with a short message while the traceback goes to the log.
"""

from __future__ import annotations

import logging

import msgspec

from stead.errors import SteadError, http_status_for

__all__ = ["error_parts", "error_json", "internal_error_parts"]

log = logging.getLogger("stead.server")
_encode = msgspec.json.Encoder().encode


def error_json(code: str, message: str) -> bytes:
    return _encode({"error_code": code, "message": message})


def error_parts(exc: SteadError) -> tuple[int, bytes]:
    """The HTTP status and body for a SteadError."""
    return http_status_for(exc.code), error_json(exc.code, exc.message)


def internal_error_parts(exc: BaseException, where: str) -> tuple[int, bytes]:
    """Log the traceback of an unexpected failure; the client gets one line."""
    log.error("internal error in %s", where, exc_info=exc)
    return 500, error_json("INTERNAL_ERROR", f"Internal error in {where}; the server log has the details.")
