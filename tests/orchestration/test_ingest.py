"""Ingestion with known answers: every quarantine reason, rows read = loaded + quarantined,
files that break the contract fail alone, re-delivered files are skipped."""

import json
from datetime import date

import pandas as pd
import pytest

from orchestration.lib.contract import SOURCES
from orchestration.lib.ingest import ingest, plan_batches
from orchestration.lib.landing import read_file
from tests.conftest import write

DAY = date(2026, 8, 1)
TZ = "Asia/Shanghai"


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _online(landing, rows, name="part-0001.jsonl", day=DAY):
    return write(landing / "online" / f"dt={day}" / name, _jsonl(rows))


def test_online_quarantine_reasons_and_accounting(landing):
    ok = {"event_id": "e1", "event_time": "2026-08-01T10:00:00+08:00", "event_type": "login",
          "phone": "+86 138 0013 8000", "email": " Foo@QQ.com ", "member_id": "000042", "utm": "x"}
    rows = [
        ok,
        {**ok, "event_id": "e2", "phone": "1.38001E+10"},                         # phone_sci_notation
        {**ok, "event_id": "e3", "phone": "13800138000/13900139000"},             # phone_multiple
        {**ok, "event_id": "e4", "email": "a@x.com;b@y.com"},                     # email_multiple
        {**ok, "event_id": "e5", "email": "foo@"},                                # email_invalid
        {**ok, "event_id": "e6", "event_time": "yesterday"},                      # bad_timestamp
        {**ok, "event_id": "e7", "event_time": "2026-08-03T00:00:00+08:00"},      # future_event_time (> end of dt + 1 day)
        {**ok, "event_id": "e8", "event_time": "2026-08-02T23:59:59+08:00"},      # within tolerance: loaded
        {**ok, "event_id": "", "event_time": "2026-08-01T10:00:00+08:00"},        # missing_event_id
        {**ok, "event_id": "e10", "event_type": None},                            # missing_event_type
        {**ok, "event_id": "e11", "phone": "138****8000"},                        # masked: loaded, phone dropped
        {**ok, "event_id": "e12", "event_time": "2026-07-20T08:00:00+08:00"},     # late event: normal
    ]
    path = _online(landing, rows)
    with path.open("a") as f:
        f.write('{"event_id": "e13", "event_ti\n')                                # malformed_json
    result = ingest(SOURCES["online"], landing, [DAY], TZ, "run-1")

    assert result.rows_read == 13 == len(result.loaded) + len(result.quarantined)
    reasons = dict(zip(result.quarantined["_row_number"], result.quarantined["_reason"]))
    assert reasons == {2: "phone_sci_notation", 3: "phone_multiple", 4: "email_multiple", 5: "email_invalid",
                       6: "bad_timestamp", 7: "future_event_time", 9: "missing_event_id",
                       10: "missing_event_type", 13: "malformed_json"}
    assert set(result.loaded["event_id"]) == {"e1", "e8", "e11", "e12"}
    first = result.loaded.set_index("event_id").loc["e1"]
    assert first["phone"] == "+8613800138000" and first["phone_kind"] == "mobile"
    assert first["email"] == "foo@qq.com" and first["member_id"] == "000042"
    assert first["event_time"] == pd.Timestamp("2026-08-01 10:00:00")
    assert json.loads(first["_extra"]) == {"utm": "x"}                           # unknown columns kept
    masked = result.loaded.set_index("event_id").loc["e11"]
    assert masked["phone"] is None and masked["phone_kind"] == "masked"
    # Quarantined rows keep what was delivered, with file and row number.
    sci = result.quarantined.set_index("_row_number").loc[2]
    assert sci["phone"] == "1.38001E+10" and sci["_source_file"] == "online/dt=2026-08-01/part-0001.jsonl"
    assert sci["_detail"] == "phone"
    assert result.files["rows_read"].sum() == 13
    assert result.files.loc[0, "rows_loaded"] == 4 and result.files.loc[0, "rows_quarantined"] == 9


