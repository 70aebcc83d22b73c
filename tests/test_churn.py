"""Churn cycles per registration cohort, the retention table and the early warning, on hand-built
persons whose answers are worked out on paper. History: Saturday 2026-08-01 … Sunday 2026-10-04.

P1 registers Sat 08-01 (the first loaded day) and logs in 08-02. P2 and P3 register on Sunday
08-09 (week cohort Mon 08-03 … Sun 08-09); P2 logs in that day and opens the app on Sun 08-16,
P3 on Mon 08-17. P4 registers Mon 08-10 and never comes back. P5 and P7 register on Mon 08-31
(month end); P5 logs in 09-01, P7 only on 10-01. P6 registers Tue 09-01 and logs in 09-30. P9
registers Sun 09-27 and logs in on 10-04, the last loaded day.

Buyers for the purchase model, all registered on Tue 09-15 (a cohort no test reads): R00…R29 buy
every 5 to 14 days up to the end; G00…G29 bought every 4 days in August and vanished; W0…W9 bought weekly four times (400 in all) and stopped in
August, but still log in on 10-01 — the early warning's case; L0 did the same for 10 a time (low
value) and S0 for 100 a time without logging in since (silent): neither is warned.
"""

import json
from datetime import date, timedelta

import duckdb
import numpy as np
import pytest

from orchestration.lib import churn_model

from tests.conftest import cli_env, run_cli, write

LAST = "2026-10-04"
REGISTRATIONS = {"P1": "08-01", "P2": "08-09", "P3": "08-09", "P4": "08-10", "P5": "08-31", "P6": "09-01",
                 "P7": "08-31", "P9": "09-27"}
BUYER_REGISTRATION = "09-15"


def _orders() -> list[tuple[str, str, int]]:
    """(buyer, day, amount) of every order of the buyers."""
    orders = []
    for i in range(30):                                     # regular buyers, to the end
        day, every = date(2026, 8, 1) + timedelta(days=i % 7), 5 + i % 10
        while day <= date(2026, 10, 4):
            orders.append((f"R{i:02d}", day.strftime("%m-%d"), 120))
            day += timedelta(days=every)
    for name, start, amount in [*((f"W{i}", 2 + i, 100) for i in range(10)), ("L0", 3, 10), ("S0", 4, 100)]:
        orders += [(name, (date(2026, 8, start) + timedelta(days=7 * k)).strftime("%m-%d"), amount) for k in range(4)]
    for i in range(30):                                     # gone: bought every 4 days in August, then nothing
        orders += [(f"G{i:02d}", (date(2026, 8, 1 + i % 10) + timedelta(days=4 * k)).strftime("%m-%d"), 60)
                   for k in range(2 + i % 3)]
    return orders


