"""Reading landing files: encodings (F1, F2), formats, malformed and truncated rows, contract."""

import gzip
import io
import json
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.contract import SOURCES
from orchestration.lib.landing import FileContractError, partition_files, read_file
from tests.conftest import write

HEADER = "record_id,record_time,record_type,name,city,member_card_no\n"
OFFLINE = SOURCES["offline"]


def test_gbk_csv_round_trips_chinese_names(tmp_path):
    path = write(tmp_path / "stores.csv", HEADER + "r1,2026-08-01 10:00:00,store_visit,张伟,乌鲁木齐,0012\n", "gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")                 # really not UTF-8
    read = read_file(path, OFFLINE)
    assert read.encoding == "gb18030"
    assert read.frame.loc[0, "name"] == "张伟" and read.frame.loc[0, "city"] == "乌鲁木齐"
    assert read.frame.loc[0, "member_card_no"] == "0012"  # leading zeros survive (F8)


def test_utf8_bom_header_is_clean(tmp_path):
    path = write(tmp_path / "c.csv", HEADER + "r1,2026-08-01 10:00:00,store_visit,李娜,上海,\n", "utf-8-sig")
    read = read_file(path, OFFLINE)
    assert list(read.frame.columns[:3]) == ["record_id", "record_time", "record_type"]
    assert read.encoding == "utf-8" and read.frame.loc[0, "name"] == "李娜"


def test_undecodable_file_fails_without_replacement_characters(tmp_path):
    path = write(tmp_path / "bad.csv", HEADER.encode() + b"r1,\xff\xfe\xfa\x80,store_visit,x,y,z\n")
    with pytest.raises(FileContractError, match="bad.csv: not valid UTF-8 or GB18030"):
        read_file(path, OFFLINE)


def test_missing_required_column_names_file_and_column(tmp_path):
    path = write(tmp_path / "no_type.csv", "record_id,record_time\nr1,2026-08-01\n")
    with pytest.raises(FileContractError, match=r"no_type.csv: required column\(s\) missing: record_type"):
        read_file(path, OFFLINE)


def test_empty_file_fails(tmp_path):
    with pytest.raises(FileContractError, match="empty file"):
        read_file(write(tmp_path / "e.csv", b""), OFFLINE)


def test_header_only_file_has_no_rows(tmp_path):
    read = read_file(write(tmp_path / "h.csv", HEADER), OFFLINE)
    assert len(read.frame) == 0 and read.bad_rows == []


def test_malformed_and_quoted_csv_rows(tmp_path):
    text = (HEADER + 'r1,2026-08-01 10:00:00,store_visit,"Wang, Wei","line\nbreak",1\n'
            "r2,2026-08-01 10:00:00,store_visit,x,y,z,EXTRA\n"
            "r3,2026-08-01 10:00:00,store_visit,x,y,z\n")
    read = read_file(write(tmp_path / "m.csv", text), OFFLINE)
    assert list(read.frame["record_id"]) == ["r1", "r3"]
    assert read.frame.loc[0, "name"] == "Wang, Wei" and read.frame.loc[0, "city"] == "line\nbreak"
    assert list(read.frame["_row_number"]) == [1, 3]
    assert [(n, reason) for n, reason, _ in read.bad_rows] == [(2, "malformed_row")]
    assert not read.truncated


def test_truncated_csv_is_flagged(tmp_path):
    read = read_file(write(tmp_path / "t.csv", HEADER + "r1,2026-08-01 10:00:00,store_visit,x,y,z\nr2,2026-08-0"), OFFLINE)
    assert read.truncated and read.bad_rows[-1][:2] == (2, "truncated")


def test_jsonl_plain_and_gzip_with_bad_lines(tmp_path):
    lines = [json.dumps({"record_id": "r1", "record_time": "2026-08-01", "record_type": "survey", "n": 13800138000}),
             "{not json", "[1, 2]", "",
             json.dumps({"record_id": "r2", "record_time": "2026-08-01", "record_type": "survey", "nested": {"a": 1}})]
    data = ("\n".join(lines) + "\n").encode()
    for path in (write(tmp_path / "a.jsonl", data), write(tmp_path / "a.jsonl.gz", gzip.compress(data))):
        read = read_file(path, OFFLINE)
        assert list(read.frame["record_id"]) == ["r1", "r2"]
        assert read.frame.loc[0, "n"] == "13800138000"           # numbers become text, digits intact
        assert json.loads(read.frame.loc[1, "nested"]) == {"a": 1}
        assert [(n, r) for n, r, _ in read.bad_rows] == [(2, "malformed_json"), (3, "malformed_json")]
        assert list(read.frame["_row_number"]) == [1, 5]