def test_sales_rules(landing):
    header = "order_id,order_time,updated_at,status,amount,refund_amount,phone\n"
    body = ("o1,2026-08-01 10:00:00,,paid,¥1,,\n"                      # thousands-separator-free amount
            'o2,2026-08-01 10:00:00,,paid,"¥1,299.00",0,\n'
            "o3,2026-08-01 10:00:00,,paid,-5,0,\n"                       # negative_amount
            "o4,2026-08-01 10:00:00,,refunded,10,20,\n"                  # refund_exceeds_amount
            "o5,2026-08-01 10:00:00,,shipped,10,0,\n"                    # unknown_status
            "o6,2026-08-01 10:00:00,2026-07-01 10:00:00,paid,10,0,\n"    # updated_before_order
            "o7,2026-08-01 10:00:00,,paid,ten,0,\n"                      # bad_number
            "o8,2026-08-01 10:00:00,,paid,,0,\n")                        # missing_amount
    write(landing / "sales" / f"dt={DAY}" / "orders.csv", header + body)
    result = ingest(SOURCES["sales"], landing, [DAY], TZ, "run-1")
    reasons = dict(zip(result.quarantined["order_id"], result.quarantined["_reason"]))
    assert reasons == {"o3": "negative_amount", "o4": "refund_exceeds_amount", "o5": "unknown_status",
                       "o6": "updated_before_order", "o7": "bad_number", "o8": "missing_amount"}
    loaded = result.loaded.set_index("order_id")
    assert loaded.loc["o2", "amount"] == 1299.0
    assert loaded.loc["o1", "updated_at"] == loaded.loc["o1", "order_time"]      # updated_at defaults to order_time
    assert loaded.loc["o1", "refund_amount"] == 0                                # no refund given: 0


def test_consent_identifiers_are_normalised_by_type(landing):
    write(landing / "consent" / f"dt={DAY}" / "optouts.csv",
          "consent_id,event_time,channel,identifier_type,identifier_value,status,source\n"
          "c1,2026-08-01 10:00:00,sms,phone,+86 138-0013-8000,opt_out,unsubscribe_reply\n"
          "c2,2026-08-01 10:00:00,email,email, Foo@QQ.com,opt_in,registration\n"
          "c3,2026-08-01 10:00:00,push,device_id, 0042 ,opt_out,\n"
          "c4,2026-08-01 10:00:00,sms,phone,1.38E+10,opt_out,\n", "utf-8-sig")
    result = ingest(SOURCES["consent"], landing, [DAY], TZ, "run-1")
    assert dict(zip(result.loaded["consent_id"], result.loaded["identifier_value"])) == {
        "c1": "+8613800138000", "c2": "foo@qq.com", "c3": "0042"}
    assert dict(zip(result.quarantined["consent_id"], result.quarantined["_reason"])) == {"c4": "phone_sci_notation"}
    assert result.unattributed_opt_outs == 1          # an opt-out naming no readable identifier: stops the run


CONSENT_HEADER = "consent_id,event_time,channel,identifier_type,identifier_value,status,source\n"


def test_consent_in_the_forms_exporters_write_is_read_as_opt_outs(landing):
    """What was seen: these went to quarantine and the person was texted."""
    rows = ["u1,2026-08-01 10:00:00,SMS,phone,13800138001,opt_out,",
            "u2,2026-08-01 10:00:00, Sms ,phone,13800138002,opt_out,",
            "u3,2026-08-01 10:00:00,sms,phone,13800138003,OPT_OUT,",
            "u4,2026-08-01 10:00:00,sms,mobile,13800138004,opt_out,",
            "u5,2026-08-01 10:00:00,sms,phone,013800138005,opt_out,",           # 0 + mobile
            "u6,1785549600000000,sms,phone,13800138006,opt_out,",               # epoch microseconds
            "u7,2026-08-01 10:00:00,短信,手机号,13800138007,退订,",
            "u8,2026-08-01 10:00:00,sms,phone,13800138008,Opt-Out,",
            "u9,2026-08-01 10:00:00,ｓｍｓ,Phone,13800138009,unsubscribe,"]
    write(landing / "consent" / f"dt={DAY}" / "optouts.csv", CONSENT_HEADER + "\n".join(rows) + "\n")
    result = ingest(SOURCES["consent"], landing, [DAY], TZ, "run-1")
    assert len(result.quarantined) == 0
    loaded = result.loaded.set_index("consent_id")
    assert set(loaded["channel"]) == {"sms"} and set(loaded["status"]) == {"opt_out"}
    assert set(loaded["identifier_type"]) == {"phone"} and loaded["_read_problem"].isna().all()
    assert loaded.loc["u5", "identifier_value"] == "+8613800138005"
    assert loaded.loc["u6", "event_time"] == pd.Timestamp("2026-08-01 10:00:00")


