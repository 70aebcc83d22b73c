"""Channel writers: one module per sending system's format, named as the channel is in the
recall_channels seed (adding a channel = one module here + one seed row). Each takes the day's
contacts of one campaign (already eligible, consent re-checked, control group removed) and writes
files into a DayOutbox.

Every module has the same interface, which the outbox calls (orchestration/lib/recall_outbox.py):
    send(outbox, campaign: Campaign, contacts: list[Contact]) -> dict
        writes the files; returns at least {"messages": n}, optionally "cost" (else messages ×
        cost_per_message), "cost_by_person" and "warnings" (strings the run logs);
    pre_send(campaign: Campaign) -> list[str]          (optional)
        the template's problems on this channel, checked for every campaign of the run before any
        file is written.
Its own `write`/`check` keep the channel's natural arguments (the channel tests call them)."""

from __future__ import annotations

import importlib
import re
import string
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType


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


@dataclass(frozen=True)
class Campaign:
    """One campaign on one channel: what a writer may need besides the contacts (its template,
    the channel's row of recall_channels, the recall settings)."""

    campaign_id: str
    template: Template
    cost_per_message: float
    window_end_hour: int
    batch_size: int
    sign_name: str | None
    landing_url: str                 # the campaign's landing page; links add ?c=<campaign>&t=<token>
    blocked_words: tuple[str, ...] = ()
    short_link_base: str = ""
    sms_variable_max: int = 0

    @property
    def link(self) -> str:
        return f"{self.landing_url}?c={self.campaign_id}"


def writer(channel: str) -> ModuleType:
    """The writer module of a channel (orchestration/lib/channels/<channel>.py)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", channel or ""):
        raise LookupError(f"channel {channel!r} is not a module name")
    try:
        module = importlib.import_module(f"{__name__}.{channel}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{channel}":
            raise
        raise LookupError(f"no writer for channel {channel!r} (orchestration/lib/channels/{channel}.py)") from None
    if not callable(getattr(module, "send", None)):
        raise LookupError(f"orchestration/lib/channels/{channel}.py has no send(outbox, campaign, contacts)")
    return module


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