def test_parquet_is_read_as_text(tmp_path):
    buffer = io.BytesIO()
    pq.write_table(pa.table({"record_id": ["0007"], "record_time": ["2026-08-01T10:00:00+08:00"],
                             "record_type": ["survey"], "amount": [12.5]}), buffer)
    read = read_file(write(tmp_path / "x.parquet", buffer.getvalue()), OFFLINE)
    assert read.frame.loc[0, "record_id"] == "0007" and read.frame.loc[0, "amount"] == "12.5"


def test_partition_files_lists_supported_files_in_order(tmp_path):
    folder = tmp_path / "offline" / "dt=2026-08-01"
    for name in ("b.csv", "a.jsonl.gz", "c.parquet", "notes.txt", ".hidden.csv"):
        write(folder / name, "x")
    files, ignored = partition_files(tmp_path, "offline", date(2026, 8, 1))
    assert [p.name for p in files] == ["a.jsonl.gz", "b.csv", "c.parquet"]
    assert [(p.name, why.split(" ")[0]) for p, why in ignored] == [(".hidden.csv", "hidden"), ("notes.txt", "unknown")]
    assert partition_files(tmp_path, "offline", date(2026, 8, 2)) == ([], [])   # absent day: nothing, no error
    assert partition_files(tmp_path, "social", date(2026, 8, 1)) == ([], [])    # absent source


def test_fast_and_careful_jsonl_readers_agree(tmp_path):
    """Clean JSONL goes through Arrow's reader; it must give exactly what the line-by-line one gives."""
    from orchestration.lib.landing import _read_jsonl

    rows = [{"record_id": "0001", "record_time": "2026-08-01T10:00:00+08:00", "record_type": "survey",
             "n": 13800138000, "name": "张伟", "city": None},
            {"record_id": "0002", "record_time": "2026-08-01 11:00:00", "record_type": "survey", "extra": "x"}]
    path = write(tmp_path / "clean.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    fast = read_file(path, OFFLINE)
    careful, bad, _ = _read_jsonl(path.read_text())
    columns = sorted(set(careful.columns))
    assert bad == []
    assert fast.frame[columns].astype(object).where(fast.frame[columns].notna(), None).to_dict("records") == \
        careful[columns].astype(object).where(careful[columns].notna(), None).to_dict("records")
    assert fast.frame.loc[0, "record_time"] == "2026-08-01T10:00:00+08:00"     # text, not an Arrow timestamp


# --- deliveries that used to vanish or load as if whole (issue 13) ---------------------------------

SALES = SOURCES["sales"]
ORDERS = "order_id,order_time,status,amount\n"


@pytest.mark.parametrize("tail", ["o2,2026-08-01 10:00:00,paid,12",          # cut inside the last field
                                  'o2,2026-08-01 10:00:00,paid,"12\n'])       # cut inside a quoted last field
def test_a_csv_cut_short_sends_its_last_record_to_quarantine(tmp_path, tail):
    read = read_file(write(tmp_path / "orders.csv", ORDERS + "o1,2026-08-01 09:00:00,paid,1299.00\n" + tail), SALES)
    assert read.truncated and list(read.frame["order_id"]) == ["o1"]
    assert [(n, reason) for n, reason, _ in read.bad_rows] == [(2, "truncated")]


def test_a_jsonl_without_its_final_newline_is_flagged(tmp_path):
    rows = [json.dumps({"order_id": f"o{i}", "order_time": "2026-08-01", "status": "paid", "amount": "1299.00"})
            for i in (1, 2)]
    read = read_file(write(tmp_path / "o.jsonl", "\n".join(rows)[:-4]), SALES)
    assert read.truncated and list(read.frame["order_id"]) == ["o1"] and read.bad_rows[0][:2] == (2, "truncated")


def test_jsonl_splits_records_on_newlines_only(tmp_path):
    record = {"order_id": "o1", "order_time": "2026-08-01", "status": "paid", "amount": "1", "category": "a\u2028b"}
    read = read_file(write(tmp_path / "o.jsonl", json.dumps(record, ensure_ascii=False) + "\n"), SALES)
    assert read.bad_rows == [] and read.frame.loc[0, "category"] == "a\u2028b"


def test_json_arrays_are_read_in_json_and_jsonl_files(tmp_path):
    rows = [{"order_id": "o1", "order_time": "2026-08-01", "status": "paid", "amount": "10"},
            {"order_id": "o2", "order_time": "2026-08-01", "status": "paid", "amount": "20"}]
    for name in ("orders.json", "orders.jsonl"):
        read = read_file(write(tmp_path / name, json.dumps(rows, indent=2)), SALES)
        assert list(read.frame["order_id"]) == ["o1", "o2"] and read.bad_rows == []
    assert "JSON array" in read.notes[0]                                  # said for the .jsonl


def test_xlsx_first_sheet_is_read_as_text(tmp_path):
    import pandas as pd

    path = tmp_path / "orders.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        pd.DataFrame({"order_id": ["0001"], "order_time": ["2026-08-01 10:00:00"], "status": ["paid"],
                      "amount": ["1299.00"], "phone": ["13800138000"]}).to_excel(book, index=False, sheet_name="orders")
        pd.DataFrame({"x": [1]}).to_excel(book, index=False, sheet_name="notes")
    read = read_file(path, SALES)
    assert read.frame.loc[0, ["order_id", "amount", "phone"]].tolist() == ["0001", "1299.00", "13800138000"]
    assert read.notes == ["only the first sheet 'orders' read; not read: notes"]


