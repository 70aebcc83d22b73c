"""Erasure with known answers: the forms an identifier takes, records naming only erased
identifiers dropped at ingestion (others blanked), every table cleaned by column name, outbox
files scrubbed in each of their formats."""

import io
import json
import zipfile
from datetime import date, datetime

import duckdb
import pandas as pd

from orchestration.lib import erasure
from orchestration.lib.contract import SOURCES
from orchestration.lib.ingest import ingest
from tests.conftest import write

SALT = b"test-salt"
PHONE = "+8613800138000"


def test_forms_cover_clear_national_and_hashed_spellings():
    forms = erasure.forms("phone", PHONE)
    assert {"+8613800138000", "8613800138000", "13800138000"} <= forms
    import hashlib
    assert hashlib.md5(b"13800138000").hexdigest() in forms and hashlib.sha256(b"+8613800138000").hexdigest() in forms
    pattern = erasure.forms_pattern(forms)
    assert pattern.search("call 13800138000 now") and not pattern.search("213800138000")   # not inside a longer number


def test_records_naming_only_erased_identifiers_are_dropped_others_blanked(landing):
    stones = {erasure.tombstone(SALT, "phone", PHONE), erasure.tombstone(SALT, "member_id", "m1")}
    events = [{"event_id": "e1", "event_time": "2026-08-01T10:00:00+08:00", "event_type": "login", "phone": "138 0013 8000"},
              {"event_id": "e2", "event_time": "2026-08-01T10:00:00+08:00", "event_type": "login", "member_id": "m1",
               "device_id": "d-other"},
              {"event_id": "e3", "event_time": "2026-08-01T10:00:00+08:00", "event_type": "login", "member_id": "m2"}]
    write(landing / "online" / "dt=2026-08-01" / "part.jsonl",
          "".join(json.dumps(e) + "\n" for e in events) + '{"event_id": "bad", "phone": "13800138000"\n')
    result = ingest(SOURCES["online"], landing, [date(2026, 8, 1)], "Asia/Shanghai", "r", tombstones=stones, salt=SALT)
    assert sorted(result.loaded["event_id"]) == ["e2", "e3"] and result.rows_erased == 2   # e1 and the broken line
    kept = result.loaded.set_index("event_id")
    assert pd.isna(kept.loc["e2", "member_id"]) and kept.loc["e2", "device_id"] == "d-other"
    assert result.rows_read == 4 and result.files["rows_erased"].tolist() == [2]


