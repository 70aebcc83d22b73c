"""Channel writers against their systems' limits, the pre-send checks, and the outbox's
complete-or-absent folder with its manifest."""

import csv
import io
import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from orchestration.lib.channels import Contact, PreSendError, Template, call, push, render, sms, wechat, wecom
from orchestration.lib.outbox import DayOutbox, OutboxError, read_manifest, verify

SMS = Template("t", "sms", "好久不见，送您${offer} https://s.example.cn/${code} 拒收请回复R", "SMS_800001")
SHORT = "https://s.example.cn/"
REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "tests" / "data" / "vendor_schemas"


def conforms(body: dict, name: str) -> None:
    """The body against the vendor's documented request schema (tests/data/vendor_schemas/), with
    the JSON carried inside strings (SendBatchSms' *Json parameters) checked by their own schema."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(body, schema)
    for key, spec in schema["properties"].items():
        if "contentSchema" in spec and key in body:
            jsonschema.validate(json.loads(body[key]), spec["contentSchema"])


def sms_write(outbox, people, template=SMS, max_chars=35):
    return sms.write(outbox, "c-20261031", people, template, "品牌", 0.03, 100, [], SHORT, max_chars)


def contacts(n, hour=10, kind="phone", owner=None):
    return [Contact("c-20261031", f"p{i}", datetime(2026, 10, 31, hour), f"+86138{i:08d}", kind, owner,
                    f"https://m.example.com/r?c=c-20261031&t={i:016x}", "10元券") for i in range(n)]


def test_sms_templates_must_end_with_the_unsubscribe_line_and_keep_links_clickable():
    assert sms.check(SMS, ["中奖"], SHORT) == []
    bad = Template("t", "sms", "【品牌】恭喜中奖，点击https://s.example.cn/${code}领取", "SMS_1")
    problems = sms.check(bad, ["中奖"], SHORT)
    assert any("拒收请回复R" in p for p in problems) and any("【】" in p for p in problems)
    assert any("blocked word 中奖" in p for p in problems) and any("space before and after" in p for p in problems)


def test_an_sms_link_is_fixed_text_on_the_short_link_domain_never_a_variable(tmp_path):
    """Seen: the per-person ${link} was a variable holding a ~75-character URL, which Tencent Cloud
    and Huawei refuse, Alibaba Cloud caps at 35 characters, and which made every SMS two segments."""
    old = Template("t", "sms", "好久不见，送您${offer}，点击 ${link} 领取，拒收请回复R", "SMS_800001")
    assert any("may not be a template variable" in p for p in sms.check(old, [], SHORT))
    elsewhere = Template("t", "sms", "送您${offer} https://bit.ly/${code} 拒收请回复R", "SMS_800001")
    assert any("not on the short-link domain" in p for p in sms.check(elsewhere, [], SHORT))
    with pytest.raises(PreSendError, match="may not be a template variable"):
        sms_write(DayOutbox(tmp_path / "a", "2026-10-31"), contacts(1), old)
    # A variable's value over the vendors' limit, or holding a link, fails before anything is written.
    with pytest.raises(PreSendError, match="over 35 characters"):
        sms_write(DayOutbox(tmp_path / "b", "2026-10-31"), [replace(c, offer_text="券" * 36) for c in contacts(1)])
    with pytest.raises(PreSendError, match="holds a link"):
        sms_write(DayOutbox(tmp_path / "c", "2026-10-31"), [replace(c, offer_text="见 www.x.cn") for c in contacts(1)])
    outbox = DayOutbox(tmp_path / "d", "2026-10-31")
    result = sms_write(outbox, contacts(3))
    request = json.loads(next(outbox.scratch.rglob("send_*.json")).read_text(encoding="utf-8"))
    params = json.loads(request["TemplateParamJson"])
    assert all(set(p) == {"offer", "code"} and len(p["code"]) == 11 for p in params)
    assert len({p["code"] for p in params}) == 3
    # The short-link service's table resolves each code to the person's landing link.
    links = list(csv.DictReader(io.StringIO((outbox.scratch / "links" / "c-20261031.csv").read_text())))
    assert {row["code"]: row["url"] for row in links} == {
        sms.short_code(c.token): c.link for c in contacts(3)}
    # The message fits one segment: 【品牌】好久不见，送您10元券 https://s.example.cn/<11> 拒收请回复R.
    assert result["max_segments"] == 1 and result["segments"] == 3


def test_sms_segments_count_the_signature():
    assert sms.segments("a" * 63, "brand") == 1            # 【brand】 is 7 characters: 70 in all
    assert sms.segments("a" * 64, "brand") == 2            # 71 → billed per 67
    assert sms.segments("a" * 128, "brand") == 3           # 135 → 3 × 67 = 201 ≥ 135 > 134


def test_sms_batches_hold_at_most_100_numbers_and_one_parameter_object_each(tmp_path):
    outbox = DayOutbox(tmp_path, "2026-10-31")
    result = sms_write(outbox, contacts(250))
    batch_files = sorted(p for p in outbox.scratch.rglob("*.json"))
    sizes = []
    for path in batch_files:
        request = json.loads(path.read_text(encoding="utf-8"))
        conforms(request, "aliyun_send_batch_sms")
        phones, signs, params = (json.loads(request[k]) for k in ("PhoneNumberJson", "SignNameJson", "TemplateParamJson"))
        assert len(phones) == len(signs) == len(params) and request["OutId"] == "c-20261031"
        assert all(p.startswith("138") and len(p) == 11 for p in phones)
        sizes.append(len(phones))
    assert sizes == [100, 100, 50]
    assert result["messages"] == 250 and result["cost"] == pytest.approx(result["segments"] * 0.03)
    # Billed per person (the contact log's cost): each person's segments × price, adding up to the total.
    assert len(result["cost_by_person"]) == 250 and sum(result["cost_by_person"].values()) == pytest.approx(result["cost"])


def test_a_missing_template_variable_fails_the_campaign():
    with pytest.raises(PreSendError, match="name"):
        render("${offer} for ${name}", {"offer": "x"})
    assert push.check(Template("t", "push", "${offer} ${link}", None))          # per-person link in a batch


def test_push_and_wecom_split_at_their_limits(tmp_path):
    outbox = DayOutbox(tmp_path, "2026-10-31")
    push.write(outbox, "c-20261031", contacts(2500, kind="registration_id"), Template("t", "push", "${offer}", None), 1000,
               "https://m.example.com/r?c=c-20261031")
    wecom.write(outbox, "c-20261031", contacts(3, owner="zhang") + contacts(2, owner="li"),
                Template("t", "wecom", "${offer} ${link}", None), 10_000, "https://m.example.com/r?c=c-20261031")
    jpush = [json.loads(p.read_text()) for p in sorted(outbox.scratch.rglob("jpush_*.json"))]
    assert [len(r["audience"]["registration_id"]) for r in jpush] == [1000, 1000, 500]
    for request in jpush:
        conforms(request, "jpush_push_v3")
    tasks = {json.loads(p.read_text())["sender"]: json.loads(p.read_text()) for p in outbox.scratch.rglob("wecom/*/*.json")}
    assert {k: len(v["external_userid"]) for k, v in tasks.items()} == {"zhang": 3, "li": 2}
    assert "&t=" not in tasks["li"]["text"]["content"]                       # a shared text has no personal token


def test_fcm_tokens_go_to_multicasts_of_at_most_500(tmp_path):
    outbox = DayOutbox(tmp_path, "2026-10-31")
    fcm = [replace(c, address=f"f{i:010d}:APA91b" + "x" * 140) for i, c in enumerate(contacts(1200, kind="registration_id"))]
    jpush_ids = contacts(3, kind="registration_id")
    summary = push.write(outbox, "c-20261031", fcm + jpush_ids, Template("t", "push", "送您${offer}", None), 1000,
                         "https://m.example.com/r?c=c-20261031")
    multicasts = [json.loads(p.read_text()) for p in sorted(outbox.scratch.rglob("fcm_*.json"))]
    for message in multicasts:
        conforms(message, "fcm_multicast")
    assert [len(m["tokens"]) for m in multicasts] == [500, 500, 200]
    assert multicasts[0]["notification"]["body"] == "送您10元券"
    assert sorted(t for m in multicasts for t in m["tokens"]) == sorted(c.address for c in fcm)
    jpush = [json.loads(p.read_text()) for p in outbox.scratch.rglob("jpush_*.json")]
    assert [r["audience"]["registration_id"] for r in jpush] == [[c.address for c in jpush_ids]]
    assert summary == {"messages": 1203, "requests": 4}


def test_push_carries_no_made_up_cid_and_opens_the_campaigns_link(tmp_path):
    """Seen: every JPush request carried a made-up cid, which JPush rejects (a cid is only valid
    when fetched from /v3/push/cid), and push bodies had no link to attribute a click."""
    outbox = DayOutbox(tmp_path, "2026-10-31")
    push.write(outbox, "c-20261031", contacts(2, kind="alias"), Template("t", "push", "${offer}", None), 1000,
               "https://m.example.com/r?c=c-20261031")
    request = json.loads(next(outbox.scratch.rglob("jpush_*.json")).read_text())
    assert "cid" not in request
    conforms(request, "jpush_push_v3")
    for platform in ("android", "ios"):
        assert request["notification"][platform]["extras"] == {"campaign_id": "c-20261031",
                                                               "url": "https://m.example.com/r?c=c-20261031"}
    with pytest.raises(jsonschema.ValidationError):     # the schema does refuse a cid not from /v3/push/cid
        conforms({**request, "cid": "c-20261031-alias-1000-0001"}, "jpush_push_v3")


def test_wechat_recall_goes_out_as_subscribe_notifications_with_checked_fields(tmp_path):
    """Seen: template messages with a send_at key the API does not have, carrying promotions that
    WeChat's template-message rules forbid."""
    outbox = DayOutbox(tmp_path, "2026-10-31")
    template = Template("t", "wechat", "thing1=${offer}，点此领取|phrase2=待领取", "TPL_1")
    wechat.write(outbox, "c-20261031", contacts(2, kind="openid") + contacts(1, hour=15, kind="openid"), template)
    files = sorted(p.relative_to(outbox.scratch).as_posix() for p in outbox.scratch.rglob("*.jsonl"))
    assert files == ["wechat/c-20261031/subscribe_1000.jsonl", "wechat/c-20261031/subscribe_1500.jsonl"]
    line = json.loads((outbox.scratch / files[0]).read_text().splitlines()[0])
    conforms(line, "wechat_subscribe_bizsend")
    assert line["data"] == {"thing1": {"value": "10元券，点此领取"}, "phrase2": {"value": "待领取"}}
    assert line["page"].startswith("https://m.example.com/r?c=c-20261031&t=") and "send_at" not in line
    plain = DayOutbox(tmp_path / "plain", "2026-10-31")
    wechat.write(plain, "c-20261031", contacts(1, kind="openid"), Template("t", "wechat", "${offer}", "TPL_1"))
    assert json.loads(next(plain.scratch.rglob("*.jsonl")).read_text())["data"] == {"thing1": {"value": "10元券"}}
    long_offer = [replace(c, offer_text="全场满两百减一百再送精美礼品一份限时三天") for c in contacts(1, kind="openid")]
    with pytest.raises(PreSendError, match="thing1 .* 1 to 20 characters"):
        wechat.write(DayOutbox(tmp_path / "other", "2026-10-31"), "c-20261031", long_offer, template)
    for body, problem in (("thing1=${offer}|phrase2=ok", "not a valid phrase"),
                          ("thing1=${offer}|phrase2=限时限量特惠", "1 to 5 characters"),
                          ("thing1=${offer}|title2=x", "not a WeChat field name")):
        with pytest.raises(PreSendError, match=problem):
            wechat.write(DayOutbox(tmp_path / "bad", "2026-10-31"), "c-20261031", contacts(1, kind="openid"),
                         Template("t", "wechat", body, "TPL_1"))


