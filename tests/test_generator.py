"""The sample generator: deterministic, messy in the documented ways, with ground truth."""

import hashlib
import json
from datetime import date

import pandas as pd

from orchestration.lib.contract import SOURCES
from orchestration.lib.ingest import ingest
from orchestration.sample.generator import generate


def _tree_digest(root):
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    args = (60, date(2026, 8, 1), date(2026, 8, 5))
    generate(tmp_path / "a", *args, seed=3)
    generate(tmp_path / "b", *args, seed=3)
    generate(tmp_path / "c", *args, seed=4)
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b") != _tree_digest(tmp_path / "c")


def test_every_source_and_format_is_written(sample):
    landing = sample["landing"]
    assert set(sample["written"]) == set(SOURCES)
    names = {p.name for p in landing.rglob("*") if p.is_file()}
    assert {"part-0001.jsonl", "part-0002.jsonl.gz", "stores.csv", "orders.parquet", "wechat.jsonl", "optouts.csv",
            "aliyun_mo.csv"} <= names
    offline = next((landing / "offline").rglob("stores.csv")).read_bytes()
    assert offline.decode("gbk") and not _is_utf8(offline)                    # GBK, Chinese content
    consent = next((landing / "consent").rglob("optouts.csv")).read_bytes()
    assert consent.startswith(b"\xef\xbb\xbf")                                 # UTF-8 with BOM


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_messiness_is_present(sample):
    landing = sample["landing"]
    online = pd.concat(ingest_text(landing, "online"))
    phones = online["phone"].dropna()
    assert phones.str.startswith("+86").any() and phones.str.contains("-").any()
    assert phones.str.contains("[０-９]").any()                                  # full-width digits
    emails = online["email"].dropna()
    assert (emails != emails.str.strip().str.lower()).any()
    assert online["event_id"].duplicated().any()                                # duplicate events
    messiness = json.loads((sample["truth"] / "messiness.json").read_text())
    for key in ("duplicate_events_next_day", "late_online_events", "order_versions", "store_counter_phone",
                "test_email", "all_zero_device_id", "invites", "consent_events", "consent_values_in_vendor_spellings",
                "sms_stop_replies"):
        assert messiness.get(key, 0) > 0, key


def ingest_text(landing, source):
    from orchestration.lib.landing import read_file

    for path in sorted((landing / source).rglob("*")):
        if path.is_file():
            yield read_file(path, SOURCES[source]).frame


def test_ground_truth_covers_records_and_identifiers(sample):
    truth = sample["truth"]
    days = [date(2026, 8, d) for d in range(1, 15)]
    result = ingest(SOURCES["online"], sample["landing"], days, "Asia/Shanghai", "t")
    records = pd.read_csv(truth / "online_records.csv", dtype=str)
    assert set(result.loaded["event_id"]) <= set(records["event_id"])
    identifiers = pd.read_csv(truth / "identifiers.csv", dtype=str)
    phones = set(identifiers.loc[identifiers["identifier_type"] == "phone", "identifier_value"])
    seen = set(result.loaded["phone"].dropna())
    assert seen and seen <= phones                                              # every phone has a true owner
    # One person, several fragments: a member id that also appears with a device id.
    linked = result.loaded.dropna(subset=["member_id", "device_id"])
    assert len(linked) > 0
    orders = ingest(SOURCES["sales"], sample["landing"], days, "Asia/Shanghai", "t").loaded
    assert orders["order_id"].duplicated().any()                                # refunds arrive as new versions
