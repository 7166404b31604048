"""normalize_artifact_path: the attack classes of protocols.md section 2, as pure checks."""

from __future__ import annotations

import pytest

from stead.artifacts.paths import (
    MAX_NAME_BYTES,
    MAX_PATH_BYTES,
    join_path,
    normalize_artifact_path,
    normalize_object_path,
)
from stead.errors import InvalidParameter

# (hostile path, what the message must say). Taken from the MLflow/ClearML CVEs cited in
# protocols.md: relative and absolute traversal, URL schemes, UNC-ish hosts, backslashes,
# fragments, queries, control characters and (double) percent-encoding.
HOSTILE = [
    ("../etc/passwd", "'..'"),
    ("a/../../etc/passwd", "'..'"),
    ("a/b/..", "'..'"),
    ("..", "'..'"),
    ("/etc/passwd", "absolute"),
    ("/", "absolute"),
    ("//proc/self/root", "'//'"),
    ("//host/share/x", "'//'"),
    ("file:///etc/passwd", "scheme"),
    ("file:etc/passwd", "scheme"),
    ("http:///?/../../etc/", "'?'"),
    ("s3://other-bucket/key", "scheme"),
    ("C:/Windows/win.ini", "drive letter"),
    ("c:", "drive letter"),
    ("a/D:/x", "drive letter"),
    ("\\..\\..\\etc\\passwd", "backslash"),
    ("a\\b", "backslash"),
    ("model#fragment", "'#'"),
    ("model?x=1", "'?'"),
    ("a\x00b", "control character"),
    ("a\nb", "control character"),
    ("a\x7fb", "control character"),
    ("a\x85b", "control character"),
    ("%2e%2e/etc/passwd", "'..'"),
    ("%2E%2E%2Fetc%2Fpasswd", "'..'"),
    (".%2e/x", "'..'"),
    ("a%2fb", "percent-encoded '/'"),
    ("a%2Fb", "percent-encoded '/'"),
    ("..%5c..%5cwin.ini", "backslash"),
    ("%252e%252e/etc/passwd", "'..'"),
    ("%252E%252E%252F", "'..'"),
    ("%25252e%25252e/x", "'..'"),
    ("a/%2e/b", "'.' segment"),
    ("%2fetc%2fpasswd", "absolute"),
    ("%2F%2Fhost/x", "'//'"),
    ("file%3a///etc/passwd", "scheme"),
    ("a%00b", "control character"),
    ("a%23b", "'#'"),
    ("a%3fb", "'?'"),
    ("~/.ssh/id_rsa", "'~'"),
    ("%7e/.ssh/id_rsa", "'~'"),
    ("a" * (MAX_PATH_BYTES + 1), "longer than"),
    ("a" * (MAX_NAME_BYTES + 1), "name longer than 255 bytes"),  # past NAME_MAX: 400, not an OSError
    ("x/" + "é" * 128 + "/y", "name longer than 255 bytes"),
    ("%" + "25" * 9 + "2e%2e/x", "percent-encoded after"),
]

CANONICAL = [
    ("", ""),
    (".", ""),
    ("./", ""),
    ("model", "model"),
    ("model/", "model"),
    ("./model//MLmodel", "model/MLmodel"),
    ("a/./b/./c", "a/b/c"),
    ("data/part-0001.parquet", "data/part-0001.parquet"),
    ("..hidden/...", "..hidden/..."),  # dots that are not a '..' segment
    ("a..b/c..", "a..b/c.."),
    (".stead/x", ".stead/x"),
    ("100%.txt", "100%.txt"),  # a lone '%' is not an escape
    ("a%20b.txt", "a%20b.txt"),  # names are literal: never decoded into another name
    ("a%252e%252e/x", "a%252e%252e/x"),  # decodes to 'a..', a plain name
    ("époque/数据.csv", "époque/数据.csv"),
    ("metrics/2024-01-01T10:00:00.json", "metrics/2024-01-01T10:00:00.json"),
    ("/".join(["a" * MAX_NAME_BYTES] * 4), "/".join(["a" * MAX_NAME_BYTES] * 4)),  # 1,023 bytes
    ("a" * MAX_NAME_BYTES, "a" * MAX_NAME_BYTES),
]


@pytest.mark.parametrize("path,reason", HOSTILE, ids=[repr(p)[:40] for p, _ in HOSTILE])
def test_hostile_paths_are_rejected(path: str, reason: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        normalize_artifact_path(path)
    message = info.value.message
    assert reason in message
    assert repr(path)[:50] in message  # names the path...
    assert "relative POSIX path" in message  # ...and says what to do
    assert info.value.details == {"path": path}


@pytest.mark.parametrize("path,expected", CANONICAL)
def test_safe_paths_are_canonicalised(path: str, expected: str) -> None:
    assert normalize_artifact_path(path) == expected


@pytest.mark.parametrize("path", [p for p, _ in CANONICAL])
def test_normalisation_is_idempotent(path: str) -> None:
    once = normalize_artifact_path(path)
    assert normalize_artifact_path(once) == once


@pytest.mark.parametrize("path", [None, b"model", 3, ["a"]])
def test_non_strings_are_rejected(path: object) -> None:
    with pytest.raises(InvalidParameter, match="must be a string"):
        normalize_artifact_path(path)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["", ".", "./", ".//."])
def test_object_paths_refuse_the_root(path: str) -> None:
    assert normalize_artifact_path(path) == ""
    with pytest.raises(InvalidParameter, match="store root"):
        normalize_object_path(path)


def test_object_paths_share_the_rules() -> None:
    assert normalize_object_path("./a//b/") == "a/b"
    with pytest.raises(InvalidParameter, match="'..'"):
        normalize_object_path("%252e%252e/x")


def test_length_limit_counts_utf8_bytes() -> None:
    fits = "/".join(["é" * 127] * 4) + "/" + "é" * 1  # 1,022 bytes, each name under 255
    assert normalize_artifact_path(fits) == fits
    with pytest.raises(InvalidParameter, match="longer than 1024"):
        normalize_artifact_path(fits + "éé")


@pytest.mark.parametrize(
    "parent,name,expected",
    [("", "", ""), ("", "a", "a"), ("a", "", "a"), ("a/b", "c/d", "a/b/c/d")],
)
def test_join_path(parent: str, name: str, expected: str) -> None:
    assert join_path(parent, name) == expected
