"""SMS: Alibaba Cloud SendBatchSms request batches (≤ 100 numbers each, one signature per number,
one TemplateCode, one parameter object per number, OutId = campaign id) per campaign and send
hour, a plain CSV (phone, content, send_at, campaign_id, segments) for other gateways, and the
campaign's short links (`links/<campaign>.csv`: code → landing link) for the short-link service.

Links are never template variables: Tencent Cloud and Huawei refuse a link in a variable and
Alibaba Cloud caps a variable's value (35 characters for most types). The template holds the
short link as fixed text, `<short_link_base>${code}`, and the per-person `${code}` (11 characters)
is the only part that varies; it resolves to `<landing_base_url>?c=<campaign>&t=<token>`.
Recall is promotional content (营销短信 / 推广短信): register the templates under that type."""

from __future__ import annotations

import csv
import io
import json
import math
import re

from orchestration.lib.channels import Campaign, LINK, Contact, PreSendError, Template, batches, render, spreadsheet_safe, variables

UNSUBSCRIBE = "拒收请回复R"
SINGLE_SEGMENT = 70       # characters, signature included
MULTI_SEGMENT = 67        # per segment once longer
VARIABLES = {"offer", "code"}
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def segments(text: str, sign_name: str) -> int:
    length = len(f"【{sign_name}】{text}")
    return 1 if length <= SINGLE_SEGMENT else math.ceil(length / MULTI_SEGMENT)


def short_code(token: str) -> str:
    """The person's 64-bit hex token in base 62: 11 characters, unique per campaign and person."""
    number, digits = int(token, 16), []
    while number:
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits)).rjust(11, "0")


def check(template: Template, blocked_words: list[str], short_link_base: str, sample: str | None = None) -> list[str]:
    """Problems with an SMS template (and a rendered sample): the unsubscribe ending, no 【】 (the
    platform adds the signature), links only as fixed text on the short-link domain, only the
    variables ${offer} and ${code}, a space before and after each link, no blocked word."""
    problems = []
    for label, text in (("template", template.body), ("message", sample)):
        if text is None:
            continue
        if not text.endswith(UNSUBSCRIBE):
            problems.append(f"{label} must end with {UNSUBSCRIBE}")
        if "【" in text or "】" in text:
            problems.append(f"{label} must not contain 【】: the platform adds the signature")
        problems += [f"{label} contains the blocked word {word}" for word in blocked_words if word in text]
    if "link" in variables(template.body):
        problems.append("a link may not be a template variable (Tencent Cloud and Huawei refuse it, Alibaba Cloud "
                        f"caps a variable at 35 characters): write the short link as fixed text, {short_link_base}${{code}}")
    problems += [f"template variable ${{{name}}} is not one of ${{offer}}, ${{code}}"
                 for name in sorted(variables(template.body) - VARIABLES - {"link"})]
    for match in re.finditer(r"https?://\S+", template.body):
        if not match.group().startswith(short_link_base):
            problems.append(f"the link {match.group()} is not on the short-link domain {short_link_base} "
                            "(recall_settings.short_link_base)")
    text = template.body if sample is None else sample
    for match in re.finditer(r"\$\{link\}|https?://\S+", text):
        if not text[:match.start()].endswith(" ") or not text[match.end():].startswith(" "):
            problems.append("a link needs a space before and after it, or phones cut it")
    return sorted(set(problems))


def check_values(values: dict[str, str], max_chars: int) -> list[str]:
    """A variable's value within the vendors' limit and never a link."""
    problems = [f"${{{name}}} = '{value}' is over {max_chars} characters (recall_settings.sms_variable_max_chars)"
                for name, value in sorted(values.items()) if len(value) > max_chars]
    problems += [f"${{{name}}} = '{value}' holds a link, which no gateway accepts in a variable"
                 for name, value in sorted(values.items()) if name != "code" and LINK.search(value)]
    return problems


