"""Stable person ids across runs, merges, splits and re-runs, on a real DuckDB database."""

from datetime import date

import duckdb
import pytest

from orchestration.lib.person_ids import assign_person_ids

DAY1, DAY2, DAY3 = date(2026, 8, 1), date(2026, 8, 2), date(2026, 8, 3)


@pytest.fixture
def conn():
    with duckdb.connect(":memory:") as connection:
        connection.execute("create schema identity")
        yield connection


def run(conn, day, persons):
    """One run: `persons` is a list of identifier-key lists, one per component."""
    rows = [(node, min(group)) for group in persons for node in group]
    conn.execute("create or replace table identity.components (node bigint, component bigint)")
    conn.executemany("insert into identity.components values (?, ?)", rows)
    result = assign_person_ids(conn, "identity.components", "identity.person_registry", "identity.person_merges",
                               day, scratch="identity.ids")
    current = dict(conn.execute("select identifier_key, person_id from identity.person_registry "
                                "where valid_to is null").fetchall())
    return result, current


def merges(conn):
    return conn.execute("select merged_on, from_person_id, into_person_id from identity.person_merges "
                        "order by all").fetchall()


def test_new_persons_get_the_smallest_key_and_keep_it_when_smaller_keys_join(conn):
    result, ids = run(conn, DAY1, [[10, 11], [20]])
    assert ids == {10: "p10", 11: "p10", 20: "p20"}
    assert (result.persons, result.new_persons, result.merges) == (2, 2, 0)
    # Day 2: identifier 5 joins the first person (the component's key is now 5) and 30 is new.
    result, ids = run(conn, DAY2, [[5, 10, 11], [20], [30]])
    assert ids == {5: "p10", 10: "p10", 11: "p10", 20: "p20", 30: "p30"}
    assert (result.new_persons, result.merges, result.changed_identifiers) == (1, 0, 2)


def test_a_merge_keeps_the_oldest_id_and_is_recorded(conn):
    run(conn, DAY1, [[10, 11]])
    run(conn, DAY2, [[10, 11], [3, 4]])               # p3 is issued later than p10 although smaller
    result, ids = run(conn, DAY3, [[3, 4, 10, 11]])   # a new edge joins them
    assert set(ids.values()) == {"p10"}
    assert merges(conn) == [(DAY3, "p3", "p10")]
    assert result.merges == 1
    # The registry keeps the history: identifier 3 was p3 until day 3.
    assert conn.execute("select person_id, valid_from, valid_to from identity.person_registry "
                        "where identifier_key = 3 order by valid_from").fetchall() == [
        ("p3", DAY2, DAY3), ("p10", DAY3, None)]


def test_same_day_persons_merge_into_the_smallest_id(conn):
    run(conn, DAY1, [[10], [20], [30]])
    _, ids = run(conn, DAY2, [[10, 20, 30]])
    assert set(ids.values()) == {"p10"}
    assert merges(conn) == [(DAY2, "p20", "p10"), (DAY2, "p30", "p10")]


def test_rerunning_a_day_gives_the_same_ids_and_merges(conn):
    run(conn, DAY1, [[10], [20]])
    run(conn, DAY2, [[10, 20], [1]])
    registry = conn.execute("select * from identity.person_registry order by all").fetchall()
    recorded = merges(conn)
    run(conn, DAY2, [[10, 20], [1]])
    assert conn.execute("select * from identity.person_registry order by all").fetchall() == registry
    assert merges(conn) == recorded
    # Re-running day 1 rewinds day 2's changes and merges.
    _, ids = run(conn, DAY1, [[10], [20]])
    assert ids == {10: "p10", 20: "p20"} and merges(conn) == []


def test_a_split_keeps_the_id_with_the_larger_part(conn):
    run(conn, DAY1, [[1, 2, 3, 4, 5]])
    # Identifier 1 turned junk and left the graph; 2 and 3 no longer reach 4 and 5.
    result, ids = run(conn, DAY2, [[2], [3, 4, 5]])
    assert ids == {2: "p2", 3: "p1", 4: "p1", 5: "p1"}
    assert result.splits == 1 and merges(conn) == []
    assert conn.execute("select valid_to from identity.person_registry where identifier_key = 1").fetchone() == (DAY2,)


def test_an_id_issued_before_is_never_reissued(conn):
    run(conn, DAY1, [[7], [8]])
    run(conn, DAY2, [[7, 8]])                          # p8 merged into p7
    _, ids = run(conn, DAY3, [[7], [8]])               # 8 splits off again
    assert ids == {7: "p7", 8: "p8-20260803"}
