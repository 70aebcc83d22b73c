"""Ad-platform audiences ("multi-scene display"): the same persons normalised and hashed the way
each platform wants, never a clear phone or email in any file.

- Meta custom audiences: CSV `phone,email`; phone as digits with the country code and no `+`
  (8613812345678), email trimmed and lower-cased; SHA-256 hex; ≤ 10,000 rows per file.
- Google Customer Match: CSV `Email,Phone,First Name,Last Name,Country,Zip`; phone in E.164
  (+8613812345678) and email lower-cased before SHA-256; Country CN; names and zip empty.
- Tencent Ads 号码包: a zip holding one MD5 (lower-case hex) of the bare 11-digit number per line
  (HASH_MOBILE_PHONE).
- Ocean Engine DMP: one MD5 of the 11-digit number per line (data type 17).
Each file's rows are the persons with a usable identifier for it (the match base)."""

import csv
import hashlib
import io
import zipfile

from orchestration.lib.channels import Campaign, Contact, batches

META_MAX_ROWS = 10_000


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def md5(value: str) -> str:
    return hashlib.md5(value.encode("utf-8")).hexdigest()


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write(outbox, campaign_id: str, contacts: list[Contact]) -> dict:
    phones = [c.address for c in contacts if c.address]                  # E.164, +86…
    emails = [c.email.strip().lower() if c.email else "" for c in contacts]
    meta_rows = [[sha256(c.address.lstrip("+")) if c.address else "", sha256(e) if e else ""]
                 for c, e in zip(contacts, emails)]
    for number, batch in enumerate(batches(meta_rows, META_MAX_ROWS), start=1):
        outbox.write_text("ads", f"ads/{campaign_id}/meta_{number:04d}.csv", _csv(["phone", "email"], batch),
                          len(batch), [campaign_id])
    google_rows = [[sha256(e) if e else "", sha256(c.address) if c.address else "", "", "", "CN", ""]
                   for c, e in zip(contacts, emails)]
    outbox.write_text("ads", f"ads/{campaign_id}/google_customer_match.csv",
                      _csv(["Email", "Phone", "First Name", "Last Name", "Country", "Zip"], google_rows),
                      len(google_rows), [campaign_id])
    national = sorted({p.removeprefix("+86") for p in phones})
    lines = "".join(md5(p) + "\n" for p in national)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("HASH_MOBILE_PHONE.txt", date_time=(2000, 1, 1, 0, 0, 0))   # fixed: same bytes on re-run
        zf.writestr(info, lines)
    outbox.write_bytes("ads", f"ads/{campaign_id}/tencent_hash_mobile_phone.zip", archive.getvalue(),
                       len(national), [campaign_id])
    outbox.write_text("ads", f"ads/{campaign_id}/oceanengine_md5_phone.txt", lines, len(national), [campaign_id])
    return {"messages": len(contacts), "match_base_phone": len(national),
            "match_base_email": sum(1 for e in emails if e)}


def send(outbox, campaign: Campaign, contacts: list[Contact]) -> dict:
    return write(outbox, campaign.campaign_id, contacts)