def national(phone: str) -> str:
    """Alibaba takes mainland numbers as 11 digits."""
    return phone[3:] if phone.startswith("+86") else phone


def write(outbox, campaign_id: str, contacts: list[Contact], template: Template, sign_name: str,
          price_per_segment: float, batch_size: int, blocked_words: list[str], short_link_base: str,
          variable_max_chars: int) -> dict:
    problems = check(template, blocked_words, short_link_base)
    if problems:
        raise PreSendError(f"SMS {campaign_id}: " + "; ".join(problems))
    if not template.provider_template:
        raise PreSendError(f"SMS {campaign_id}: template {template.template_id} has no provider TemplateCode")
    used = variables(template.body)
    messages = []
    for contact in contacts:
        values = {name: value for name, value in (("offer", contact.offer_text), ("code", short_code(contact.token)))
                  if name in used}
        text = render(template.body, values)
        problems = check_values(values, variable_max_chars) + check(template, blocked_words, short_link_base, text)
        if problems:
            raise PreSendError(f"SMS {campaign_id}: " + "; ".join(problems))
        messages.append((contact, values, text))
    by_hour: dict[str, list[tuple[Contact, dict, str]]] = {}
    for message in messages:
        by_hour.setdefault(message[0].send_at.strftime("%H00"), []).append(message)
    for hour, group in sorted(by_hour.items()):
        for number, batch in enumerate(batches(group, batch_size), start=1):
            request = {
                "PhoneNumberJson": json.dumps([national(c.address) for c, _, _ in batch]),
                "SignNameJson": json.dumps([sign_name] * len(batch), ensure_ascii=False),
                "TemplateCode": template.provider_template,
                "TemplateParamJson": json.dumps([values for _, values, _ in batch], ensure_ascii=False, sort_keys=True),
                "OutId": campaign_id,
            }
            outbox.write_text("sms", f"sms/{campaign_id}/send_{hour}_batch_{number:04d}.json",
                              json.dumps(request, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                              len(batch), [campaign_id])
    if "code" in used:
        links = io.StringIO()
        writer = csv.writer(links, lineterminator="\n")
        writer.writerow(["code", "campaign_id", "url"])
        writer.writerows([values["code"], campaign_id, contact.link] for contact, values, _ in messages)
        outbox.write_text("links", f"links/{campaign_id}.csv", links.getvalue(), len(messages), [campaign_id])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["phone", "content", "send_at", "campaign_id", "segments"])
    total_segments = 0
    billed: dict[str, float] = {}
    for contact, _, text in messages:
        count = segments(text, sign_name)
        total_segments += count
        billed[contact.person_id] = count * price_per_segment
        writer.writerow([national(contact.address), spreadsheet_safe(text), contact.send_at.strftime("%Y-%m-%d %H:%M:%S"),
                         campaign_id, count])
    outbox.write_text("sms", f"sms/{campaign_id}.csv", buffer.getvalue(), len(messages), [campaign_id])
    longest = max((segments(text, sign_name) for _, _, text in messages), default=0)
    return {"messages": len(messages), "segments": total_segments, "cost": round(total_segments * price_per_segment, 2),
            "cost_by_person": billed, "max_segments": longest}


def pre_send(campaign: Campaign) -> list[str]:
    return check(campaign.template, list(campaign.blocked_words), campaign.short_link_base)


def send(outbox, campaign: Campaign, contacts: list[Contact]) -> dict:
    result = write(outbox, campaign.campaign_id, contacts, campaign.template, campaign.sign_name,
                   campaign.cost_per_message, campaign.batch_size, list(campaign.blocked_words),
                   campaign.short_link_base, campaign.sms_variable_max)
    longest = result.pop("max_segments")
    if longest > 1:
        result["warnings"] = [f"SMS {campaign.campaign_id}: messages of up to {longest} segments, each billed "
                              f"{longest} × {campaign.cost_per_message} CNY: shorten template "
                              f"{campaign.template.template_id} to one segment (70 characters with the signature)"]
    return result
