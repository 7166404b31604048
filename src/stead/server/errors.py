"""SteadError -> MLflow's JSON error body (``stead.wire.errors``) and HTTP status, in one place.

Every error a client sees is JSON ``{"error_code": ..., "message": ...}``; unexpected
failures say ``INTERNAL_ERROR`` with a short message while the traceback goes to the log.
No body shows where the server keeps things: every ``ServerContext`` registers its artifact
root and store URL (``keep_private``), and each message names them only as "the artifact
store" and "the metadata store" (a store message may quote them; the log keeps them).
"""

from __future__ import annotations

import logging

from stead.errors import SteadError, http_status_for
from stead.wire.errors import error_json

__all__ = ["error_parts", "internal_error_parts", "keep_private", "public_message"]

log = logging.getLogger("stead.server")
_PRIVATE: dict[str, str] = {}  # text no client may see -> what is shown instead


def keep_private(text: str, shown_as: str) -> None:
    """Never show ``text`` (a path or URL of this server's stores) in an error body."""
    if text and len(text) > 1:
        _PRIVATE[text] = shown_as


def public_message(message: str) -> str:
    """``message`` with every private text replaced, longest first."""
    if any(text in message for text in _PRIVATE):
        for text in sorted(_PRIVATE, key=len, reverse=True):
            message = message.replace(text, _PRIVATE[text])
    return message


def error_parts(exc: SteadError) -> tuple[int, bytes]:
    """The HTTP status and body for a SteadError."""
    return http_status_for(exc.code), error_json(exc.code, public_message(exc.message))


def internal_error_parts(exc: BaseException, where: str) -> tuple[int, bytes]:
    """Log the traceback of an unexpected failure; the client gets one line."""
    log.error("internal error in %s", where, exc_info=exc)
    return 500, error_json("INTERNAL_ERROR", f"Internal error in {where}; the server log has the details.")
