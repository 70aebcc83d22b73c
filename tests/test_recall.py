"""Recall on hand-built persons through the real pipeline: eligibility rule by rule, consent edge
cases, suppression, the control group, files and manifest, caps over several days, consent
withdrawn between the audience and the files, a crash mid-write, outcomes with a planted lift.
(A byte-identical re-run of a day's outbox is tested in test_pipeline.)

Everyone registers on 09-01 with a phone and buys the same day (no welcome campaign), lapses
from 09-08 (lapse `short`: rule lapsed_buyer_short, channels sms | push | wechat; the range run
plans every day, so they are contacted on 09-08), buys again on 09-13 and so lapses again on
09-20: the 09-20 campaign, their second contact in 30 days. A00…A29 are plain. U2 adds a second phone on 09-03 and opts out of SMS on it: SMS stops for the person, push
(their member id as alias) takes over. U3 opts out of `all`, U4 of `personalised`. U5 opts out
of SMS and re-subscribes later. U6's phone is on the suppression list. N1…N3 buy again on 09-14,
so they lapse only on 09-21; the contact log already holds two contacts of N1 in the last 30
days, one of N2 five days before, one of N3 42 days before.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.lib.outbox import read_manifest, verify
from orchestration.lib.run_days import window_tags
from tests.conftest import REPO_ROOT, cli_env, run_cli, write

PEOPLE = [f"A{i:02d}" for i in range(30)] + ["U2", "U3", "U4", "U5", "U6", "N1", "N2", "N3"]
PHONES = {p: f"1380013{i:04d}" for i, p in enumerate(PEOPLE)} | {"U6": "13900000000"}
U2_SECOND_PHONE = "13700137000"


def _landing(landing):
    online = {"09-01": [], "09-03": []}
    for person in PEOPLE:
        online["09-01"].append({"event_id": f"r-{person}", "event_time": "2026-09-01T10:00:00+08:00",
                                "event_type": "register", "platform": "ios", "member_id": f"m{person}",
                                "phone": PHONES[person], "device_id": f"d{person}"})
    # An anonymous visitor every day keeps the loaded days contiguous (snapshots follow arrivals).
    for day in range(1, 22):
        online.setdefault(f"09-{day:02d}", []).append({
            "event_id": f"anon-{day}", "event_time": f"2026-09-{day:02d}T12:00:00+08:00", "event_type": "page_view",
            "platform": "web", "device_id": "dAnon"})
    online["09-03"].append({"event_id": "u2-login", "event_time": "2026-09-03T10:00:00+08:00", "event_type": "login",
                            "platform": "ios", "member_id": "mU2", "phone": U2_SECOND_PHONE, "device_id": "dU2"})
    for day, events in online.items():
        write(landing / "online" / f"dt=2026-{day}" / "events.jsonl", "".join(json.dumps(e) + "\n" for e in events))
    header = "order_id,order_time,updated_at,status,amount,refund_amount,member_id,category\n"
    # Everyone buys on the day they register (so no welcome campaign), lapses from 09-08 (contacted
    # then: the range plans every day), buys again and lapses again on 09-20 (the N persons a day later).
    orders = {"09-01": [f"o-{p},2026-09-01 12:00:00,2026-09-01 12:00:00,paid,150,0,m{p},护肤" for p in PEOPLE],
              "09-13": [f"o3-{p},2026-09-13 12:00:00,2026-09-13 12:00:00,paid,150,0,m{p},护肤"
                        for p in PEOPLE if not p.startswith("N")],
              "09-14": [f"o2-{p},2026-09-14 12:00:00,2026-09-14 12:00:00,paid,150,0,m{p},护肤" for p in ("N1", "N2", "N3")]}
    for day, rows in orders.items():
        write(landing / "sales" / f"dt=2026-{day}" / "orders.csv", header + "\n".join(rows) + "\n")
    consent = ["consent_id,event_time,channel,identifier_type,identifier_value,status,source",
               f"c1,2026-09-05 10:00:00,sms,phone,{U2_SECOND_PHONE},opt_out,unsubscribe_reply",
               f"c2,2026-09-05 10:00:00,all,phone,{PHONES['U3']},opt_out,complaint",
               "c3,2026-09-05 10:00:00,personalised,member_id,mU4,opt_out,preference_center",
               f"c4,2026-09-03 10:00:00,sms,phone,{PHONES['U5']},opt_out,unsubscribe_reply",
               f"c5,2026-09-06 10:00:00,sms,phone,{PHONES['U5']},opt_in,preference_center"]
    write(landing / "consent" / "dt=2026-09-06" / "optouts.csv", "\n".join(consent) + "\n")


@pytest.fixture(scope="module")
def recall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("recall")
    _landing(tmp / "landing")
    env = {**cli_env(tmp, tmp / "landing"), "USEROPS_START_DATE": "2026-09-01"}
    first = run_cli(["run", "--from", "2026-09-01", "--to", "2026-09-20"], env)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    # Keep a copy of the warehouse as it was on 09-20 for the in-process tests.
    shutil.copy(env["USEROPS_WAREHOUSE"], tmp / "warehouse-0920.duckdb")
    # Earlier contacts of N1, N2, N3, then the next day.
    with duckdb.connect(env["USEROPS_WAREHOUSE"]) as conn:
        ids = dict(conn.execute("select identifier_value, person_id from marts.identity_map "
                                "where identifier_type = 'member_id'").fetchall())
        for person, day in (("N1", "2026-08-25"), ("N1", "2026-09-05"), ("N2", "2026-09-16"), ("N3", "2026-08-10")):
            conn.execute("insert into recall.contact_log values (?, ?, ?, 'lapsed_buyer_short', 'sms', 'treatment', ?, "
                         "'sms/old.csv', 'old-run', 0.03)", [day, f"lapsed_buyer_short-{day.replace('-', '')}", ids[f"m{person}"], day])
    planted = _plant_returns(tmp / "landing", env, ids)
    nxt = run_cli(["run", "--date", "2026-09-21"], env)
    assert nxt.returncode == 0, nxt.stdout[-4000:] + nxt.stderr[-4000:]
    conn = duckdb.connect(env["USEROPS_WAREHOUSE"], read_only=True)
    yield {"conn": conn, "env": env, "tmp": tmp, "ids": ids, "outbox": tmp / "outbox", "planted": planted}
    conn.close()


def _plant_returns(landing, env, ids) -> dict:
    """On 09-21, half of 09-20's treated A persons log in (one also buys for 88), one more only
    opens the campaign's landing page, and one control person logs in."""
    with duckdb.connect(env["USEROPS_WAREHOUSE"], read_only=True) as conn:
        groups = dict(conn.execute("""select person_id, test_group from marts.recall_audience
                                      where campaign_id = 'lapsed_buyer_short-20260920' and channel = 'sms'""").fetchall())
    member = {pid: m for m, pid in ids.items()}
    treated = sorted(member[p] for p, g in groups.items() if g == "treatment" and member[p].startswith("mA"))
    control = sorted(member[p] for p, g in groups.items() if g == "control")
    back, visitor = treated[: len(treated) // 2], treated[len(treated) // 2]
    events = [{"event_id": f"back-{m}", "event_time": "2026-09-21T10:00:00+08:00", "event_type": "login",
               "platform": "ios", "member_id": m} for m in back + control[:1]]
    events.append({"event_id": f"visit-{visitor}", "event_time": "2026-09-21T11:00:00+08:00", "event_type": "landing_visit",
                   "platform": "h5", "member_id": visitor, "campaign_id": "lapsed_buyer_short-20260920"})
    write(landing / "online" / "dt=2026-09-21" / "returns.jsonl", "".join(json.dumps(e) + "\n" for e in events))
    write(landing / "sales" / "dt=2026-09-21" / "orders.csv",
          "order_id,order_time,updated_at,status,amount,refund_amount,member_id,category\n"
          f"o-back,2026-09-21 12:00:00,2026-09-21 12:00:00,paid,88,0,{back[0]},护肤\n")
    return {"treatment_users": sum(g == "treatment" for g in groups.values()), "treatment_returned": len(back) + 1,
            "control_users": len(control), "control_returned": min(1, len(control)),
            "quiet_treated": treated[len(treated) // 2 + 1]}


def outcome(recall, person):
    """The person's eligibility on 09-21 (the latest day): their channel, or why they were left out."""
    row = recall["conn"].execute("""select coalesce(exclusion, channel) from intermediate.int_recall_eligibility
                                    where person_id = ? and campaign_date = '2026-09-21'""",
                                 [recall["ids"][f"m{person}"]]).fetchone()
    return row[0] if row else None


def audience(recall, day):
    return {pid: (channel, group) for pid, channel, group in recall["conn"].execute(
        "select person_id, channel, test_group from marts.recall_audience where campaign_date = ?", [day]).fetchall()}


def files_text(folder) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")


def test_eligibility_and_consent_edge_cases(recall):
    # recall_audience keeps every campaign day (int_recall_eligibility holds the latest only).
    day0920 = audience(recall, "2026-09-20")
    ids = recall["ids"]
    assert day0920[ids["mU2"]][0] == "push"                    # SMS opted out on the second phone
    assert day0920[ids["mU5"]][0] == "sms"                     # re-subscribed: the latest event wins
    for person in ("U3", "U4", "U6"):                          # all, personalised, suppressed
        assert ids[f"m{person}"] not in day0920
    assert all(day0920[ids[f"mA{i:02d}"]][0] == "sms" for i in range(30))
    assert ids["mN1"] not in day0920                           # not lapsed yet on 09-20


def test_the_control_group_is_the_stable_hash_and_never_in_a_file(recall):
    rows = recall["conn"].execute("select person_id, campaign_date, test_group from marts.recall_audience").fetchall()
    for person_id, _, group in rows:
        digest = hashlib.md5(f"control:userops-control-v1:{person_id}".encode()).hexdigest()
        assert group == ("control" if int(digest[:4], 16) * 100 < 10 * 65536 else "treatment"), person_id
    control = {pid for pid, _, group in rows if group == "control"}
    assert control, "the sample should draw at least one control person"
    phones = {pid: phone for phone, pid in recall["conn"].execute(
        "select identifier_value, person_id from marts.identity_map where identifier_type = 'phone'").fetchall()}
    text = files_text(recall["outbox"] / "dt=2026-09-20")
    assert all(phones[pid][3:] not in text for pid in control)
    treated = {pid for pid, day, group in rows if group == "treatment" and str(day) == "2026-09-20"}
    sms_people = [pid for pid in treated if audience(recall, "2026-09-20")[pid][0] == "sms"]
    assert sms_people and all(phones[pid][3:] in text for pid in sms_people)
    for person in ("U3", "U4", "U6"):
        assert PHONES[person] not in text
    assert U2_SECOND_PHONE not in text and PHONES["U2"] not in text and "mU2" in text


def test_manifest_matches_the_files(recall):
    folder = recall["outbox"] / "dt=2026-09-20"
    assert verify(folder) == []
    manifest = read_manifest(folder)
    sms_csv = [f for f in manifest["files"] if f["path"].endswith(".csv")]
    assert sms_csv and all(f["rows"] == len((folder / f["path"]).read_text().splitlines()) - 1 for f in sms_csv)
    assert manifest["contacts"] + manifest["control_holdouts"] == len(audience(recall, "2026-09-20"))


def test_caps_over_several_days(recall):
    assert outcome(recall, "N1") == "frequency_cap"   # 2 contacts in the last 30 days
    assert outcome(recall, "N2") == "frequency_cap"   # contacted 5 days ago (< 7)
    assert outcome(recall, "N3") == "sms"             # last contact 42 days ago
    quiet = recall["planted"]["quiet_treated"][1:]                   # treated yesterday, still lapsed today
    assert outcome(recall, quiet) == "frequency_cap"
    assert set(audience(recall, "2026-09-21")) == {recall["ids"]["mN3"]}
    assert (recall["outbox"] / "dt=2026-09-20").exists() and (recall["outbox"] / "dt=2026-09-21").exists()


def test_region_rules_and_missing_identifiers_in_the_rules_order(recall, tmp_path):
    """What-if on a copy of 09-20's warehouse, re-running only the eligibility model: the short
    lapse rule reaches its persons by call only, calls cannot reach their province, A00 and A01 have
    lost their phone, and a lower-priority rule offers ads | call | sms to the same persons (ads
    need an opt-in, which only A07 gave)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(recall["tmp"] / "warehouse-0920.duckdb", warehouse)
    ids = recall["ids"]
    with duckdb.connect(str(warehouse)) as conn:
        province = conn.execute("select province from marts.user_profile where person_id = ?", [ids["mA05"]]).fetchone()[0]
        assert province                                      # a Chinese mobile number carries its province
        conn.execute("update main.recall_rules set channels = 'call' where rule_id = 'lapsed_buyer_short'")
        conn.execute("""insert into main.recall_rules (rule_id, priority, description, lapse_stages, has_purchased,
                        channels, offer, template_id, min_days_between_contacts, allow_empty)
                        select 'fallback', 15, 'test', 'short', true, 'ads|call|sms', offer, template_id, 7, true
                        from main.recall_rules where rule_id = 'lapsed_buyer_short'""")
        conn.execute("insert into main.channel_region_blocks values ('call', ?, 'test')", [province])
        conn.execute("""delete from marts.identity_map where identifier_type = 'phone'
                        and person_id in (?, ?)""", [ids["mA00"], ids["mA01"]])
        conn.execute("""insert into staging.stg_consent__events (consent_id, event_time, channel, identifier_type,
                        identifier_value, status, consent_source, arrived_on)
                        values ('ads-in', timestamp '2026-09-10 10:00:00', 'ads', 'phone', ?, 'opt_in',
                                'preference_center', date '2026-09-10')""", ["+86" + PHONES["A07"]])
    env = {**os.environ, "USEROPS_WAREHOUSE": str(warehouse)}
    dbt = Path(sys.executable).parent / "dbt"
    day = ["--event-time-start", "2026-09-20", "--event-time-end", "2026-09-21"]     # re-plan 09-20 only
    result = subprocess.run([str(dbt), "run", "--select", "int_recall_eligibility", *day, "--target-path", str(tmp_path / "target"),
                             "--log-path", str(tmp_path / "logs")], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = {(pid, rule): (exclusion, channel) for pid, rule, exclusion, channel in conn.execute(
            "select person_id, rule_id, exclusion, channel from intermediate.int_recall_eligibility "
            "where campaign_date = '2026-09-20'").fetchall()}
    # Calls cannot reach the province: the short rule has no channel left; the fallback rule skips
    # ads (no opt-in) and calls (region) and takes SMS — or ads for A07, who opted in to them.
    assert rows[(ids["mA05"], "lapsed_buyer_short")] == ("region", None)
    assert rows[(ids["mA05"], "fallback")] == (None, "sms")
    assert rows[(ids["mA07"], "fallback")] == (None, "ads")
    # No phone: unreachable by either rule, and that reason comes first.
    for person in ("mA00", "mA01"):
        assert rows[(ids[person], "lapsed_buyer_short")] == ("no_usable_identifier", None)
        assert rows[(ids[person], "fallback")] == ("no_usable_identifier", None)
    # Earlier reasons win over the region: `all` opt-out, suppression.
    assert rows[(ids["mU3"], "lapsed_buyer_short")][0] == "no_consent"
    assert rows[(ids["mU6"], "lapsed_buyer_short")][0] == "suppressed"


def _materialize_outbox(recall, tmp_path, monkeypatch):
    from orchestration.defs.recall import recall_outbox
    from orchestration.defs.resources import build_resources
    from orchestration.settings import Settings

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(recall["tmp"] / "warehouse-0920.duckdb", warehouse)
    for name, value in {**recall["env"], "USEROPS_WAREHOUSE": str(warehouse),
                        "USEROPS_OUTBOX": str(tmp_path / "outbox")}.items():
        monkeypatch.setenv(name, value)
    resources = build_resources(Settings.from_env())
    return warehouse, lambda: dg.materialize([recall_outbox], resources=resources, tags=window_tags(date(2026, 9, 20), date(2026, 9, 20)),
                                             raise_on_error=False)


def test_consent_withdrawn_after_the_audience_was_built_keeps_the_person_out(recall, tmp_path, monkeypatch):
    warehouse, materialize = _materialize_outbox(recall, tmp_path, monkeypatch)
    treated = audience(recall, "2026-09-20")
    person = next(p for p in PEOPLE if p.startswith("A") and treated.get(recall["ids"][f"m{p}"]) == ("sms", "treatment"))
    with duckdb.connect(str(warehouse)) as conn:      # an unsubscribe reply after the audience was built
        conn.execute("""insert into staging.stg_consent__events (consent_id, event_time, channel, identifier_type,
                        identifier_value, status, consent_source, arrived_on)
                        values ('late', timestamp '2026-09-20 22:00:00', 'sms', 'phone', ?, 'opt_out', 'unsubscribe_reply',
                                date '2026-09-20')""", ["+86" + PHONES[person]])
    assert materialize().success
    folder = tmp_path / "outbox" / "dt=2026-09-20"
    text = files_text(folder)
    assert PHONES[person] not in text and sum(PHONES[f"A{i:02d}"] in text for i in range(30)) > 10
    assert read_manifest(folder)["dropped_at_recheck"] == {"opted_out_since_the_audience_was_built": 1}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        logged = conn.execute("select count(*) from recall.contact_log where person_id = ? and campaign_date = ?",
                              [recall["ids"][f"m{person}"], "2026-09-20"]).fetchone()[0]
    assert logged == 0


def test_a_bad_template_or_a_crash_mid_write_leaves_no_folder(recall, tmp_path, monkeypatch):
    warehouse, materialize = _materialize_outbox(recall, tmp_path, monkeypatch)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("update main.recall_templates set body = '【品牌】送您${offer}，点击${link}领取' "
                     "where template_id = 'winback_buyer' and channel = 'sms'")
    result = materialize()
    assert not result.success
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").iterdir())
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("update main.recall_templates set body = '好久不见，送您${offer} https://s.example.cn/${code} 拒收请回复R' "
                     "where template_id = 'winback_buyer' and channel = 'sms'")

    from orchestration.lib.channels import sms

    real_write = sms.write

    def crash(outbox, *args, **kwargs):
        real_write(outbox, *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(sms, "write", crash)
    assert not materialize().success
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").iterdir())


def test_outcomes_measure_the_planted_lift(recall):
    planted = recall["planted"]
    rows = {group: row for group, *row in recall["conn"].execute("""
        select test_group, users, returned_users, return_rate, orders, revenue, cost, lift_over_control,
               cost_per_recalled_user, days_observed, is_final
        from marts.recall_outcomes where campaign_id = 'lapsed_buyer_short-20260920' and channel = 'sms'""").fetchall()}
    # Seen: outcomes had no channel, so "SMS recall vs control" mixed SMS and push (U2 is reached by push).
    channels = dict(recall["conn"].execute("""select channel, sum(users) from marts.recall_outcomes
                                              where campaign_id = 'lapsed_buyer_short-20260920' group by channel""").fetchall())
    assert set(channels) == {"sms", "push"} and channels["push"] >= 1
    users, returned, rate, orders, revenue, cost, lift, per_user, observed, final = rows["treatment"]
    assert (users, returned) == (planted["treatment_users"], planted["treatment_returned"])
    assert float(rate) == pytest.approx(returned / users, abs=1e-4) and (orders, float(revenue)) == (1, 88.0)
    control_rate = planted["control_returned"] / planted["control_users"]
    assert rows["control"][:2] == [planted["control_users"], planted["control_returned"]]
    assert float(lift) == pytest.approx(returned / users - control_rate, abs=1e-4)
    # The cost as billed: what the day's manifest says the files cost (SMS by segment; the only
    # campaign of 09-20), which the contact log carries per contact.
    sms_cost = read_manifest(recall["outbox"] / "dt=2026-09-20")["channels"]["sms"]["cost"]
    segments = read_manifest(recall["outbox"] / "dt=2026-09-20")["channels"]["sms"]["segments"]
    assert sms_cost == pytest.approx(segments * 0.03) and float(cost) == pytest.approx(sms_cost, abs=0.01)
    assert float(per_user) == pytest.approx(sms_cost / ((returned / users - control_rate) * users), abs=0.01)
    assert (observed, final) == (1, False)