def test_headers_are_matched_without_case_and_through_the_alias_seed(tmp_path):
    read = read_file(write(tmp_path / "o.csv", "Order_ID,order_time,STATUS,amount,Mobile,Member_Card_No\n"
                                                "o1,2026-08-01,paid,1,13800138000,0042\n"), SALES)
    assert read.frame.loc[0, ["order_id", "phone", "member_card_no"]].tolist() == ["o1", "13800138000", "0042"]
    assert any("'Mobile' read as phone" in n for n in read.notes)
    assert {"header 'Member_Card_No' read as member_card_no", "header 'Order_ID' read as order_id"} <= set(read.warnings)


def test_two_columns_reading_as_one_fail_the_file_by_name(tmp_path):
    path = write(tmp_path / "stores.csv", "record_id,record_time,record_type,phone,phone\nr1,2026-08-01,survey,1,2\n")
    with pytest.raises(FileContractError, match=r"stores.csv: more than one column reads as phone"):
        read_file(path, OFFLINE)


def test_header_only_export_is_a_warning(tmp_path):
    read = read_file(write(tmp_path / "orders.csv", ORDERS), SALES)
    assert len(read.frame) == 0 and read.warnings == ["no records (header only or empty export)"]


def test_day_folders_in_the_forms_exporters_write(tmp_path):
    from orchestration.lib.landing import folder_day, source_entries

    assert folder_day("dt=2026-8-4") == folder_day("dt=20260804") == folder_day("dt=2026-08-04") == date(2026, 8, 4)
    assert folder_day("dt=2026-13-01") is None and folder_day("dt=yesterday") is None
    for name in ("dt=2026-08-04/a.csv", "dt=2026-8-4/b.csv", "dt=2026-08-04/sub/c.csv", "dt=later/d.csv", "e.csv"):
        write(tmp_path / "consent" / name, "x")
    files, ignored = partition_files(tmp_path, "consent", date(2026, 8, 4))
    assert [p.name for p in files] == ["a.csv", "b.csv"]
    assert [(p.name, why.split(":")[0]) for p, why in ignored] == [("sub", "nested folder inside a day folder")]
    undated = source_entries(tmp_path, "consent")[1]
    assert [p.name for p, _ in undated] == ["dt=later", "e.csv"]


def test_a_day_with_no_folder_from_any_source_is_undelivered_and_an_empty_folder_confirms_it(tmp_path):
    from orchestration.lib.landing import undelivered_days

    write(tmp_path / "sales" / "dt=2026-08-01" / "orders.csv", "order_id\n1\n")
    (tmp_path / "online" / "dt=2026-08-03").mkdir(parents=True)          # the export ran and had nothing
    days = [date(2026, 8, 1), date(2026, 8, 2), date(2026, 8, 3)]
    assert undelivered_days(tmp_path, days) == [date(2026, 8, 2)]
