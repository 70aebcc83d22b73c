"""Email: a Mailchimp-style CSV import per campaign — `Email Address` first, then the offer, the
landing link and the unsubscribe link every email must carry (opaque token, never the address),
the send day as YYYY-MM-DD; UTF-8, text fields within 255 bytes. Email needs an explicit opt-in
(checked before the audience is built and again before writing)."""

import csv
import io

from orchestration.lib.channels import Campaign, Contact, PreSendError, spreadsheet_safe

MAX_FIELD_BYTES = 255


def write(outbox, campaign_id: str, contacts: list[Contact], unsubscribe_base: str) -> dict:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Email Address", "Offer", "Link", "Unsubscribe", "Send Date", "Campaign"])
    for contact in contacts:
        row = [contact.address, spreadsheet_safe(contact.offer_text), contact.link,
               f"{unsubscribe_base}?t={contact.token}", contact.send_at.strftime("%Y-%m-%d"), campaign_id]
        too_long = [value for value in row if len(value.encode("utf-8")) > MAX_FIELD_BYTES]
        if too_long:
            raise PreSendError(f"email {campaign_id}: a field is over {MAX_FIELD_BYTES} bytes: {too_long[0][:40]}…")
        writer.writerow(row)
    outbox.write_text("email", f"email/{campaign_id}.csv", buffer.getvalue(), len(contacts), [campaign_id])
    return {"messages": len(contacts)}


def send(outbox, campaign: Campaign, contacts: list[Contact]) -> dict:
    return write(outbox, campaign.campaign_id, contacts, f"{campaign.landing_url}/unsubscribe")
