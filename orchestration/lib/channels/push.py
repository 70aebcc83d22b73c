"""App push: JPush push requests per campaign and send hour, ≤ 1,000 registration ids (the
person's latest push token) or ≤ 1,000 aliases (the member id, which apps set as the alias) each;
FCM tokens go to FCM multicast messages of ≤ 500 tokens instead. The message is the same for every
recipient of a request, so a push body may use ${offer} only, and the landing link it opens (in
JPush's `extras`, FCM's `data`) carries the campaign; the app adds the logged-in member, so a
click is attributed. JPush requests carry no `cid`: a cid is only valid when fetched from
JPush's `/v3/push/cid` by the sender (optional; JPush de-duplicates repeats by it).

The input contract's `push_token` holds either kind; they are told apart by shape: an FCM
registration token is long (100+ characters) with a `:` after its instance id, a JPush
registration id is a short hex string."""

from __future__ import annotations

import json

from orchestration.lib.channels import Campaign, Contact, PreSendError, Template, batches, render, variables

MAX_PER_REQUEST = 1000
FCM_MAX_PER_MULTICAST = 500


def is_fcm_token(token: str) -> bool:
    return len(token) >= 100 and ":" in token


def check(template: Template) -> list[str]:
    extra = variables(template.body) - {"offer"}
    return [f"a push body is shared by a whole batch and cannot use ${{{name}}}" for name in sorted(extra)]


def write(outbox, campaign_id: str, contacts: list[Contact], template: Template, batch_size: int,
          campaign_link: str) -> dict:
    problems = check(template)
    if problems:
        raise PreSendError(f"push {campaign_id}: " + "; ".join(problems))
    size = min(batch_size, MAX_PER_REQUEST)
    groups: dict[tuple[str, str], list[Contact]] = {}
    for contact in contacts:
        kind = "fcm" if contact.address_kind == "registration_id" and is_fcm_token(contact.address) else contact.address_kind
        groups.setdefault((kind, contact.send_at.strftime("%H00")), []).append(contact)
    requests = 0
    for (kind, hour), group in sorted(groups.items()):
        alert = render(template.body, {"offer": group[0].offer_text})
        extras = {"campaign_id": campaign_id, "url": campaign_link}
        if kind == "fcm":
            for number, batch in enumerate(batches(group, min(batch_size, FCM_MAX_PER_MULTICAST)), start=1):
                # The body of firebase_admin.messaging.MulticastMessage / send_each_for_multicast.
                message = {"tokens": [c.address for c in batch], "notification": {"body": alert},
                           "data": extras, "android": {"ttl": "86400s"}}
                outbox.write_text("push", f"push/{campaign_id}/fcm_{hour}_{number:04d}.json",
                                  json.dumps(message, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                  len(batch), [campaign_id])
                requests += 1
            continue
        for number, batch in enumerate(batches(group, size), start=1):
            request = {
                "platform": "all",
                "audience": {kind: [c.address for c in batch]},
                "notification": {"alert": alert, "android": {"alert": alert, "extras": extras},
                                 "ios": {"alert": alert, "extras": extras}},
                "options": {"time_to_live": 86400},
            }
            outbox.write_text("push", f"push/{campaign_id}/jpush_{kind}_{hour}_{number:04d}.json",
                              json.dumps(request, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                              len(batch), [campaign_id])
            requests += 1
    return {"messages": len(contacts), "requests": requests}


def pre_send(campaign: Campaign) -> list[str]:
    return check(campaign.template)


def send(outbox, campaign: Campaign, contacts: list[Contact]) -> dict:
    return write(outbox, campaign.campaign_id, contacts, campaign.template, campaign.batch_size, campaign.link)
