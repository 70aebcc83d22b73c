"""Channel writers: one module per sending system's format. Each takes the day's contacts of one
campaign (already eligible, consent re-checked, control group removed) and writes files into a
DayOutbox; `check` refuses a campaign whose template breaks the channel's rules before anything
is written."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime


class PreSendError(ValueError):
    """A campaign fails its pre-send checks: nothing of the day is written."""


@dataclass(frozen=True)
class Contact:
    campaign_id: str
    person_id: str
    send_at: datetime
    address: str                   # the clear identifier the channel needs
    address_kind: str              # phone, registration_id, alias, openid, external_userid, email
    owner: str | None              # WeCom: the staff member who owns the contact
    link: str                      # landing link with campaign id and the person's opaque token
    offer_text: str
    email: str | None = None       # ads: the person's email beside the phone in `address`

    @property
    def token(self) -> str:
        """The person's opaque token for this campaign (the link's `t`)."""
        return self.link.rsplit("=", 1)[-1]


@dataclass(frozen=True)
class Template:
    template_id: str
    channel: str
    body: str
    provider_template: str | None


def variables(body: str) -> set[str]:
    return {named or braced for _, named, braced, _ in string.Template.pattern.findall(body) if named or braced}


def render(body: str, values: dict[str, str]) -> str:
    """The body with every ${variable} filled; a variable without a value fails the campaign."""
    missing = variables(body) - set(values)
    if missing:
        raise PreSendError(f"template variables without a value: {', '.join(sorted(missing))}")
    return string.Template(body).substitute(values)


def batches(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


LINK = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:cn|com|net|org|top|xyz|io|me|cc|vip|shop)\b", re.IGNORECASE)


def spreadsheet_safe(value: str) -> str:
    """A free-text value for a CSV people open in Excel: one starting like a formula is quoted
    with an apostrophe so it stays text (phones and ids are never passed through this)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
