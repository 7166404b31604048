"""The rollback rule of the alias audit log, without a database."""

from __future__ import annotations

from stead.registry.alias_log import rollback_target


def test_a_rollback_goes_to_the_version_the_last_move_left() -> None:
    events = [("set", None), ("set", 1), ("set", 2)]  # None -> 1 -> 2 -> 3
    assert rollback_target(events, current=3, live={1, 2, 3}) == 2


def test_repeated_rollbacks_walk_further_back() -> None:
    events = [("set", None), ("set", 1), ("set", 2), ("rollback", 3)]  # ... 3 -> 2 by rollback
    assert rollback_target(events, current=2, live={1, 2, 3}) == 1


def test_deleted_and_current_versions_are_skipped() -> None:
    events = [("set", None), ("set", 1), ("set", 2), ("set", 3)]  # None -> 1 -> 2 -> 3 -> 4
    assert rollback_target(events, current=4, live={1, 4}) == 1


def test_nothing_earlier_gives_none() -> None:
    assert rollback_target([("set", None)], current=1, live={1}) is None
    assert rollback_target([], current=None, live=set()) is None
