"""``stead.logs``: the JSON line format and the request context, without a server."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from stead.errors import InvalidParameter
from stead.logs import JsonFormatter, RequestLog, check_format, logging_config


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("stead.serving", logging.WARNING, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_a_line_carries_static_record_and_event_fields() -> None:
    formatter = JsonFormatter({"deployment": "churn", "model": None})
    line = json.loads(formatter.format(_record("variant down", variant="canary", fields={"reason": "no model"})))
    assert line["level"] == "WARNING" and line["logger"] == "stead.serving" and line["message"] == "variant down"
    assert line["deployment"] == "churn" and line["variant"] == "canary" and line["reason"] == "no model"
    assert "model" not in line and line["time"].endswith("Z") and "T" in line["time"]
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failed = logging.LogRecord("stead.server", logging.ERROR, __file__, 1, "internal error", (), sys.exc_info())
    line = json.loads(formatter.format(failed))
    assert "\n" not in formatter.format(failed) and "ValueError: boom" in line["error"]


def test_request_log_gives_every_line_of_a_request_its_id() -> None:
    formatter = JsonFormatter()
    seen: list[dict] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(json.loads(formatter.format(_record("inside"))))
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-stead-variant", b"canary")]})
        await send({"type": "http.response.body", "body": b""})

    sent: list[dict] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(json.loads(formatter.format(record)))

    access = logging.getLogger("stead.test.access")
    access.addHandler(Capture())
    access.setLevel(logging.INFO)
    scope = {"type": "http", "method": "POST", "path": "/invocations", "headers": [(b"x-request-id", b"abc")]}
    asyncio.run(RequestLog(app, "stead.test.access")(scope, None, send))
    inside, done = seen
    assert inside["request_id"] == "abc" and "variant" not in inside
    assert (done["request_id"], done["variant"], done["status"], done["path"]) == ("abc", "canary", 201, "/invocations")
    assert (b"x-request-id", b"abc") in sent[0]["headers"]
    assert "request_id" not in json.loads(formatter.format(_record("after")))  # the context ended with the request


def test_formats() -> None:
    assert logging_config("text") is None
    assert logging_config("json", static={"deployment": "d"})["formatters"]["json"]["static"] == {"deployment": "d"}
    with pytest.raises(InvalidParameter, match="use --log-format text or --log-format json"):
        check_format("yaml")