def test_unreadable_consent_that_names_someone_blocks_them(landing):
    rows = ["b1,2026-08-01 10:00:00,fax,phone,13800138001,opt_out,",       # channel unreadable: every channel
            "b2,2026-08-01 10:00:00,sms,phone,13800138002,maybe,",         # status unreadable: an opt-out
            "b3,yesterday,push,device_id,dev-3,opt_in,",                   # time unreadable: end of its arrival day
            ",2026-08-01 10:00:00,sms,phone,13800138004,opt_out,",         # no consent id
            "b5,2026-08-01 10:00:00,sms,customer,b5@example.com,opt_out,",  # unknown type, but an email
            "b6,2026-08-01 10:00:00,sms,customer,X-1,opt_out,",            # names nobody we can read
            "b7,2026-08-01 10:00:00,sms,customer,X-2,opt_in,"]             # an opt-in naming nobody: no alarm
    write(landing / "consent" / f"dt={DAY}" / "optouts.csv", CONSENT_HEADER + "\n".join(rows) + "\n")
    result = ingest(SOURCES["consent"], landing, [DAY], TZ, "run-1")
    assert result.rows_read == 7 == len(result.loaded) + len(result.quarantined)
    loaded = result.loaded.set_index("identifier_value")
    assert set(loaded["status"]) == {"opt_out"}
    assert loaded.loc["+8613800138001", ["channel", "_read_problem"]].tolist() == ["all", "unknown_channel"]
    assert loaded.loc["+8613800138002", ["channel", "_read_problem"]].tolist() == ["sms", "unknown_status"]
    assert loaded.loc["dev-3", ["channel", "event_time"]].tolist() == ["push", pd.Timestamp("2026-08-01 23:59:59")]
    assert loaded.loc["+8613800138004", "consent_id"].startswith("unreadable:consent/dt=2026-08-01/optouts.csv:")
    assert loaded.loc["b5@example.com", "identifier_type"] == "email"
    assert set(result.quarantined["consent_id"]) == {"b6", "b7"}
    assert result.unattributed_opt_outs == 1


def test_stop_replies_become_sms_opt_outs(landing):
    write(landing / "sms_replies" / f"dt={DAY}" / "aliyun_mo.csv",
          "Mobile,Content,Send_Time,Sign_Name\n"
          "13800138001,T,2026-08-01 10:00:00,userops\n"
          "13800138002, td ,2026-08-01 10:01:00,userops\n"
          "13800138003,好的谢谢,2026-08-01 10:02:00,userops\n"
          "13800138004,请退订,not a time,userops\n"
          "not a phone,退订,2026-08-01 10:03:00,userops\n")
    result = ingest(SOURCES["sms_replies"], landing, [DAY], TZ, "run-1")
    words = dict(zip(result.loaded["phone"], result.loaded["unsubscribe_word"]))
    assert words == {"+8613800138001": "t", "+8613800138002": "td", "+8613800138003": None, "+8613800138004": "退订"}
    late = result.loaded.set_index("phone").loc["+8613800138004"]
    assert late["replied_at"] == pd.Timestamp("2026-08-01 23:59:59") and late["_read_problem"] == "bad_timestamp"
    assert result.unattributed_opt_outs == 1          # a STOP from a phone we cannot read stops the run


def test_file_missing_a_required_column_fails_alone(landing):
    _online(landing, [{"event_id": "e1", "event_time": "2026-08-01T10:00:00+08:00", "event_type": "login"}])
    bad = _online(landing, [{"event_id": "e2", "event_time": "2026-08-01T10:00:00+08:00"}], name="part-0002.jsonl")
    result = ingest(SOURCES["online"], landing, [DAY], TZ, "run-1")
    assert list(result.loaded["event_id"]) == ["e1"]
    assert len(result.failed_files) == 1
    assert str(bad) in result.failed_files[0] and "event_type" in result.failed_files[0]
    statuses = dict(zip(result.files["file"], result.files["status"]))
    assert statuses == {"online/dt=2026-08-01/part-0001.jsonl": "loaded", "online/dt=2026-08-01/part-0002.jsonl": "failed"}


