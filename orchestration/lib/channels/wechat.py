"""WeChat official-account subscribe notifications (订阅通知), one JSON object per line, one file
per send hour (`wechat/<campaign>/subscribe_<HH>00.jsonl`): the body of the
`message/subscribe/bizsend` call — touser (the official account's openid), template_id, page (the
landing link), data, miniprogram_state, lang. The call has no send time, so the hour is in the
file's name.

Recall goes to subscribe notifications, never to template messages: WeChat's rules keep
template messages (`message/template/send`) for service notices and forbid coupons and
promotions there. A subscribe notification needs the member's subscription to the template (a
one-time subscription allows one message); the platform refuses the rest (errcode 43101), which
the sender reports back as failed deliveries.

The template body fills the data fields: `thing1=${offer}|phrase2=限时` (field=value pairs
split by `|`), or a plain text that fills `thing1`. Each field is checked against the limit of
its type, named by the field's prefix as WeChat names them (`thing` ≤ 20 characters, `phrase` ≤ 5
Chinese characters, `number` ≤ 32 digits …): a value over its limit fails the send, so it fails
the campaign before anything is written."""

from __future__ import annotations

import json
import re

from orchestration.lib.channels import Campaign, Contact, PreSendError, Template, render

FIELD = re.compile(r"^(thing|number|letter|symbol|character_string|time|date|amount|phone_number|car_number|name|phrase)\d+$")
CJK = r"\u4e00-\u9fff"
# (longest value, the characters allowed) per field type, from WeChat's subscribe-message value rules.
LIMITS = {
    "thing": (20, None),
    "number": (32, r"^\d+(\.\d+)?$"),
    "letter": (32, r"^[A-Za-z]+$"),
    "symbol": (5, None),
    "character_string": (32, r"^[\x21-\x7e]+$"),
    "time": (40, None),
    "date": (40, None),
    "amount": (14, r"^[¥$€£]?\d{1,10}(\.\d+)?元?$"),
    "phone_number": (17, r"^[\d+\-]+$"),
    "car_number": (8, None),
    "name": (20, None),
    "phrase": (5, rf"^[{CJK}]+$"),
}


def fields(body: str) -> dict[str, str]:
    """The template body as data fields: `key=value|key=value`, or one text for thing1."""
    if not re.match(r"^[a-z_]+\d+=", body):
        return {"thing1": body}
    pairs = [part.split("=", 1) for part in body.split("|")]
    return {key.strip(): value for key, value in pairs}


def field_problem(key: str, value: str) -> str | None:
    kind = FIELD.match(key)
    if kind is None:
        return f"data field {key} is not a WeChat field name (thing1, phrase2, number3 …)"
    longest, allowed = LIMITS[kind.group(1)]
    if kind.group(1) == "name" and re.search(f"[{CJK}]", value):
        longest = 10                       # a Chinese name: 10 characters
    if not value or len(value) > longest:
        return f"data field {key} '{value}' must be 1 to {longest} characters"
    if allowed and not re.match(allowed, value):
        return f"data field {key} '{value}' is not a valid {kind.group(1)} value"
    return None


def write(outbox, campaign_id: str, contacts: list[Contact], template: Template) -> dict:
    if not template.provider_template:
        raise PreSendError(f"wechat {campaign_id}: template {template.template_id} has no WeChat template_id")
    by_hour: dict[str, list[str]] = {}
    for contact in contacts:
        data = {key: render(value, {"offer": contact.offer_text, "link": contact.link})
                for key, value in fields(template.body).items()}
        problems = [p for p in (field_problem(k, v) for k, v in sorted(data.items())) if p]
        if problems:
            raise PreSendError(f"wechat {campaign_id}: " + "; ".join(problems))
        by_hour.setdefault(contact.send_at.strftime("%H00"), []).append(json.dumps({
            "touser": contact.address,
            "template_id": template.provider_template,
            "page": contact.link,
            "data": {key: {"value": value} for key, value in data.items()},
            "miniprogram_state": "formal",
            "lang": "zh_CN",
        }, ensure_ascii=False, sort_keys=True))
    for hour, lines in sorted(by_hour.items()):
        outbox.write_text("wechat", f"wechat/{campaign_id}/subscribe_{hour}.jsonl", "".join(line + "\n" for line in lines),
                          len(lines), [campaign_id])
    return {"messages": len(contacts)}


def send(outbox, campaign: Campaign, contacts: list[Contact]) -> dict:
    return write(outbox, campaign.campaign_id, contacts, campaign.template)
