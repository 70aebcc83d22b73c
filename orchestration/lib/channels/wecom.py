"""WeCom customer messages: one `add_msg_template` task per owner (the staff member who owns the
contacts) with chat_type single, ≤ 10,000 external user ids, text ≤ 4,000 bytes. The text is
shared by the task, so its link carries the campaign only (no per-person token)."""

from __future__ import annotations

import json

from orchestration.lib.channels import Campaign, Contact, PreSendError, Template, batches, render

MAX_PER_TASK = 10_000
MAX_TEXT_BYTES = 4000


def write(outbox, campaign_id: str, contacts: list[Contact], template: Template, batch_size: int,
          campaign_link: str) -> dict:
    by_owner: dict[str, list[Contact]] = {}
    for contact in contacts:
        by_owner.setdefault(contact.owner or "", []).append(contact)
    if "" in by_owner:
        raise PreSendError(f"wecom {campaign_id}: {len(by_owner[''])} contacts have no owner")
    tasks = 0
    for owner, group in sorted(by_owner.items()):
        text = render(template.body, {"offer": group[0].offer_text, "link": campaign_link})
        if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise PreSendError(f"wecom {campaign_id}: text over {MAX_TEXT_BYTES} bytes")
        for number, batch in enumerate(batches(group, min(batch_size, MAX_PER_TASK)), start=1):
            task = {"chat_type": "single", "external_userid": [c.address for c in batch], "sender": owner,
                    "text": {"content": text}}
            outbox.write_text("wecom", f"wecom/{campaign_id}/{owner}_{number:04d}.json",
                              json.dumps(task, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                              len(batch), [campaign_id])
            tasks += 1
    return {"messages": len(contacts), "tasks": tasks}


def send(outbox, campaign: Campaign, contacts: list[Contact]) -> dict:
    return write(outbox, campaign.campaign_id, contacts, campaign.template, campaign.batch_size, campaign.link)