def test_redelivered_file_is_skipped(landing):
    rows = [{"event_id": "e1", "event_time": "2026-08-01T10:00:00+08:00", "event_type": "login"}]
    _online(landing, rows)
    _online(landing, rows, name="part-0001-copy.jsonl")
    result = ingest(SOURCES["online"], landing, [DAY], TZ, "run-1")
    assert len(result.loaded) == 1
    assert sorted(result.files["status"]) == ["duplicate_file", "loaded"]
    # Delivered again on a later day: skipped when the earlier day is known.
    _online(landing, rows, day=date(2026, 8, 2))
    known = {result.files.loc[result.files["status"] == "loaded", "sha256"].item(): "online/dt=2026-08-01/part-0001.jsonl"}
    later = ingest(SOURCES["online"], landing, [date(2026, 8, 2)], TZ, "run-2", known)
    assert len(later.loaded) == 0 and list(later.files["status"]) == ["duplicate_file"]


def test_a_corrected_file_under_the_same_name_replaces_the_earlier_rows(landing, tmp_path):
    import duckdb

    from orchestration.lib.raw_store import previous_versions, replace_window

    spec = SOURCES["offline"]
    header = "record_id,record_time,record_type,store_id,phone\n"
    path = write(landing / "offline" / f"dt={DAY}" / "stores.csv", header + "r1,2026-08-01 10:00:00,store_visit,s1,13800138000\n")
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))

    def load(run_id):
        result = ingest(spec, landing, [DAY], TZ, run_id, previous=previous_versions(conn, spec, DAY, date(2026, 8, 2)))
        replace_window(conn, spec, result, DAY, date(2026, 8, 2), run_id)
        return result

    load("run-1")
    write(path, header + "r1,2026-08-01 10:00:00,store_visit,s1,13900139000\n")      # the exporter's correction
    corrected = load("run-2")
    assert conn.execute("select phone from raw.offline").fetchall() == [("+8613900139000",)]
    note = conn.execute("select note from raw.ingested_files").fetchone()[0]
    assert note.startswith("re-delivered: replaces the version ") and "loaded by run run-1" in note
    assert any("stores.csv re-delivered with other content" in w for w in corrected.warnings)
    again = load("run-3")                                      # re-running the day keeps the record, warns no more
    assert conn.execute("select note from raw.ingested_files").fetchone()[0] == note
    assert not any("re-delivered" in w for w in again.warnings)


def test_empty_landing_gives_empty_results(landing):
    result = ingest(SOURCES["social"], landing, [DAY], TZ, "run-1")
    assert result.rows_read == 0 and result.failed_files == [] and len(result.files) == 0


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_generated_sample_accounting(sample, source):
    """On the generated sample: every delivered record is either loaded or quarantined."""
    days = [date(2026, 8, d) for d in range(1, 15)]
    result = ingest(SOURCES[source], sample["landing"], days, TZ, "run-1")
    delivered = 0
    for path in sorted((sample["landing"] / source).rglob("*")):
        if path.is_file():
            read = read_file(path, SOURCES[source])
            delivered += len(read.frame) + len(read.bad_rows)
    assert result.rows_read == delivered == len(result.loaded) + len(result.quarantined) > 0
    assert not result.failed_files


def test_plan_batches_groups_consecutive_days_by_bytes(landing):
    for day, size in ((1, 100), (2, 100), (3, 300), (4, 50)):
        write(landing / "online" / f"dt=2026-08-0{day}" / "part.jsonl", "x" * size)
    days = [date(2026, 8, d) for d in range(1, 6)]                   # day 5 has no files
    assert plan_batches(SOURCES["online"], landing, days, 250) == [
        [date(2026, 8, 1), date(2026, 8, 2)], [date(2026, 8, 3)], [date(2026, 8, 4), date(2026, 8, 5)]]
    assert plan_batches(SOURCES["online"], landing, days, 10**9) == [days]


@pytest.mark.parametrize("read, quarantined, passed, severity", [
    (1000, 5, True, "WARN"),          # 0.5 %: fine
    (1000, 50, False, "WARN"),        # 5 %: above warn
    (1000, 300, False, "ERROR"),      # 30 %: above error, enough rows to judge
    (7, 2, False, "WARN"),            # 29 % of a quiet day's 7 rows: warns, does not stop the run
])
def test_quarantine_rate_check_severity(read, quarantined, passed, severity):
    from orchestration.defs.ingest import check_results
    from orchestration.lib.ingest import IngestTotals

    totals = IngestTotals(rows_loaded=read - quarantined, rows_quarantined=quarantined)
    rate_check = next(c for c in check_results(SOURCES["offline"], totals) if c.check_name == "quarantine_rate")
    assert rate_check.passed is passed and rate_check.severity.value == severity


