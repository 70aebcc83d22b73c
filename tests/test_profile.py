"""User profile, daily history and tags on hand-built persons whose answers are worked out on paper.

Persons (by member id): A registers 08-01 and buys 200 on 08-02, refunded 50 in a version that
arrives 08-04; B buys 100 on 08-02, cancelled 08-03; C logs in 08-01 and has a page view of
08-02 that arrives late, on 08-04; D never registers (one page view on 08-22); E logs in 08-01
and comes back 09-05 after 35 silent days; F buys 300 on 08-10 and 09-01; K invites I1 and I2,
who register. Everything runs as one range 08-01 … 09-05.
"""

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.serving import read_only_connection
from tests.conftest import cli_env, run_cli, write

LAST = "2026-09-05"


def _event(event_id, day, event_type, hour=10, **ids):
    return {"event_id": event_id, "event_time": f"2026-{day}T{hour:02d}:00:00+08:00", "event_type": event_type,
            "platform": "ios", **ids}


@pytest.fixture(scope="module")
def profile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profile")
    landing = tmp / "landing"
    online = {
        "08-01": [_event("a1", "08-01", "register", member_id="mA", phone="13800000001", device_id="dA"),
                  _event("b1", "08-01", "register", member_id="mB", phone="13800000002", device_id="dB"),
                  _event("c1", "08-01", "register", member_id="mC", phone="13800000003", device_id="dC"),
                  _event("c2", "08-01", "login", member_id="mC", device_id="dC"),
                  _event("e1", "08-01", "register", member_id="mE", phone="13800000005", device_id="dE"),
                  _event("e2", "08-01", "login", member_id="mE", device_id="dE", content_category="武侠"),
                  _event("f1", "08-01", "register", member_id="mF", phone="13800000006", device_id="dF"),
                  _event("k1", "08-01", "register", member_id="mK", phone="13800000009", device_id="dK")],
        # C's page view of 08-02 arrives two days late.
        "08-04": [_event("c3", "08-02", "page_view", member_id="mC", device_id="dC")],
        "08-20": [_event("i1", "08-20", "register", member_id="mI1", phone="13800000011", device_id="dI1"),
                  _event("i2", "08-20", "register", member_id="mI2", phone="13800000012", device_id="dI2")],
        "08-22": [_event("d1", "08-22", "page_view", device_id="dD")],
        "09-05": [_event("e3", "09-05", "login", member_id="mE", device_id="dE", hour=21)],
    }
    for day, events in online.items():
        write(landing / "online" / f"dt=2026-{day}" / "events.jsonl", "".join(json.dumps(e) + "\n" for e in events))
    header = "order_id,order_time,updated_at,status,amount,refund_amount,member_id,category\n"
    sales = {
        "08-02": ["oA,2026-08-02 12:00:00,2026-08-02 12:00:00,paid,200,0,mA,护肤",
                  "oB,2026-08-02 12:00:00,2026-08-02 12:00:00,paid,100,0,mB,彩妆"],
        "08-03": ["oB,2026-08-02 12:00:00,2026-08-03 09:00:00,cancelled,100,0,mB,彩妆"],
        "08-04": ["oA,2026-08-02 12:00:00,2026-08-04 09:00:00,partially_refunded,200,50,mA,护肤"],
        "08-10": ["oF1,2026-08-10 20:00:00,2026-08-10 20:00:00,paid,300,0,mF,香氛"],
        "09-01": ["oF2,2026-09-01 20:00:00,2026-09-01 20:00:00,paid,300,0,mF,香氛"],
    }
    for day, rows in sales.items():
        write(landing / "sales" / f"dt=2026-{day}" / "orders.csv", header + "\n".join(rows) + "\n")
    social = [
        # I1 and I2 follow the official account and bind their phones; K invites them the day before.
        {"interaction_id": "s1", "interaction_time": "2026-08-19T10:00:00+08:00", "platform": "wechat_oa",
         "action": "invite", "wechat_openid": "oK", "phone": "13800000009", "invitee_openid": "oI1"},
        {"interaction_id": "s2", "interaction_time": "2026-08-19T10:05:00+08:00", "platform": "wechat_oa",
         "action": "invite", "wechat_openid": "oK", "invitee_openid": "oI2"},
        {"interaction_id": "s3", "interaction_time": "2026-08-19T11:00:00+08:00", "platform": "wechat_oa",
         "action": "follow", "wechat_openid": "oI1", "phone": "13800000011"},
        {"interaction_id": "s4", "interaction_time": "2026-08-19T11:00:00+08:00", "platform": "wechat_oa",
         "action": "follow", "wechat_openid": "oI2", "phone": "13800000012"},
    ]
    write(landing / "social" / "dt=2026-08-19" / "wechat.jsonl", "".join(json.dumps(e) + "\n" for e in social))
    env = {**cli_env(tmp, landing), "USEROPS_START_DATE": "2026-08-01"}
    result = run_cli(["run", "--from", "2026-08-01", "--to", LAST], env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return env


@pytest.fixture(scope="module")
def profile(profile_run):
    conn = duckdb.connect(profile_run["USEROPS_WAREHOUSE"], read_only=True)
    conn.execute("""create temp view member_person as
                    select identifier_value as member, person_id from marts.identity_map where identifier_type = 'member_id'
                    union all
                    select 'D', person_id from marts.identity_map where identifier_value = 'dD'""")
    yield conn
    conn.close()


def daily(conn, member, day, column):
    return conn.execute(f"""select d.{column} from marts.user_profile_daily d join member_person m using (person_id)
                            where m.member = ? and d.snapshot_date = ?""", [member, f"2026-{day}"]).fetchone()[0]


def current(conn, member, column):
    return conn.execute(f"""select p.{column} from marts.user_profile p join member_person m using (person_id)
                            where m.member = ?""", [member]).fetchone()[0]


def test_refunds_count_from_the_day_they_arrive(profile):
    assert daily(profile, "mA", "08-03", "net_revenue_365d") == 200
    assert daily(profile, "mA", "08-04", "net_revenue_365d") == 150
    assert current(profile, "mA", "net_revenue_total") == 150
    assert current(profile, "mA", "avg_order_value") == 150 and current(profile, "mA", "aov_band") == "100_to_300"


def test_a_cancelled_order_is_no_order(profile):
    assert daily(profile, "mB", "08-02", "orders_365d") == 1
    assert daily(profile, "mB", "08-03", "orders_365d") == 0
    assert current(profile, "mB", "orders_total") == 0 and current(profile, "mB", "rfm_segment") is None


def test_a_late_event_counts_from_its_arrival_and_on_its_own_day(profile):
    assert daily(profile, "mC", "08-03", "active_days_7d") == 1     # only the login of 08-01 had arrived
    assert daily(profile, "mC", "08-04", "active_days_7d") == 2     # the page view of 08-02 has now
    assert daily(profile, "mC", "08-04", "last_key_behaviour_on").isoformat() == "2026-08-02"


def test_lifecycle_stages(profile):
    assert daily(profile, "mA", "08-05", "lifecycle_stage") == "new"          # registered 4 days ago
    assert daily(profile, "mA", "08-08", "lifecycle_stage") == "active"       # ordered 6 days ago
    assert daily(profile, "mA", "09-05", "lifecycle_stage") == "silent"       # 34 days since the order
    assert daily(profile, "mE", "09-04", "lifecycle_stage") == "silent"
    assert daily(profile, "mE", "09-05", "lifecycle_stage") == "returning"    # back after 35 days
    assert daily(profile, "D", "09-05", "lifecycle_stage") == "anonymous"     # never registered


def test_rfm_against_the_buyers_averages(profile, profile_run):
    # Buyers on 09-05: A (1 order 34 days ago, 150) and F (2 orders, last 4 days ago, 600).
    assert current(profile, "mA", "rfm_segment") == "general_winback"
    person = current(profile, "mA", "person_id")
    with read_only_connection(Path(profile_run["USEROPS_SERVING"]) / "serving.duckdb") as bi:   # labelled for BI
        assert bi.execute("select rfm_segment_zh from marts.user_profile where person_id = ?",
                          [person]).fetchone()[0] == "一般挽留"
    assert current(profile, "mF", "rfm_segment") == "important_value"
    # Scores are 5 × the share of buyers at or below the value, rounded up: 5 × 1/2 → 3, 5 × 2/2 → 5.
    assert [current(profile, "mF", f"rfm_{s}_score") for s in ("recency", "frequency", "monetary")] == [5, 5, 5]
    assert [current(profile, "mA", f"rfm_{s}_score") for s in ("recency", "frequency", "monetary")] == [3, 3, 3]
    assert current(profile, "mF", "frequency_band") == "2_to_5" and current(profile, "mF", "aov_band") == "above_300"
    assert current(profile, "mF", "top_category") == "香氛"


def test_interaction_index_halves_every_half_life(profile):
    # D's one page view (weight 1) was 14 days (one half-life) before 09-05.
    assert daily(profile, "D", "09-05", "interaction_index") == pytest.approx(0.5)
    assert daily(profile, "D", "08-22", "interaction_index") == pytest.approx(1.0)


def test_koc_from_converted_invites(profile):
    assert current(profile, "mK", "converted_invites") == 2
    assert current(profile, "mK", "is_koc") is True
    assert current(profile, "mA", "is_koc") is False
    tags = dict(profile.execute("""select tag_group, tag_value from marts.user_tags t join member_person m using (person_id)
                                   where m.member = 'mK'""").fetchall())
    assert tags["value_role"] == "koc" and tags["lifecycle_stage"] == "silent"


def test_region_from_the_phone_and_masked_contacts(profile):
    assert current(profile, "mA", "province") == "北京" and current(profile, "mA", "phone_masked") == "138****0001"
    assert current(profile, "mE", "preferred_hour") == 10          # two events at 10:00, one at 21:00


def test_every_person_has_a_profile(profile):
    missing = profile.execute("""select count(*) from marts.persons p left join marts.user_profile u using (person_id)
                                 where u.person_id is null""").fetchone()[0]
    assert missing == 0


def cell(conn, member, day):
    return conn.execute("""select g.cell from marts.nine_grid_daily g join member_person m using (person_id)
                           where m.member = ? and g.snapshot_date = ?""", [member, f"2026-{day}"]).fetchone()[0]


def test_nine_grid_cells_at_the_threshold_boundaries(profile):
    # B on 08-02: value 100 (the mid level's inclusive lower bound), engagement 5·0.5^(1/14) + 20
    # = 24.8 (high): cell 3·1 + 2 + 1 = 6. Cancelled on 08-03: value 0 (low), engagement still
    # high: cell 3.
    assert daily(profile, "mB", "08-02", "value_level") == "mid"
    assert cell(profile, "mB", "08-02") == 6 and cell(profile, "mB", "08-03") == 3
    # A on 09-05: value 150 (mid), engagement 5·0.5^(35/14) + 20·0.5^(34/14) = 4.6 (low): cell 4.
    assert daily(profile, "mA", "09-05", "interaction_index") == pytest.approx(4.6, abs=0.01)
    assert cell(profile, "mA", "09-05") == 4
    assert cell(profile, "D", "09-05") == 1


def test_transitions_move_people_and_sum_to_the_population(profile):
    moved = profile.execute("""select users from marts.nine_grid_transitions
                               where to_date = '2026-08-03' and lag_days = 1 and from_cell = 6 and to_cell = 3""").fetchone()
    assert moved == (1,)                                                       # B
    totals = profile.execute("""
        select t.to_date, t.lag_days, sum(t.users),
               (select count(*) from marts.nine_grid_daily a join marts.nine_grid_daily b using (person_id)
                where a.snapshot_date = t.from_date and b.snapshot_date = t.to_date)
        from marts.nine_grid_transitions t group by t.to_date, t.from_date, t.lag_days""").fetchall()
    assert totals and all(total == population for _, _, total, population in totals)
    assert {lag for _, lag, _, _ in totals} == {1, 7, 30}
    shares = profile.execute("select snapshot_date, sum(share), count(*) from marts.nine_grid_summary group by 1").fetchall()
    assert all(abs(total - 1) < 1e-9 and cells == 9 for _, total, cells in shares)


def test_grid_command_prints_the_matrix_between_any_two_days(profile_run):
    result = run_cli(["grid", "--from", "2026-08-02", "--to", LAST], profile_run)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.split() and line.split()[0] == "6")
    assert int(row.split()[4]) >= 1                                            # A: cell 6 → cell 4
    suggested = run_cli(["suggest-thresholds"], profile_run)
    assert suggested.returncode == 0 and "value,low,,"  in suggested.stdout


def lapsed(conn, member, day):
    return conn.execute("""select l.lapse_stage, l.days_since_key_behaviour, l.has_purchased, l.top_category_before_lapse
                           from marts.lapsed_users l join member_person m using (person_id)
                           where m.member = ? and l.as_of_date = ?""", [member, f"2026-{day}"]).fetchone()


def test_lapse_stages_at_their_boundaries_with_core_behaviour_and_category(profile):
    assert lapsed(profile, "mE", "08-07") is None                               # 6 days quiet
    assert lapsed(profile, "mE", "08-08")[:2] == ("short", 7)
    assert lapsed(profile, "mE", "08-30")[:2] == ("short", 29)
    assert lapsed(profile, "mE", "08-31")[:2] == ("mid", 30)
    assert lapsed(profile, "mE", "09-04") == ("mid", 34, False, "武侠")
    assert lapsed(profile, "mE", "09-05") is None                               # came back
    assert lapsed(profile, "mA", "09-05")[2] is True                            # bought (net 150)
    assert lapsed(profile, "mB", "09-05")[2] is False                           # order cancelled
    assert lapsed(profile, "D", "09-05") is None                                # never registered
