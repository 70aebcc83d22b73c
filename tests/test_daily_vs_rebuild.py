"""The day-by-day path against one full rebuild, through the real pipeline: person ids stay stable
(they change only through recorded merges), the persons end up the same, and so does the daily
profile history."""

from datetime import date
from pathlib import Path

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
    return snapshots, _identity(rebuild_env["USEROPS_WAREHOUSE"]), (daily_env["USEROPS_WAREHOUSE"],
                                                                    rebuild_env["USEROPS_WAREHOUSE"])


def test_ids_change_from_day_to_day_only_through_recorded_merges(histories):
    snapshots, _, _ = histories
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
    snapshots, (rebuilt, _), _ = histories
    daily, _ = snapshots[-1]
    assert set(daily) == set(rebuilt)
    assert _partition(daily) == _partition(rebuilt)


def _profile_history(warehouse, skip_merged: bool) -> set[tuple]:
    """user_profile_daily keyed by each person's smallest identifier instead of its id."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        merged = "select from_person_id from marts.person_merges union select into_person_id from marts.person_merges"
        return set(conn.execute(f"""
            with canonical as (select person_id, min({KEY}) as person from marts.identity_map group by person_id)
            select d.snapshot_date, c.person, d.lifecycle_stage, d.registered_on, d.last_key_behaviour_on,
                   d.active_days_7d, d.active_days_30d, d.orders_365d, d.net_revenue_365d, d.interaction_index
            from marts.user_profile_daily d join canonical c using (person_id)
            {"where d.person_id not in (" + merged + ")" if skip_merged else ""}""").fetchall())


def test_the_daily_profile_history_is_the_same_built_day_by_day_or_at_once(histories):
    _, _, (daily, rebuilt) = histories
    day_by_day = _profile_history(daily, skip_merged=True)
    at_once = _profile_history(rebuilt, skip_merged=False)
    # Persons that merged were two on the days before their merge on the day-by-day path (as the
    # data then said); every other person's history is identical, day for day. (RFM scores and
    # segments rank a person among all buyers of the day, so a merge elsewhere may move them.)
    assert len(day_by_day) > 0.9 * len(at_once)
    assert day_by_day <= at_once
    assert {row[0] for row in day_by_day} == {date.fromisoformat(d) for d in DAYS}


def _recall_plan(warehouse) -> set[tuple]:
    """Every day's recall audience keyed by each person's smallest identifier, unmerged persons
    only; without the test group, which hashes the person id (two warehouses mint their own)."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return set(conn.execute(f"""
            with canonical as (select person_id, min({KEY}) as person from marts.identity_map group by person_id)
            select a.campaign_date, c.person, a.rule_id, a.channel
            from marts.recall_audience a join canonical c using (person_id)
            where a.person_id not in (select from_person_id from marts.person_merges
                                      union select into_person_id from marts.person_merges)""").fetchall())


def test_a_range_run_plans_recall_for_every_day_as_the_daily_runs_did(histories):
    """Seen: a range run wrote recall only for its last day, so the demo's 92 days never showed a
    campaign's outcome. Now each day of the range is planned in order, its caps counting the
    range's earlier days, as the daily runs did."""
    _, _, (daily, rebuilt) = histories
    day_by_day, at_once = _recall_plan(daily), _recall_plan(rebuilt)
    assert {row[0] for row in at_once} == {date.fromisoformat(d) for d in DAYS}
    # Persons merged on the day-by-day path are left out there (they were two before the merge).
    assert len(day_by_day) > 0.9 * len(at_once) > 20 and day_by_day <= at_once
    # The caps carried across the range: nobody is contacted on two days less than 7 days apart.
    contacted: dict[str, list[date]] = {}
    for day, person, *_ in at_once:
        contacted.setdefault(person, []).append(day)
    assert all(len(days) == 1 for days in contacted.values())
    for warehouse in (daily, rebuilt):
        outbox = Path(warehouse).parent.parent / "outbox"
        assert sorted(p.name for p in outbox.iterdir() if p.name.startswith("dt=")) == [f"dt={d}" for d in DAYS]