def test_every_landing_entry_is_in_the_ledger(landing):
    rows = [{"order_id": "o1", "order_time": "2026-08-01 10:00:00", "status": "paid", "amount": "10"}]
    write(landing / "sales" / "dt=2026-08-01" / "orders.json", json.dumps(rows))
    write(landing / "sales" / "dt=2026-8-1" / "late.csv", "order_id,order_time,status,amount\no2,2026-08-01,paid,20\n")
    write(landing / "sales" / "dt=2026-08-01" / "orders.txt", "x")
    write(landing / "sales" / "dt=2026-08-01" / "2026" / "orders.csv", "x")
    write(landing / "sales" / "dt=20260733x" / "orders.csv", "x")
    result = ingest(SOURCES["sales"], landing, [DAY], TZ, "run-1", undated=True)
    ledger = dict(zip(result.files["file"], result.files["status"]))
    assert ledger == {"sales/dt=2026-08-01/orders.json": "loaded", "sales/dt=2026-8-1/late.csv": "loaded",
                      "sales/dt=2026-08-01/orders.txt": "ignored", "sales/dt=2026-08-01/2026": "ignored",
                      "sales/dt=20260733x": "ignored"}
    assert set(result.loaded["order_id"]) == {"o1", "o2"}
    assert sum(" ignored: " in w for w in result.warnings) == 3
    assert any("dt=2026-8-1/late.csv read as arrival day 2026-08-01" in w for w in result.warnings)


def test_an_amount_too_large_for_money_is_quarantined_with_its_row(landing):
    write(landing / "sales" / f"dt={DAY}" / "orders.csv", "order_id,order_time,status,amount\n"
          "o1,2026-08-01 10:00:00,paid,1234567890123456789\no2,2026-08-01 10:00:00,paid,99\n")
    result = ingest(SOURCES["sales"], landing, [DAY], TZ, "run-1")
    assert list(result.loaded["order_id"]) == ["o2"]
    assert result.quarantined[["_row_number", "_reason", "_detail"]].values.tolist() == [[1, "bad_number", "amount"]]


def _totals(rows_per_day=None, amount_per_day=None):
    from orchestration.lib.ingest import IngestTotals

    return IngestTotals(rows_loaded=1, rows_per_day=rows_per_day or {}, amount_per_day=amount_per_day or {})


def test_a_day_far_below_the_trailing_volume_warns():
    from orchestration.defs.ingest import check_results

    history = ([(date(2026, 7, d), 59) for d in range(1, 29)], [])
    checks = {c.check_name: c for c in check_results(SOURCES["online"], _totals({DAY: 5}), history)}
    assert not checks["deliveries_as_expected"].passed and checks["deliveries_as_expected"].severity.value == "WARN"
    assert "online 2026-08-01: 5 rows delivered" in checks["deliveries_as_expected"].description
    ok = {c.check_name: c for c in check_results(SOURCES["online"], _totals({DAY: 50}), history)}
    assert ok["deliveries_as_expected"].passed


def test_amounts_in_fen_stop_the_run():
    from orchestration.defs.ingest import check_results

    history = ([], [(date(2026, 7, d), 150.0) for d in range(1, 29)])
    checks = {c.check_name: c for c in check_results(SOURCES["sales"], _totals(amount_per_day={DAY: 15000.0}), history)}
    assert not checks["amount_units"].passed and checks["amount_units"].severity.value == "ERROR"
    fine = {c.check_name: c for c in check_results(SOURCES["sales"], _totals(amount_per_day={DAY: 180.0}), history)}
    assert fine["amount_units"].passed


def test_an_ignored_consent_file_stops_the_run_an_ignored_order_file_warns():
    from orchestration.defs.ingest import check_results

    for source, severity in (("consent", "ERROR"), ("sales", "WARN")):
        totals = _totals()
        totals.warnings = [f"{source} 2026-08-01: {source}/dt=2026-08-01/x.txt ignored: unknown file type"]
        check = next(c for c in check_results(SOURCES[source], totals) if c.check_name == "deliveries_as_expected")
        assert not check.passed and check.severity.value == severity
