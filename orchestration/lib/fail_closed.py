"""Where people are concerned an unreadable row still refuses: consent and SMS STOP replies.

A consent row that cannot be fully read (unknown status or channel, bad or future time, no id)
but names an identifier we can normalise is kept as an opt-out of the channel it names, or of
`all` when the channel is unreadable, timed at the end of its arrival day unless its own time is
readable; a later readable event for the same identifier and channel supersedes it. The row
keeps the reason in `_read_problem`. An identifier of an unknown type is read as a phone or an
email when it is one. Rows that name no usable identifier stay in quarantine, and the refusals
among them (any status but a readable opt_in) are counted for the ingestion check that stops the
run. STOP replies work the same way: a reply whose text is an unsubscribe word
(seeds/unsubscribe_words.csv) is an SMS opt-out of the replying phone.
"""

from __future__ import annotations

import csv
import unicodedata
from datetime import timedelta
from functools import lru_cache

import pandas as pd

from orchestration.lib import expectations
from orchestration.lib.contract import SourceSpec, canonical_value
from orchestration.lib.identifiers import normalize_email, normalize_phone
from orchestration.settings import SEEDS_DIR

READ_PROBLEM = ("_read_problem", "_read_detail")
_DERIVED = {"consent": READ_PROBLEM, "sms_replies": ("unsubscribe_word", *READ_PROBLEM)}
_LAST_SECOND = timedelta(days=1) - timedelta(seconds=1)


def derived_columns(spec: SourceSpec) -> tuple[str, ...]:
    return _DERIVED.get(spec.name, ())


def derive(spec: SourceSpec, typed: pd.DataFrame, reason: pd.Series, detail: pd.Series) -> None:
    """Fill the derived columns and turn unreadable rows that still name someone into refusals
    (their reason is cleared, so they load)."""
    for column in READ_PROBLEM:
        typed[column] = pd.Series([None] * len(typed), index=typed.index, dtype="object")
    if spec.name == "consent":
        _consent(typed, reason, detail)
    elif spec.name == "sms_replies":
        words = typed["content"].map(unsubscribe_word, na_action="ignore").astype("object")
        typed["unsubscribe_word"] = words.where(words.notna(), None)
        _replies(typed, reason, detail)


def _end_of_arrival_day(typed: pd.DataFrame, column: str, rows: pd.Index) -> pd.Series:
    """The row's own time when readable and not after its arrival day, else the day's last second."""
    end = pd.to_datetime(typed.loc[rows, "_dt"]).astype("datetime64[us]") + _LAST_SECOND
    own = typed.loc[rows, column]
    return own.where(own.notna() & (own <= end), end)


def _mark(typed, reason, detail, rows: pd.Index) -> None:
    typed.loc[rows, "_read_problem"] = reason[rows]
    typed.loc[rows, "_read_detail"] = detail[rows]
    reason[rows] = None
    detail[rows] = None


def _consent(typed: pd.DataFrame, reason: pd.Series, detail: pd.Series) -> None:
    bad = reason.notna()
    if not bad.any():
        return
    types = expectations.value_set("consent", "identifier_type")
    channels = expectations.value_set("consent", "channel")
    rows = typed.index[bad]
    for index in rows[~typed.loc[rows, "identifier_type"].isin(types)]:
        value = typed.at[index, "identifier_value"]           # an unknown type: is it a phone or an email?
        phone, email = normalize_phone(value), normalize_email(value)
        typed.at[index, "identifier_type"], typed.at[index, "identifier_value"] = (
            ("phone", phone.value) if phone.value else ("email", email.value) if email.value else (None, None))
    usable = rows[typed.loc[rows, "identifier_type"].isin(types).to_numpy()
                  & typed.loc[rows, "identifier_value"].notna().to_numpy()]
    if not len(usable):
        return
    typed.loc[usable, "status"] = "opt_out"
    typed.loc[usable, "channel"] = typed.loc[usable, "channel"].where(typed.loc[usable, "channel"].isin(channels), "all")
    typed.loc[usable, "event_time"] = _end_of_arrival_day(typed, "event_time", usable)
    missing_id = typed.loc[usable, "consent_id"].isna()
    typed.loc[usable[missing_id.to_numpy()], "consent_id"] = [
        f"unreadable:{typed.at[i, '_source_file']}:{typed.at[i, '_row_number']}" for i in usable[missing_id.to_numpy()]]
    _mark(typed, reason, detail, usable)


def _replies(typed: pd.DataFrame, reason: pd.Series, detail: pd.Series) -> None:
    bad = reason.notna() & typed["unsubscribe_word"].notna() & typed["phone"].notna()
    if bad.any():
        rows = typed.index[bad]
        typed.loc[rows, "replied_at"] = _end_of_arrival_day(typed, "replied_at", rows)
        _mark(typed, reason, detail, rows)


def unattributed_refusals(spec: SourceSpec, quarantined: pd.DataFrame) -> int:
    """Quarantined rows that may be a refusal of someone we cannot name: consent rows whose
    status is not a readable opt_in, STOP replies whose phone is unusable."""
    if not len(quarantined):
        return 0
    if spec.name == "consent":
        status = quarantined["status"].map(lambda v: canonical_value("consent", "status", v))
        return int((status != "opt_in").sum())
    text = quarantined["content"]
    return int((text.isna() | text.map(unsubscribe_word, na_action="ignore").notna()).sum())


# --- unsubscribe words ----------------------------------------------------------------------------

def _reply_key(text: str) -> str:
    """NFKC, lower-cased, without spaces, punctuation or symbols (`Ｔ。` → `t`)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] in "PS"))


@lru_cache(maxsize=1)
def _words() -> tuple[dict[str, str], tuple[str, ...]]:
    with (SEEDS_DIR / "unsubscribe_words.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    whole = {_reply_key(r["word"]): r["word"] for r in rows if r["match"] == "whole"}
    contains = tuple(_reply_key(r["word"]) for r in rows if r["match"] == "contains")
    return whole, contains


def unsubscribe_word(text: object) -> str | None:
    """The seeded unsubscribe word a reply is (whole) or holds (contains), else None."""
    if not isinstance(text, str):
        return None
    key = _reply_key(text)
    whole, contains = _words()
    if key in whole:
        return whole[key]
    return next((w for w in contains if w and w in key), None)