BUYERS = sorted({buyer for buyer, _, _ in _orders()})
ACTIVITY = [("P1", "08-02", "login"), ("P2", "08-09", "login"), ("P2", "08-16", "app_open"),
            ("P3", "08-17", "app_open"), ("P5", "09-01", "login"), ("P6", "09-30", "login"),
            ("P7", "10-01", "login"), ("P9", "10-04", "login"),
            *((f"W{i}", "10-01", "login") for i in range(10)), ("L0", "10-01", "login")]


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("churn")
    landing = tmp / "landing"
    days: dict[str, list[dict]] = {}
    registrations = {**REGISTRATIONS, **{buyer: BUYER_REGISTRATION for buyer in BUYERS}}
    for n, (person, day) in enumerate(registrations.items()):
        days.setdefault(day, []).append({
            "event_id": f"r{person}", "event_time": f"2026-{day}T10:00:00+08:00", "event_type": "register",
            "platform": "ios", "member_id": f"m{person}", "phone": f"1380000{n:04d}", "device_id": f"d{person}"})
    for person, day, event_type in ACTIVITY:
        days.setdefault(day, []).append({
            "event_id": f"{person}-{day}", "event_time": f"2026-{day}T11:00:00+08:00", "event_type": event_type,
            "platform": "ios", "member_id": f"m{person}", "device_id": f"d{person}"})
    # A page view from an anonymous device on the last day keeps the loaded history's last day
    # the same whatever the registered persons do.
    days.setdefault("10-04", []).append({"event_id": "anon", "event_time": "2026-10-04T12:00:00+08:00",
                                         "event_type": "page_view", "platform": "web", "device_id": "dX"})
    for day, events in days.items():
        write(landing / "online" / f"dt=2026-{day}" / "events.jsonl", "".join(json.dumps(e) + "\n" for e in events))
    orders: dict[str, list[str]] = {}
    for n, (buyer, day, amount) in enumerate(_orders()):
        orders.setdefault(day, []).append(f"o{n},2026-{day} 12:00:00,2026-{day} 12:00:00,paid,{amount},0,m{buyer},香氛")
    for day, rows in orders.items():
        write(landing / "sales" / f"dt=2026-{day}" / "orders.csv",
              "order_id,order_time,updated_at,status,amount,refund_amount,member_id,category\n" + "\n".join(rows) + "\n")
    env = {**cli_env(tmp, landing), "USEROPS_START_DATE": "2026-08-01"}
    result = run_cli(["run", "--from", "2026-08-01", "--to", LAST], env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    conn = duckdb.connect(env["USEROPS_WAREHOUSE"], read_only=True)
    yield conn
    conn.close()


def cohort(conn, cohort_type, start, cycle):
    row = conn.execute("""select cohort_size, churned_users, churn_rate, retained_users, retention_rate,
                                 cast(window_start as varchar), cast(window_end as varchar)
                          from marts.churn_cohorts where cohort_type = ? and cohort_start = ? and cycle = ?""",
                       [cohort_type, f"2026-{start}", cycle]).fetchone()
    return None if row is None else row[:2] + (float(row[2]),) + row[3:4] + (float(row[4]),) + row[5:]


def test_a_sunday_registration_belongs_to_the_week_that_ends_that_day(churn):
    # P2 and P3 (Sunday 08-09) are in the week of Monday 08-03; the natural week after is 08-10 … 08-16.
    assert cohort(churn, "week", "08-03", "natural_week") == (2, 1, 0.5, 1, 0.5, "2026-08-10", "2026-08-16")
    # Two weeks after (biweekly) include P3's Monday 08-17.
    assert cohort(churn, "week", "08-03", "biweekly") == (2, 0, 0.0, 2, 1.0, "2026-08-10", "2026-08-23")
    assert cohort(churn, "week", "08-10", "natural_week") == (1, 1, 1.0, 0, 0.0, "2026-08-17", "2026-08-23")


def test_day_cycles_at_their_boundaries(churn):
    # Activity on the registration day does not count; D+7 is inside the 7-day window, D+8 is not.
    assert cohort(churn, "day", "08-09", "next_day") == (2, 2, 1.0, 0, 0.0, "2026-08-10", "2026-08-10")
    assert cohort(churn, "day", "08-09", "d7") == (2, 1, 0.5, 1, 0.5, "2026-08-10", "2026-08-16")
    assert cohort(churn, "day", "08-09", "d14") == (2, 0, 0.0, 2, 1.0, "2026-08-10", "2026-08-23")
    assert cohort(churn, "day", "08-01", "next_day") == (1, 0, 0.0, 1, 1.0, "2026-08-02", "2026-08-02")
    assert cohort(churn, "day", "08-31", "next_day") == (2, 1, 0.5, 1, 0.5, "2026-09-01", "2026-09-01")


def test_month_cycles_at_month_ends(churn):
    # August's cohort: P1 P2 P3 P4 P5 P7 (P5 and P7 registered on the 31st); only P5 is seen in
    # September (P7 comes back on 10-01, after the window).
    size, churned, churn_rate, retained, retention_rate, *window = cohort(churn, "month", "08-01", "natural_month")
    assert (size, churned, retained, window) == (6, 5, 1, ["2026-09-01", "2026-09-30"])
    assert churn_rate == pytest.approx(5 / 6, abs=1e-4) and retention_rate == pytest.approx(1 / 6, abs=1e-4)


def test_a_cohort_appears_only_once_its_window_has_closed(churn):
    assert cohort(churn, "month", "09-01", "natural_month") is None          # October not over
    assert cohort(churn, "month", "08-01", "quarterly") is None              # runs to November
    assert cohort(churn, "day", "09-27", "d7") == (1, 0, 0.0, 1, 1.0, "2026-09-28", "2026-10-04")  # ends on the last day
    assert cohort(churn, "day", "09-27", "d14") is None
    assert cohort(churn, "week", "09-28", "natural_week") is None
    # The week of Monday 07-27 began before the loaded history: no cohort, however it is cut.
    assert churn.execute("select count(*) from marts.churn_cohorts where cohort_start < '2026-08-01'").fetchone() == (0,)


def retention(conn, cohort_type, start, day_number):
    return conn.execute("""select registered_users, retained_users, cast(retention_rate as double)
                           from marts.cohort_retention where cohort_type = ? and cohort_start = ? and day_number = ?""",
                        [cohort_type, f"2026-{start}", day_number]).fetchone()


def test_retention_table_counts_the_nth_day_after_each_registration(churn):
    assert retention(churn, "day", "08-09", 7) == (2, 1, 0.5)                 # P2 on 08-16
    assert retention(churn, "day", "08-09", 8) == (2, 1, 0.5)                 # P3 on 08-17
    assert retention(churn, "day", "08-09", 1) == (2, 0, 0.0)
    assert retention(churn, "week", "08-03", 7) == (2, 1, 0.5)
    assert retention(churn, "week", "09-21", 7) == (1, 1, 1.0)                # P9: 09-27 + 7 = 10-04
    assert retention(churn, "week", "09-21", 8) is None                       # not seen yet
    assert churn.execute("select max(day_number) from marts.cohort_retention").fetchone() == (30,)


def test_the_purchase_model_is_fitted_on_every_buyer_and_feeds_the_profile(churn):
    fitted_on, r, alpha, a, b, buyers = churn.execute(
        "select fitted_on, r, alpha, a, b, buyers from churn.purchase_model").fetchone()
    assert str(fitted_on) == LAST and buyers == len(BUYERS)
    histories = churn.execute("""select h.x, h.t_x, h.t_cal, p.p_alive, p.p_active, i.identifier_value as member
                                 from intermediate.int_purchase_histories h
                                 join marts.user_profile p using (person_id)
                                 join marts.identity_map i on i.person_id = h.person_id and i.identifier_type = 'member_id'
                                 """).df().set_index("member")
    # W0 bought on 08-02, 08-09, 08-16, 08-23: x = 3 repeat days, t_x = 21, T = 08-02 … 10-04 = 63.
    assert tuple(histories.loc["mW0", ["x", "t_x", "t_cal"]]) == (3, 21, 63)
    refit = churn_model.fit(histories.x, histories.t_x, histories.t_cal)
    assert [r, alpha, a, b] == pytest.approx([refit.r, refit.alpha, refit.a, refit.b], rel=1e-3)
    params = churn_model.Params(r, alpha, a, b)
    assert np.allclose(histories.p_alive, churn_model.p_alive(params, histories.x, histories.t_x, histories.t_cal))
    assert np.allclose(histories.p_active,
                       churn_model.p_active(params, histories.x, histories.t_x, histories.t_cal, 30))
    # Regular buyers are likely alive; the ones who stopped six weeks ago are not.
    regular = histories.loc[[f"mR{i:02d}" for i in range(30)], "p_alive"]
    stopped = histories.loc[[f"mW{i}" for i in range(10)], "p_alive"]
    assert regular.min() > 0.5 > stopped.max()
    non_buyer = churn.execute("""select p.p_alive from marts.user_profile p join marts.identity_map i using (person_id)
                                 where i.identifier_value = 'mP1'""").fetchone()
    assert non_buyer == (None,)


def test_churn_warnings_are_the_active_valuable_buyers_who_stopped_buying(churn):
    warned = churn.execute("""select i.identifier_value, w.lifecycle_stage, w.value_level, w.risk_rank
                              from marts.churn_warnings w join marts.identity_map i using (person_id)
                              where i.identifier_type = 'member_id' order by w.risk_rank""").fetchall()
    # Not L0 (low value: 40 in all), not S0 (silent since August), not the regular buyers.
    assert sorted(member for member, _, _, _ in warned) == [f"mW{i}" for i in range(10)]
    assert {(stage, level) for _, stage, level, _ in warned} == {("active", "mid")}
    assert [rank for _, _, _, rank in warned] == list(range(1, 11))
