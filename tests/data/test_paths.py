"""``stead.data.paths``: the one check of paths read from pointers, manifests and records."""

from __future__ import annotations

import pytest

from stead.data.paths import check_relative, check_relatives, unsafe
from stead.errors import InvalidParameter

SAFE = ["a", "a/b", "a/b.csv", ".gitignore", "x/.gitkeep", ".hidden/x", "x/c:y", "a b/ü.csv", "...", "a/..b", "gitx/.git_"]
UNSAFE = ["", "..", ".", "../x", "a/../b", "a/..", "/etc", "C:/x", "c:x", "a\\b", "a//b", "a/", "a/./b", ".git",
          "x/.GIT/hooks", ".stead/x", "x/.Hg", ".svn", "a\x00b", "a\nb", "a\rb", "a\x7fb"]


@pytest.mark.parametrize("path", SAFE)
def test_safe_paths_pass(path: str) -> None:
    assert check_relative(path, "t") == path and unsafe([path]) == []
    check_relatives(["ok", path, "z/ok"], "t")


@pytest.mark.parametrize("path", UNSAFE)
def test_unsafe_paths_are_refused_one_by_one_and_in_bulk(path: str) -> None:
    with pytest.raises(InvalidParameter, match="unsafe path"):
        check_relative(path, "t")
    with pytest.raises(InvalidParameter, match="unsafe path"):
        check_relatives(["ok", path, "z/ok"], "t")
    assert unsafe(["ok", path]) == [path]


def test_single_part_only_when_asked() -> None:
    assert check_relative("a/b", "t") == "a/b"
    with pytest.raises(InvalidParameter, match="a plain file or folder name"):
        check_relative("a/b", "t", single=True)
    with pytest.raises(InvalidParameter):
        check_relative(3, "t")
