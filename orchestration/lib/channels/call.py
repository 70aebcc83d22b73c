"""Outbound calls, in two forms of the same list:
- `call/<campaign>.csv`: the generic call-centre CSV (calleeNumber, outId, offer, call window),
  which Huawei CEC and most call centres import;
- `call/<campaign>/aiccs_<n>.json`: Alibaba AICCS `ImportTaskNumberDatas` number lists,
  ≤ 1,000 entries each: calleeNumber, outId, and one key per script variable (offer).
The window is the contact's send_at to the end of the channel's window; calls never land on
weekday noon (the audience's send_at avoids 12–14). Text in the CSV that starts like a formula is
kept as text (`'=…`): call-centre staff open it in Excel."""

from __future__ import annotations

import csv
import io
import json

from orchestration.lib.channels import Campaign, Contact, batches, spreadsheet_safe

AICCS_MAX_PER_REQUEST = 1000


def write(outbox, campaign_id: str, contacts: list[Contact], window_end_hour: int) -> dict:
    rows = [{"calleeNumber": c.address.removeprefix("+86"), "outId": f"{campaign_id}:{c.token}",
             "offer": c.offer_text, "call_from": c.send_at.strftime("%Y-%m-%d %H:%M"),
             "call_to": c.send_at.strftime(f"%Y-%m-%d {window_end_hour:02d}:00")} for c in contacts]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["calleeNumber", "outId", "offer", "call_from", "call_to"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows({**row, "offer": spreadsheet_safe(row["offer"])} for row in rows)
    outbox.write_text("call", f"call/{campaign_id}.csv", buffer.getvalue(), len(contacts), [campaign_id])
    requests = 0
    for number, batch in enumerate(batches(rows, AICCS_MAX_PER_REQUEST), start=1):
        numbers = [{"calleeNumber": r["calleeNumber"], "outId": r["outId"], "offer": r["offer"]} for r in batch]
        outbox.write_text("call", f"call/{campaign_id}/aiccs_{number:04d}.json",
                          json.dumps(numbers, ensure_ascii=False, indent=2) + "\n", len(batch), [campaign_id])
        requests += 1
    return {"messages": len(contacts), "requests": requests}


def send(outbox, campaign: Campaign, contacts: list[Contact]) -> dict:
    return write(outbox, campaign.campaign_id, contacts, campaign.window_end_hour)
