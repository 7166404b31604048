"""Logs of stead's long-running processes: ``stead server``, ``stead serve``, ``stead scheduler``.

``--log-format text`` (the default) is for people: a start-up line, warnings and errors.
``--log-format json`` is for log collectors (Loki, Elasticsearch, CloudWatch): every line
on stderr is one JSON object with ``time`` (UTC, ISO 8601), ``level``, ``logger`` and
``message``, plus ``request_id``, ``deployment`` and ``variant`` where known and the fields
of the event; a server then also writes one line per request (``stead.access``).

The configuration is a ``logging.config.dictConfig`` dict, so uvicorn applies the same one in
each ``--workers N`` worker process. Fields reach a line three ways: ``static`` fields of the
process (the deployment it serves), the current request's fields (``RequestLog`` sets
``request_id``; ``note`` adds more) and ``extra={"fields": {...}}`` or ``extra={"variant": ...}``
on the logging call.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from stead.errors import InvalidParameter

__all__ = ["FORMATS", "check_format", "logging_config", "configure", "is_json", "say", "note", "JsonFormatter",
           "RequestLog"]

FORMATS = ("text", "json")
_KNOWN = ("request_id", "deployment", "variant")  # record attributes a line carries when set
_request: ContextVar[dict[str, Any] | None] = ContextVar("stead_request_log", default=None)
_json = False


def check_format(fmt: str) -> str:
    """``fmt`` when it is a known log format; one clear error otherwise."""
    if fmt not in FORMATS:
        raise InvalidParameter(f"Unknown log format {fmt!r}; use --log-format text or --log-format json")
    return fmt


class JsonFormatter(logging.Formatter):
    """One JSON object a line; ``static`` fields are added to every line."""

    def __init__(self, static: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.static = {k: v for k, v in (static or {}).items() if v is not None}

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, tz=timezone.utc)
        line: dict[str, Any] = {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **self.static,
        }
        line.update(_request.get() or {})
        for key in _KNOWN:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def logging_config(fmt: str, *, static: dict[str, Any] | None = None, level: str = "INFO") -> dict[str, Any] | None:
    """The ``dictConfig`` of ``fmt`` (also uvicorn's ``log_config``); None for text, which
    keeps uvicorn's and Python's defaults."""
    if check_format(fmt) == "text":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "stead.logs.JsonFormatter", "static": dict(static or {})}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        # uvicorn's own loggers write through the same handler instead of their own
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def configure(fmt: str, *, static: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Set this process's logging up for ``fmt``; returns the config for uvicorn to reapply."""
    global _json
    config = logging_config(fmt, static=static)
    _json = config is not None
    if config is not None:
        logging.config.dictConfig(config)
        logging.captureWarnings(True)  # a Python warning is a log line too, not free text on stderr
    return config


def is_json() -> bool:
    """Whether ``configure("json")`` ran in this process (or a dictConfig with our formatter)."""
    return _json or any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)


def say(logger: str, message: str, *, warning: bool = False, **fields: Any) -> None:
    """A line for the operator: plain text (stdout, or stderr for a warning) or a JSON log line."""
    if is_json():
        logging.getLogger(logger).log(logging.WARNING if warning else logging.INFO, message,
                                      extra={"fields": fields})
        return
    stream = sys.stderr if warning else sys.stdout
    stream.write(message + "\n")
    stream.flush()


def note(**fields: Any) -> None:
    """Add fields (e.g. ``variant``) to the log lines of the request being handled."""
    current = _request.get()
    if current is not None:
        current.update(fields)


class RequestLog:
    """ASGI middleware: a request id for every HTTP request (the client's ``X-Request-ID``
    or a new one, echoed in the response), on every line logged while it is handled, and
    one ``stead.access`` line when it ends (method, path, status, duration, variant)."""

    def __init__(self, app: Any, logger: str = "stead.access") -> None:
        self.app = app
        self.log = logging.getLogger(logger)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-request-id"), None)
        fields: dict[str, Any] = {"request_id": (request_id or uuid.uuid4().hex)[:200]}
        token = _request.set(fields)
        status = 500  # what the client gets when the app fails before answering
        start = time.perf_counter()

        async def logged_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                answered = False  # the app answered under an id of its own (stead serve: the id it logged)
                for key, value in headers:
                    if key == b"x-stead-variant":
                        fields["variant"] = value.decode("latin-1")
                    elif key == b"x-request-id":
                        fields["request_id"], answered = value.decode("latin-1"), True
                if not answered:
                    headers.append((b"x-request-id", fields["request_id"].encode("latin-1", "replace")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            method, path = scope.get("method", ""), scope.get("path", "")
            self.log.info("%s %s %d", method, path, status, extra={"fields": {
                "method": method, "path": path, "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 3)}})
            _request.reset(token)
