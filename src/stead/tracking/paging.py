"""Page tokens: opaque to clients, an offset inside."""

from __future__ import annotations

import base64
import binascii
import json

from stead.errors import InvalidParameter

__all__ = ["encode_offset_token", "decode_offset_token"]

_MAX_OFFSET = 2**63  # what an SQL OFFSET takes; a token past it was not made here


def encode_offset_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_offset_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["offset"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameter(
            f"Invalid page_token {token[:40]!r}: pass the next_page_token of a previous answer"
        ) from None
    if not 0 <= offset < _MAX_OFFSET:
        raise InvalidParameter(
            f"Invalid page_token {token[:40]!r}: offset {offset} is out of range; "
            "pass the next_page_token of a previous answer"
        )
    return offset
