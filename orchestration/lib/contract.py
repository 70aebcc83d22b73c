"""The input contract (../shared/spec/input-contract.md) as data: one `SourceSpec` per source.

Value rules (allowed statuses, ranges, …) live in the Great Expectations suites in
`expectations/<source>.json`; this module only says which columns exist, which are required,
and how each column is parsed or normalised before those rules run.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from orchestration.settings import SEEDS_DIR


@dataclass(frozen=True)
class SourceSpec:
    name: str
    key: str                          # the column that identifies a record
    event_time: str                   # the timestamp the record happened at (future-event rule)
    columns: tuple[str, ...]          # contract columns, in order
    required: tuple[str, ...]
    timestamps: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    decimals: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    # (type column, value column): the value is normalised by the identifier type on its row.
    typed_identifier: tuple[str, str] | None = None
    description: str = ""
    # column → what an empty cell means: another column's value (str) or a constant
    defaults: dict[str, str | float] = field(default_factory=dict)
    # Enumerated columns: read case-, width- and whitespace-insensitively through seeds/value_aliases.csv.
    enums: tuple[str, ...] = ()
    # Where people are concerned (consent, STOP replies) an unreadable delivery stops the run.
    fail_closed: bool = False
    # column → identifier type, for the columns that identify a person (erasure blanks them).
    identifiers: dict[str, str] = field(default_factory=dict)


ONLINE = SourceSpec(
    name="online", key="event_id", event_time="event_time",
    description="App, web, H5 and mini-program events.",
    columns=("event_id", "event_time", "event_type", "platform", "device_id", "push_token",
             "member_id", "phone", "email", "wechat_openid", "wechat_unionid", "content_category",
             "item_id", "campaign_id", "acquisition_channel"),
    required=("event_id", "event_time", "event_type"),
    timestamps=("event_time",), phones=("phone",), emails=("email",),
    ids=("event_id", "device_id", "push_token", "member_id", "wechat_openid", "wechat_unionid",
         "item_id", "campaign_id"),
    identifiers={c: c for c in ("device_id", "push_token", "member_id", "phone", "email", "wechat_openid",
                                "wechat_unionid")},
)

OFFLINE = SourceSpec(
    name="offline", key="record_id", event_time="record_time",
    description="Store visits, POS member desks, event check-ins, surveys, in-store Wi-Fi.",
    columns=("record_id", "record_time", "record_type", "store_id", "store_city", "member_card_no",
             "phone", "name", "gender", "birthday", "city"),
    required=("record_id", "record_time", "record_type"),
    timestamps=("record_time",), dates=("birthday",), phones=("phone",), enums=("record_type",),
    ids=("record_id", "store_id", "member_card_no"),
    identifiers={"member_card_no": "member_card_no", "phone": "phone"},
)

SALES = SourceSpec(
    name="sales", key="order_id", event_time="order_time",
    description="Orders from every channel; refunds and cancellations arrive as new versions.",
    columns=("order_id", "order_time", "updated_at", "status", "amount", "refund_amount", "channel",
             "store_id", "member_id", "member_card_no", "phone", "email", "wechat_openid",
             "item_count", "category", "coupon_id", "campaign_id"),
    required=("order_id", "order_time", "status", "amount"),
    timestamps=("order_time", "updated_at"), decimals=("amount", "refund_amount"), enums=("status",),
    integers=("item_count",), phones=("phone",), emails=("email",),
    ids=("order_id", "store_id", "member_id", "member_card_no", "wechat_openid", "coupon_id",
         "campaign_id"),
    defaults={"updated_at": "order_time", "refund_amount": 0.0},
    identifiers={c: c for c in ("member_id", "member_card_no", "phone", "email", "wechat_openid")},
)

SOCIAL = SourceSpec(
    name="social", key="interaction_id", event_time="interaction_time",
    description="WeChat official account, WeCom, Weibo and Douyin interactions.",
    columns=("interaction_id", "interaction_time", "platform", "action", "wechat_openid",
             "wechat_unionid", "wecom_external_userid", "wecom_owner", "weibo_uid", "douyin_id",
             "phone", "content_category", "invitee_openid", "follower_count"),
    required=("interaction_id", "interaction_time", "platform", "action"),
    timestamps=("interaction_time",), integers=("follower_count",), phones=("phone",), enums=("platform", "action"),
    ids=("interaction_id", "wechat_openid", "wechat_unionid", "wecom_external_userid",
         "wecom_owner", "weibo_uid", "douyin_id", "invitee_openid"),
    identifiers={**{c: c for c in ("wechat_openid", "wechat_unionid", "wecom_external_userid", "weibo_uid",
                                   "douyin_id", "phone")}, "invitee_openid": "wechat_openid"},
)

CONSENT = SourceSpec(
    name="consent", key="consent_id", event_time="event_time",
    description="Opt-ins and opt-outs per channel and identifier.",
    columns=("consent_id", "event_time", "channel", "identifier_type", "identifier_value", "status",
             "source"),
    required=("consent_id", "event_time", "channel", "identifier_type", "identifier_value", "status"),
    timestamps=("event_time",), ids=("consent_id",), enums=("channel", "identifier_type", "status"),
    typed_identifier=("identifier_type", "identifier_value"), fail_closed=True,
)

SMS_REPLIES = SourceSpec(
    name="sms_replies", key="reply_key", event_time="replied_at",
    description=("Replies to our SMS as the gateways export them (uplink / MO reports); an unsubscribe word "
                 "(seeds/unsubscribe_words.csv) is an SMS opt-out of the replying phone."),
    columns=("phone", "content", "replied_at", "sign_name", "gateway"),
    required=("phone", "content", "replied_at"),
    timestamps=("replied_at",), phones=("phone",), fail_closed=True, identifiers={"phone": "phone"},
)

# Read by the erasure step, never stored as delivered (orchestration/lib/erasure.py); a request
# that cannot be read fails the run (it cannot be carried out, and must not be dropped).
ERASURE = SourceSpec(
    name="erasure", key="request_id", event_time="requested_at",
    description="Requests to erase a person (PIPL Art. 47), one identifier each.",
    columns=("request_id", "requested_at", "identifier_type", "identifier_value"),
    required=("request_id", "requested_at", "identifier_type", "identifier_value"),
    timestamps=("requested_at",), ids=("request_id",), enums=("identifier_type",),
    typed_identifier=("identifier_type", "identifier_value"),
)

# The sources loaded into `raw`, and every folder the landing zone may hold.
SOURCES: dict[str, SourceSpec] = {s.name: s for s in (ONLINE, OFFLINE, SALES, SOCIAL, CONSENT, SMS_REPLIES)}
LANDING_SPECS: dict[str, SourceSpec] = {**SOURCES, ERASURE.name: ERASURE}


# --- reading names and values as exporters write them ---------------------------------------------

def name_key(text: object) -> str:
    """A header or enumerated value compared case-, width- and whitespace-insensitively:
    NFKC, trimmed, lower-cased, runs of spaces and hyphens as one underscore (`OPT-OUT` → `opt_out`)."""
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", str(text)).strip().lower())


def _seed_rows(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=None)
def column_aliases(source: str) -> dict[str, str]:
    """Header (as `name_key`) → contract column, from seeds/column_aliases.csv (`*` = every source)."""
    spec = LANDING_SPECS[source]
    aliases = {name_key(c): c for c in spec.columns}
    for row in _seed_rows("column_aliases.csv"):
        if row["source"] in ("*", source) and row["contract_column"] in spec.columns:
            aliases.setdefault(name_key(row["alias"]), row["contract_column"])
    return aliases


@lru_cache(maxsize=None)
def value_aliases(source: str, column: str) -> dict[str, str]:
    """Value (as `name_key`) → canonical value of an enumerated column, from seeds/value_aliases.csv."""
    return {name_key(r["alias"]): r["value"] for r in _seed_rows("value_aliases.csv")
            if r["source"] in ("*", source) and r["value_column"] == column}



def canonical_value(source: str, column: str, value: object) -> str | None:
    """An enumerated value as the suite expects it: `name_key`, then seeds/value_aliases.csv."""
    if not isinstance(value, str) or not value.strip():
        return None
    key = name_key(value)
    return value_aliases(source, column).get(key, key)
