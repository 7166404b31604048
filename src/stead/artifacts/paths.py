"""Artifact path safety: the one gate every store path goes through.

Artifact paths arrive from users, from HTTP requests (MLflow's artifact proxy) and from
stored records, so they are hostile input. A path is accepted only when it names a spot
*inside* the store root under every reading a later component might apply: as typed, and
after any number of percent-decodings (the MLflow CVEs behind ``%252e%252e%252f`` came
from a second decode in a place nobody expected). The canonical form is then used as a
plain relative key by every store, so the checks live here once, as pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NoReturn
from urllib.parse import unquote

from stead.errors import InvalidParameter

__all__ = ["MAX_PATH_BYTES", "MAX_NAME_BYTES", "join_path", "normalize_artifact_path", "normalize_object_path"]

# S3's limit on a key; a longer path could be stored locally but never mirrored to S3.
MAX_PATH_BYTES = 1024
# Most file systems' limit on one name (NAME_MAX); a longer one could not be written locally.
MAX_NAME_BYTES = 255

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")  # also matches a drive letter `C:`
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_DECODES = 8
_HINT = "Use a relative POSIX path inside the artifact root, like 'model/model.pkl'."


def normalize_artifact_path(path: str) -> str:
    """Return the canonical relative form of ``path`` ('' is the store root).

    Raises ``InvalidParameter`` for anything that could name a place outside the root or
    mean different things to different layers: absolute paths, ``..``, backslashes, URL
    schemes and drive letters, ``//host``, ``#``, ``?``, control characters, and any of
    these hidden behind one or more levels of percent-encoding (including an encoded
    ``/``). ``.`` segments, repeated and trailing slashes are dropped.
    """
    if not isinstance(path, str):
        raise InvalidParameter(f"Artifact path must be a string, got {type(path).__name__}. {_HINT}")
    for level, form in enumerate(_decodings(path)):
        _check_form(form, original=path, decoded=level > 0)
        if level > 0 and form.count("/") != path.count("/"):
            _reject(path, "contains a percent-encoded '/'")
    segments = [s for s in path.split("/") if s not in ("", ".")]
    canonical = "/".join(segments)
    if len(canonical.encode("utf-8")) > MAX_PATH_BYTES:
        _reject(path, f"is longer than {MAX_PATH_BYTES} bytes")
    for segment in segments:
        if len(segment.encode("utf-8")) > MAX_NAME_BYTES:
            _reject(path, f"has a file or folder name longer than {MAX_NAME_BYTES} bytes")
    return canonical


def normalize_object_path(path: str) -> str:
    """Like ``normalize_artifact_path`` but refuses the root: for reading, writing and
    deleting one named file or directory, where '' would mean "the whole store"."""
    canonical = normalize_artifact_path(path)
    if canonical == "":
        raise InvalidParameter(
            f"Artifact path {path!r} names the store root; this operation needs a file or "
            f"directory inside it. {_HINT}"
        )
    return canonical


def join_path(parent: str, name: str) -> str:
    """Join two canonical relative paths (either may be '')."""
    return f"{parent}/{name}" if parent and name else parent or name


def percent_decodings(text: str) -> list[str]:
    """``text`` and each distinct percent-decoding of it, until decoding changes nothing or
    ``MAX_DECODES`` levels are reached: every layer that may decode it once more sees one of
    these forms, so a check has to hold for all of them."""
    forms = [text]
    for _ in range(MAX_DECODES):
        decoded = unquote(forms[-1], errors="replace")
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms


def _decodings(path: str) -> list[str]:
    forms = percent_decodings(path)
    if unquote(forms[-1], errors="replace") != forms[-1]:
        _reject(path, f"is still percent-encoded after {MAX_DECODES} decodings")
    return forms


def _check_form(form: str, *, original: str, decoded: bool) -> None:
    how = " once percent-decoded" if decoded else ""
    for ch in form:
        if unicodedata.category(ch) == "Cc":
            _reject(original, f"contains the control character {ch!r}{how}")
    for ch, name in (("\\", "a backslash"), ("#", "'#'"), ("?", "'?'")):
        if ch in form:
            _reject(original, f"contains {name}{how}")
    if form.startswith("//"):
        _reject(original, f"starts with '//' (a network host){how}")
    if form.startswith("/"):
        _reject(original, f"is absolute{how}")
    if form.startswith("~"):
        _reject(original, f"starts with '~' (a home directory){how}")
    if _SCHEME.match(form):
        _reject(original, f"starts with a URL scheme or drive letter{how}")
    for segment in form.split("/"):
        if segment == "..":
            _reject(original, f"contains a '..' segment{how}")
        if segment == "." and decoded:
            _reject(original, "contains a percent-encoded '.' segment")
        if _DRIVE.match(segment):
            _reject(original, f"contains a drive letter{how}")


def _reject(path: str, what: str) -> NoReturn:
    shown = repr(path) if len(path) <= 200 else f"{path[:200]!r}..."  # keep errors one line
    raise InvalidParameter(f"Artifact path {shown} {what}. {_HINT}", path=path)
