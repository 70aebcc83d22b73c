"""Fail closed, through the real pipeline (issue 13): opt-outs in the forms exporters really write,
in files and folders the reader used to skip, as SMS STOP replies, as a re-used consent id — and a
day whose run failed — never let anyone who refused be texted.

Everyone registers on 09-01 and buys on 09-13, so on 09-20 they are first lapsed buyers (7 days
quiet) whose rule sends SMS. P00…P09 are plain; each of R01…R15 refuses SMS (or everything) one way or another.
"""

import json

import duckdb
import pytest

from tests.conftest import cli_env, run_cli, write

PLAIN = [f"P{i:02d}" for i in range(10)]
REFUSING = [f"R{i:02d}" for i in range(1, 16)]
PEOPLE = PLAIN + REFUSING
PHONES = {p: f"1390013{i:04d}" for i, p in enumerate(PEOPLE)}
CONSENT = "consent_id,event_time,channel,identifier_type,identifier_value,status,source\n"


def _landing(landing):
    online = {f"09-{d:02d}": [{"event_id": f"anon-{d}", "event_time": f"2026-09-{d:02d}T12:00:00+08:00",
                               "event_type": "page_view", "platform": "web", "device_id": "dAnon"}]
              for d in range(1, 21)}
    for person in PEOPLE:
        online["09-01"].append({"event_id": f"r-{person}", "event_time": "2026-09-01T10:00:00+08:00",
                                "event_type": "register", "platform": "ios", "member_id": f"m{person}",
                                "phone": PHONES[person], "device_id": f"d{person}"})
    for day, events in online.items():
        write(landing / "online" / f"dt=2026-{day}" / "events.jsonl", "".join(json.dumps(e) + "\n" for e in events))
    write(landing / "sales" / "dt=2026-09-13" / "orders.csv",
          "order_id,order_time,status,amount,member_id\n"
          + "".join(f"o-{p},2026-09-13 12:00:00,paid,150,m{p}\n" for p in PEOPLE))
    p = PHONES
    write(landing / "consent" / "dt=2026-09-06" / "optouts.csv", CONSENT + "".join(f"{r}\n" for r in [
        f"c1,2026-09-05 10:00:00,SMS,phone,{p['R01']},opt_out,",
        f"c2,2026-09-05 10:00:00, Sms ,phone,{p['R02']},opt_out,",
        f"c3,2026-09-05 10:00:00,sms,phone,{p['R03']},OPT_OUT,",
        f"c4,2026-09-05 10:00:00,sms,mobile,{p['R04']},opt_out,",
        f"c5,2026-09-05 10:00:00,sms,phone,0{p['R05']},opt_out,",
        f"c6,1788573600000000,sms,phone,{p['R06']},opt_out,",                 # epoch µs: 2026-09-05 10:00 +08
        f"c7,2026-09-05 10:00:00,短信,手机号,{p['R07']},退订,",
        f"c8,2026-09-05 10:00:00,fax,phone,{p['R08']},opt_out,",              # channel unreadable: all channels
        f"c9,2026-09-05 10:00:00,sms,phone,{p['R09']},maybe,",                # status unreadable: an opt-out
        f"c13,2026-09-04 10:00:00,sms,phone,{p['R13']},opt_in,preference_center"]))
    write(landing / "consent" / "dt=2026-09-06" / "optouts.json", json.dumps(
        [{"consent_id": "c10", "event_time": "2026-09-05 10:00:00", "channel": "sms", "identifier_type": "phone",
          "identifier_value": p["R10"], "status": "opt_out"}]))
    write(landing / "consent" / "dt=2026-9-7" / "optouts.csv",
          CONSENT + f"c11,2026-09-06 10:00:00,sms,phone,{p['R11']},opt_out,\n"
          f"c13,2026-09-06 10:00:00,sms,phone,{p['R13']},opt_out,preference_center\n")   # the same id, updated
    write(landing / "sms_replies" / "dt=2026-09-08" / "aliyun_mo.csv",
          f"phone_number,content,send_time,sign_name\n{p['R12']},TD,2026-09-08 09:00:00,userops\n"
          f"{p['P00']},好的,2026-09-08 09:00:00,userops\n")
    # 09-18: R15's opt-out, exported with a mistyped phone (corrected later under the same name).
    write(landing / "consent" / "dt=2026-09-18" / "optouts.csv",
          CONSENT + "c15,2026-09-18 10:00:00,sms,phone,13900139999,opt_out,\n")
    # 09-19: R14 opts out, but the day's second online file lacks a required column: the day fails.
    write(landing / "consent" / "dt=2026-09-19" / "optouts.csv",
          CONSENT + f"c14,2026-09-19 10:00:00,sms,phone,{p['R14']},opt_out,\n")
    write(landing / "online" / "dt=2026-09-19" / "broken.jsonl",
          json.dumps({"event_id": "x", "event_time": "2026-09-19T10:00:00+08:00"}) + "\n")


