"""SMS: Alibaba Cloud SendBatchSms request batches (≤ 100 numbers each, one signature per number,
one TemplateCode, one parameter object per number, OutId = campaign id) per campaign and send
hour, and a plain CSV (phone, content, send_at, campaign_id, segments) for other gateways."""

from __future__ import annotations

import csv
import io
import json
import math
import re

from orchestration.lib.channels import Contact, PreSendError, Template, batches, render

UNSUBSCRIBE = "拒收请回复R"
SINGLE_SEGMENT = 70       # characters, signature included
MULTI_SEGMENT = 67        # per segment once longer


def segments(text: str, sign_name: str) -> int:
    length = len(f"【{sign_name}】{text}")
    return 1 if length <= SINGLE_SEGMENT else math.ceil(length / MULTI_SEGMENT)


def check(template: Template, blocked_words: list[str], sample: str | None = None) -> list[str]:
    """Problems with an SMS template (and a rendered sample): the unsubscribe ending, no 【】 (the
    platform adds the signature), a space before and after each link, no blocked word."""
    problems = []
    for label, text in (("template", template.body), ("message", sample)):
        if text is None:
            continue
        if not text.endswith(UNSUBSCRIBE):
            problems.append(f"{label} must end with {UNSUBSCRIBE}")
        if "【" in text or "】" in text:
            problems.append(f"{label} must not contain 【】: the platform adds the signature")
        problems += [f"{label} contains the blocked word {word}" for word in blocked_words if word in text]
    text = template.body if sample is None else sample
    for match in re.finditer(r"\$\{link\}|https?://\S+", text):
        if not text[:match.start()].endswith(" ") or not text[match.end():].startswith(" "):
            problems.append("a link needs a space before and after it, or phones cut it")
    return sorted(set(problems))


def national(phone: str) -> str:
    """Alibaba takes mainland numbers as 11 digits."""
    return phone[3:] if phone.startswith("+86") else phone


def write(outbox, campaign_id: str, contacts: list[Contact], template: Template, sign_name: str,
          price_per_segment: float, batch_size: int, blocked_words: list[str]) -> dict:
    messages = [(c, render(template.body, {"offer": c.offer_text, "link": c.link})) for c in contacts]
    for _, text in messages:
        problems = check(template, blocked_words, text)
        if problems:
            raise PreSendError(f"SMS {campaign_id}: " + "; ".join(problems))
    if not template.provider_template:
        raise PreSendError(f"SMS {campaign_id}: template {template.template_id} has no provider TemplateCode")
    by_hour: dict[str, list[tuple[Contact, str]]] = {}
    for contact, text in messages:
        by_hour.setdefault(contact.send_at.strftime("%H00"), []).append((contact, text))
    for hour, group in sorted(by_hour.items()):
        for number, batch in enumerate(batches(group, batch_size), start=1):
            request = {
                "PhoneNumberJson": json.dumps([national(c.address) for c, _ in batch]),
                "SignNameJson": json.dumps([sign_name] * len(batch), ensure_ascii=False),
                "TemplateCode": template.provider_template,
                "TemplateParamJson": json.dumps([{"offer": c.offer_text, "link": c.link} for c, _ in batch],
                                                ensure_ascii=False),
                "OutId": campaign_id,
            }
            outbox.write_text("sms", f"sms/{campaign_id}/send_{hour}_batch_{number:04d}.json",
                              json.dumps(request, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                              len(batch), [campaign_id])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["phone", "content", "send_at", "campaign_id", "segments"])
    total_segments = 0
    billed: dict[str, float] = {}
    for contact, text in messages:
        count = segments(text, sign_name)
        total_segments += count
        billed[contact.person_id] = count * price_per_segment
        writer.writerow([national(contact.address), text, contact.send_at.strftime("%Y-%m-%d %H:%M:%S"),
                         campaign_id, count])
    outbox.write_text("sms", f"sms/{campaign_id}.csv", buffer.getvalue(), len(messages), [campaign_id])
    return {"messages": len(messages), "segments": total_segments, "cost": round(total_segments * price_per_segment, 2),
            "cost_by_person": billed}