def test_the_day_appears_complete_with_its_manifest_or_not_at_all(tmp_path):
    outbox = DayOutbox(tmp_path, "2026-10-31")
    outbox.write_text("sms", "sms/a.csv", "phone\n13800000000\n", 1, ["c"])
    folder, written = outbox.commit({"run_id": "r1"})
    assert written and verify(folder) == [] and read_manifest(folder)["files"][0]["rows"] == 1
    (folder / "sms" / "a.csv").write_text("phone\n13800000001\n")
    assert verify(folder) == ["changed since written: sms/a.csv"]
    (folder / "sms" / "a.csv").write_text("phone\n13800000000\n")
    # The same files again: left as they are, manifest of the first run kept.
    again = DayOutbox(tmp_path, "2026-10-31")
    again.write_text("sms", "sms/a.csv", "phone\n13800000000\n", 1, ["c"])
    assert again.commit({"run_id": "r2"}) == (folder, False) and read_manifest(folder)["run_id"] == "r1"
    # A different result never overwrites a committed day; nothing is left behind.
    different = DayOutbox(tmp_path, "2026-10-31")
    different.write_text("sms", "sms/a.csv", "phone\n13900000000\n", 1, ["c"])
    with pytest.raises(OutboxError, match="already committed"):
        different.commit({"run_id": "r3"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dt=2026-10-31"]
    # A crash before the commit leaves no day folder at all.
    crashed = DayOutbox(tmp_path, "2026-11-01")
    crashed.write_text("sms", "sms/a.csv", "phone\n", 0, ["c"])
    crashed.abandon()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dt=2026-10-31"]


def test_ad_files_hash_each_platforms_way_and_hold_no_clear_identifier(tmp_path):
    from orchestration.lib.channels import ads, email

    people = [Contact("c-20261031", "p1", datetime(2026, 10, 31, 10), "+8613800138000", "phone", None,
                      "https://m.example.com/r?c=c-20261031&t=aa", "券", " Z.Li@Example.com "),
              Contact("c-20261031", "p2", datetime(2026, 10, 31, 10), None, None, None,
                      "https://m.example.com/r?c=c-20261031&t=bb", "券", "a@b.cn")]
    outbox = DayOutbox(tmp_path, "2026-10-31")
    result = ads.write(outbox, "c-20261031", people)
    files = {p.name: p for p in outbox.scratch.rglob("*") if p.is_file()}
    assert (files["oceanengine_md5_phone.txt"].read_text() == "7945bd83237335e5376ff44d62e4f0ae\n")   # pinned
    import hashlib
    import zipfile
    with zipfile.ZipFile(files["tencent_hash_mobile_phone.zip"]) as zf:
        assert zf.read("HASH_MOBILE_PHONE.txt").decode() == "7945bd83237335e5376ff44d62e4f0ae\n"
    meta = files["meta_0001.csv"].read_text().splitlines()
    assert meta[1] == (hashlib.sha256(b"8613800138000").hexdigest() + "," + hashlib.sha256(b"z.li@example.com").hexdigest())
    google = files["google_customer_match.csv"].read_text().splitlines()
    assert google[0] == "Email,Phone,First Name,Last Name,Country,Zip"
    assert google[1].split(",")[1] == hashlib.sha256(b"+8613800138000").hexdigest()
    everything = "".join(p.read_bytes().decode("latin-1") for p in files.values())
    assert "13800138000" not in everything and "example.com" not in everything.lower()
    assert result["match_base_phone"] == 1 and result["match_base_email"] == 2
    # Email: an unsubscribe link on every row, the offer kept as text if it looks like a formula.
    email.write(outbox, "c-20261031", [replace(people[1], address="a@b.cn", offer_text="=1+1")],
                "https://m.example.com/r/unsubscribe")
    rows = (outbox.scratch / "email" / "c-20261031.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("Email Address,") and rows[1].startswith("a@b.cn,'=1+1,")
    assert "https://m.example.com/r/unsubscribe?t=bb" in rows[1]


def test_calls_as_a_csv_and_aiccs_number_lists_of_at_most_1000(tmp_path):
    outbox = DayOutbox(tmp_path, "2026-10-31")
    summary = call.write(outbox, "c-20261031", contacts(2500, hour=15), 20)
    lists = [json.loads(p.read_text()) for p in sorted(outbox.scratch.rglob("aiccs_*.json"))]
    assert [len(numbers) for numbers in lists] == [1000, 1000, 500] and summary["requests"] == 3
    assert lists[0][0] == {"calleeNumber": "13800000000", "outId": f"c-20261031:{0:016x}", "offer": "10元券"}
    lines = (outbox.scratch / "call" / "c-20261031.csv").read_text().splitlines()
    assert lines[0] == "calleeNumber,outId,offer,call_from,call_to" and len(lines) == 2501
    assert lines[1].endswith("2026-10-31 15:00,2026-10-31 20:00")


def test_every_human_facing_csv_keeps_formula_looking_text_as_text(tmp_path):
    """Seen: call lists did not protect text fields against spreadsheet formulas (the email CSV did)."""
    outbox = DayOutbox(tmp_path, "2026-10-31")
    risky = [replace(c, offer_text="=HYPERLINK(\"http://x\")") for c in contacts(1, hour=15)]
    call.write(outbox, "c-20261031", risky, 20)
    row = next(csv.DictReader(io.StringIO((outbox.scratch / "call" / "c-20261031.csv").read_text())))
    assert row["offer"] == "'=HYPERLINK(\"http://x\")" and row["calleeNumber"] == "13800000000"
    sms_write(outbox, [replace(c, offer_text="+10元") for c in contacts(1)],
              Template("t", "sms", "${offer} https://s.example.cn/${code} 拒收请回复R", "SMS_1"))
    row = next(csv.DictReader(io.StringIO((outbox.scratch / "sms" / "c-20261031.csv").read_text())))
    assert row["content"].startswith("'+10元") and row["phone"] == "13800000000"


def test_every_channel_of_the_seed_has_one_writer_with_the_common_interface(tmp_path):
    """Adding a channel is one module + one seed row: the outbox finds the module by the
    channel's name and calls its send(); a seed channel without one is named, not skipped."""
    from orchestration.lib.channels import Campaign, writer

    seeded = [row["channel"] for row in csv.DictReader((REPO / "seeds" / "recall_channels.csv").open())]
    assert seeded and len(set(seeded)) == len(seeded)
    campaign = Campaign("c-20261031", replace(SMS, channel="sms"), 0.03, 20, 100, "品牌", "https://m.example.com/r",
                        (), SHORT, 35)
    for channel in seeded:
        module = writer(channel)
        assert callable(module.send) and module.__name__.endswith(f".{channel}")
    result = writer("sms").send(DayOutbox(tmp_path, "2026-10-31"), campaign, contacts(2))
    assert result["messages"] == 2 and "max_segments" not in result
    with pytest.raises(LookupError, match=r"no writer for channel 'fax' \(orchestration/lib/channels/fax.py\)"):
        writer("fax")
    with pytest.raises(LookupError, match="not a module name"):
        writer("../sms")


def test_the_sms_writer_warns_of_messages_billed_as_several_segments(tmp_path):
    from orchestration.lib.channels import Campaign

    long = replace(SMS, body="好久不见，" * 12 + "送您${offer} https://s.example.cn/${code} 拒收请回复R")
    campaign = Campaign("c-20261031", long, 0.03, 20, 100, "品牌", "https://m.example.com/r", (), SHORT, 35)
    result = sms.send(DayOutbox(tmp_path, "2026-10-31"), campaign, contacts(1))
    assert result["segments"] >= 2
    assert result["warnings"] and "shorten template t to one segment" in result["warnings"][0]