def _sms_text(outbox, since: str = "0000"):
    """Every SMS file of the days from `since` on (a range run writes each day of the range)."""
    return "".join(f.read_text() for f in sorted(outbox.glob("dt=*/sms/**/*"))
                   if f.is_file() and f.relative_to(outbox).parts[0] >= f"dt={since}")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fail_closed")
    landing = tmp / "landing"
    _landing(landing)
    env = {**cli_env(tmp, landing), "USEROPS_START_DATE": "2026-09-01"}
    history = run_cli(["run", "--from", "2026-09-01", "--to", "2026-09-18"], env)
    assert history.returncode == 0, history.stdout[-4000:] + history.stderr[-4000:]
    failed_day = run_cli(["run", "--date", "2026-09-19"], env)
    next_day = run_cli(["run", "--date", "2026-09-20"], env)           # 09-19 never completed
    next_day_outbox = (tmp / "outbox" / "dt=2026-09-20").exists()
    (landing / "online" / "dt=2026-09-19" / "broken.jsonl").unlink()   # the operator fixes the delivery
    write(landing / "consent" / "dt=2026-09-18" / "optouts.csv",       # and the vendor re-delivers 09-18, corrected
          CONSENT + f"c15,2026-09-18 10:00:00,sms,phone,{PHONES['R15']},opt_out,\n")
    fixed = run_cli(["run", "--date", "2026-09-20"], env)
    assert fixed.returncode == 0, fixed.stdout[-4000:] + fixed.stderr[-4000:]
    conn = duckdb.connect(env["USEROPS_WAREHOUSE"], read_only=True)
    yield {"failed_day": failed_day, "next_day": next_day, "next_day_outbox": next_day_outbox, "fixed": fixed,
           "conn": conn, "outbox": tmp / "outbox", "landing": landing}
    conn.close()


def test_a_day_whose_run_failed_is_not_skipped(runs):
    assert runs["failed_day"].returncode == 1 and "broken.jsonl" in runs["failed_day"].stderr
    # The next day's run starts at the failed day, fails on the same file, and writes nothing.
    assert runs["next_day"].returncode == 1
    assert "landed but never completed: 2026-09-19; running 2026-09-19 … 2026-09-20" in runs["next_day"].stdout
    assert "broken.jsonl" in runs["next_day"].stderr and not runs["next_day_outbox"]
    assert "2026-09-18 changed after its run: consent/dt=2026-09-18/optouts.csv" in runs["fixed"].stdout
    assert "running 2026-09-18 … 2026-09-20" in runs["fixed"].stdout
    done = {str(d) for (d,) in runs["conn"].execute("select day from pipeline.completed_days").fetchall()}
    assert {"2026-09-19", "2026-09-20"} <= done


def test_nobody_who_refused_is_texted(runs):
    assert sum(PHONES[p] in _sms_text(runs["outbox"]) for p in PLAIN) >= 5     # the plain persons are texted
    # From the day the last refusal arrived (09-19, a failed day, caught up) nobody who refused is.
    text = _sms_text(runs["outbox"], since="2026-09-19")
    assert [p for p in REFUSING if PHONES[p] in text] == []
    ids = dict(runs["conn"].execute("select identifier_value, person_id from marts.identity_map "
                                    "where identifier_type = 'member_id'").fetchall())
    sms = {pid for (pid,) in runs["conn"].execute(
        "select person_id from marts.recall_audience where campaign_date >= '2026-09-19' and channel = 'sms'").fetchall()}
    assert [p for p in REFUSING if ids[f"m{p}"] in sms] == []
    problems = dict(runs["conn"].execute("select identifier_value, read_problem from staging.stg_consent__events "
                                         "where read_problem is not null").fetchall())
    assert problems == {"+86" + PHONES["R08"]: "unknown_channel", "+86" + PHONES["R09"]: "unknown_status"}


def test_a_corrected_file_replaces_the_earlier_version(runs):
    phones = {p for (p,) in runs["conn"].execute("select identifier_value from staging.stg_consent__events "
                                                 "where consent_id = 'c15'").fetchall()}
    assert phones == {"+86" + PHONES["R15"]}                           # the mistyped phone is gone
    note = runs["conn"].execute("select note from raw.ingested_files "
                                "where file = 'consent/dt=2026-09-18/optouts.csv'").fetchone()[0]
    assert note.startswith("re-delivered: replaces the version ")


def test_every_landing_file_is_in_the_ledger_with_rows_accounted(runs):
    files = {f.relative_to(runs["landing"]).as_posix() for f in runs["landing"].rglob("*")
             if f.is_file() and f.name != ".userops-sample"}
    ledger = dict(runs["conn"].execute("select file, status from raw.ingested_files").fetchall())
    assert files <= set(ledger) and "consent/dt=2026-9-7/optouts.csv" in files
    unbalanced = runs["conn"].execute("select file from raw.ingested_files where status = 'loaded' "
                                      "and rows_read <> rows_loaded + rows_quarantined").fetchall()
    assert unbalanced == []