def test_erase_removes_the_person_from_every_table_and_the_outbox(tmp_path):
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("create schema marts; create schema raw; create schema staging")
    conn.execute("create table marts.identity_map as select * from (values "
                 "('phone', '+8613800138000', 'p1', 11), ('email', 'a@b.cn', 'p1', 12), ('phone', '+8613900139000', 'p2', 13)) "
                 "t(identifier_type, identifier_value, person_id, identifier_key)")
    conn.execute("create table marts.user_profile as select * from (values ('p1', 'x'), ('p2', 'y')) t(person_id, city)")
    conn.execute("create table staging.stg_online__events as select * from (values ('e1', 'a@b.cn'), ('e2', null)) "
                 "t(event_id, email)")
    conn.execute("create table raw.quarantine_sales as select * from (values ('o1', '138-0013-8000', null, 'f', 1), "
                 "('o2', null, 'x,A@B.CN,y', 'f', 2), ('o3', '13900139000', null, 'f', 3)) "
                 "t(order_id, phone, _raw_record, _source_file, _row_number)")
    outbox = tmp_path / "outbox" / "dt=2026-08-01"
    write(outbox / "sms" / "c1.csv", "phone,text\n13800138000,hi\n13900139000,hi\n")
    batch = {"PhoneNumberJson": json.dumps(["13800138000", "13900139000"]), "SignNameJson": json.dumps(["s", "s"]),
             "TemplateCode": "T1", "TemplateParamJson": json.dumps([{"link": "a"}, {"link": "b"}])}
    write(outbox / "sms" / "c1" / "batch.json", json.dumps(batch))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        import hashlib
        archive.writestr("phones.txt", hashlib.md5(b"13800138000").hexdigest() + "\n" + hashlib.md5(b"139").hexdigest() + "\n")
    write(outbox / "ads" / "tencent.zip", buffer.getvalue())
    write(outbox / "manifest.json", json.dumps({"files": [{"path": "sms/c1.csv", "rows": 2, "bytes": 0, "sha256": ""}]}))
    requests = pd.DataFrame([{"request_id": "q1", "requested_at": datetime(2026, 8, 1, 9), "identifier_type": "email",
                              "identifier_value": "a@b.cn", "_dt": date(2026, 8, 1), "_source_file": "f.csv",
                              "_row_number": 1}])
    done = erasure.erase(conn, requests, SALT, tmp_path / "outbox", "2026-08-01", datetime(2026, 8, 1, 10))
    assert done.persons == {"p1"} and done.problems == []
    assert conn.execute("select person_id from marts.user_profile").fetchall() == [("p2",)]
    assert conn.execute("select order_id from raw.quarantine_sales").fetchall() == [("o3",)]
    assert conn.execute("select count(*) from staging.stg_online__events").fetchone()[0] == 1
    assert (outbox / "sms" / "c1.csv").read_text() == "phone,text\n13900139000,hi\n"
    sent = json.loads((outbox / "sms" / "c1" / "batch.json").read_text())
    assert json.loads(sent["PhoneNumberJson"]) == ["13900139000"] and json.loads(sent["TemplateParamJson"]) == [{"link": "b"}]
    manifest = json.loads((outbox / "manifest.json").read_text())
    assert manifest["files"][0]["rows"] == 1 and manifest["erasures"][0]["requests"] == ["q1"]
    log = conn.execute("select request_id, persons_erased, identifiers_erased from marts.erasure_log").fetchall()
    assert log == [("q1", 1, 2)]
    stones = {h for (h,) in conn.execute("select identifier_hash from privacy.erasure_tombstones").fetchall()}
    assert stones == {erasure.tombstone(SALT, "phone", PHONE), erasure.tombstone(SALT, "email", "a@b.cn")}
    stored = " ".join(str(r) for r in conn.execute("select * from privacy.erasure_requests").fetchall())
    assert "a@b.cn" not in stored and "13800138000" not in stored


def test_compaction_leaves_no_erased_bytes_in_the_warehouse_file(tmp_path):
    # DuckDB keeps a dropped table's blocks and deleted rows in the file: the erased phone is
    # still in its bytes after the tables no longer hold it, until the file is rewritten.
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema marts; create table marts.people (phone varchar primary key, n int)")
        conn.execute(f"insert into marts.people values ('{PHONE}', -1), ('+8613900139000', 2), ('+8613700137000', 3)")
        conn.execute("create table marts.rebuilt as select * from marts.people; checkpoint")
        conn.execute("drop table marts.rebuilt")
        conn.execute(f"delete from marts.people where phone = '{PHONE}'")
        conn.execute("create view marts.people_view as select count(*) as n from marts.people; checkpoint")
    assert PHONE.encode() in warehouse.read_bytes()
    (tmp_path / f"warehouse.duckdb{erasure.COMPACT_SCRATCH}999999").write_text("left by a killed run")

    before, after = erasure.compact(warehouse)

    assert PHONE.encode() not in warehouse.read_bytes() and after < before
    assert [p.name for p in tmp_path.iterdir()] == ["warehouse.duckdb"]
    with duckdb.connect(str(warehouse)) as conn:
        assert conn.execute("select n from marts.people_view").fetchone() == (2,)
        try:        # the primary key came along
            conn.execute("insert into marts.people values ('+8613900139000', 0)")
            raise AssertionError("duplicate key accepted")
        except duckdb.ConstraintException:
            pass
