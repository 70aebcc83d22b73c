"""Person ids over time through the real pipeline: the day-by-day path keeps ids stable (changes
only through recorded merges) and ends with the same partition of identifiers as a full rebuild."""

from datetime import date

import duckdb
import pytest

from orchestration.sample.generator import generate
from tests.conftest import cli_env, run_cli

DAYS = ["2026-08-01", "2026-08-02", "2026-08-03"]
KEY = "identifier_type || ':' || coalesce(wechat_app, '') || ':' || identifier_value"


def _identity(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        ids = dict(conn.execute(f"select {KEY}, person_id from marts.identity_map").fetchall())
        merges = conn.execute("select merged_on, from_person_id, into_person_id from marts.person_merges").fetchall()
    return ids, merges


def _partition(ids: dict[str, str]) -> set[frozenset[str]]:
    persons: dict[str, set[str]] = {}
    for identifier, person in ids.items():
        persons.setdefault(person, set()).add(identifier)
    return {frozenset(members) for members in persons.values()}


@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity_history")
    generate(root / "landing", 400, date(2026, 8, 1), date(2026, 8, 3), 11)
    daily_env = cli_env(root / "daily", root / "landing")
    snapshots = []
    for day in DAYS:
        result = run_cli(["run", "--date", day], daily_env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        snapshots.append(_identity(daily_env["USEROPS_WAREHOUSE"]))
    rebuild_env = cli_env(root / "rebuild", root / "landing")
    result = run_cli(["run", "--from", DAYS[0], "--to", DAYS[-1]], rebuild_env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return snapshots, _identity(rebuild_env["USEROPS_WAREHOUSE"])


def test_ids_change_from_day_to_day_only_through_recorded_merges(histories):
    snapshots, _ = histories
    seen_merges = 0
    for (before, _), (after, merges) in zip(snapshots, snapshots[1:]):
        into = {source: target for _, source, target in merges}
        kept = moved = 0
        for identifier, old in before.items():
            new = after.get(identifier)
            if new is None:
                continue                               # turned junk: it links nobody now
            if new == old:
                kept += 1
            else:
                assert into.get(old) == new, f"{identifier} moved from {old} to {new} without a recorded merge"
                moved += 1
        assert kept > 0.95 * len(before)
        seen_merges += len(merges)
    assert seen_merges > 0, "the sample should merge persons across days (a follower binding a phone)"


def test_the_day_by_day_path_and_a_full_rebuild_give_the_same_persons(histories):
    snapshots, (rebuilt, _) = histories
    daily, _ = snapshots[-1]
    assert set(daily) == set(rebuilt)
    assert _partition(daily) == _partition(rebuilt)
