"""Outbound calls: a generic call-centre CSV (calleeNumber, outId, offer, call window). The window
is the contact's send_at to the end of the channel's window; calls never land on weekday noon."""

from __future__ import annotations

import csv
import io

from orchestration.lib.channels import Contact


def write(outbox, campaign_id: str, contacts: list[Contact], window_end_hour: int) -> dict:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["calleeNumber", "outId", "offer", "call_from", "call_to"])
    for contact in contacts:
        token = contact.link.rsplit("=", 1)[-1]
        writer.writerow([contact.address.removeprefix("+86"), f"{campaign_id}:{token}", contact.offer_text,
                         contact.send_at.strftime("%Y-%m-%d %H:%M"), contact.send_at.strftime(f"%Y-%m-%d {window_end_hour:02d}:00")])
    outbox.write_text("call", f"call/{campaign_id}.csv", buffer.getvalue(), len(contacts), [campaign_id])
    return {"messages": len(contacts)}
