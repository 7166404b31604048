"""Page tokens: opaque to clients, an offset inside."""

from __future__ import annotations

import base64
import binascii
import json

from stead.errors import InvalidParameter

__all__ = ["encode_offset_token", "decode_offset_token"]


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
    if offset < 0:
        raise InvalidParameter(f"Invalid page_token {token[:40]!r}: negative offset")
    return offset
