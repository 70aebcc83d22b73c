"""WeChat official-account template messages, one JSON object per line (the body of the
`message/template/send` call): touser (the official account's openid), template_id, url (the
landing link), client_msg_id (campaign and token: WeChat drops a repeat), data. The template body
fills the `thing1` field, which takes at most 20 characters."""

from __future__ import annotations

import json

from orchestration.lib.channels import Contact, PreSendError, Template, render

THING_MAX = 20


def write(outbox, campaign_id: str, contacts: list[Contact], template: Template) -> dict:
    if not template.provider_template:
        raise PreSendError(f"wechat {campaign_id}: template {template.template_id} has no WeChat template_id")
    lines = []
    for contact in contacts:
        value = render(template.body, {"offer": contact.offer_text, "link": contact.link})
        if len(value) > THING_MAX:
            raise PreSendError(f"wechat {campaign_id}: thing1 '{value}' is over {THING_MAX} characters")
        token = contact.link.rsplit("=", 1)[-1]
        lines.append(json.dumps({
            "touser": contact.address,
            "template_id": template.provider_template,
            "url": contact.link,
            "client_msg_id": f"{campaign_id}-{token}",
            "data": {"thing1": {"value": value}},
            "send_at": contact.send_at.strftime("%Y-%m-%d %H:%M:%S"),
        }, ensure_ascii=False, sort_keys=True))
    outbox.write_text("wechat", f"wechat/{campaign_id}.jsonl", "".join(line + "\n" for line in lines),
                      len(lines), [campaign_id])
    return {"messages": len(lines)}
