"""Normalisation of identifiers, shared by every source and (later) by the channel writers.

Each `normalize_*` function takes one raw cell and returns a `Normalized` value:
- `value`: the normalised identifier, or None when the cell is empty, a placeholder or unusable;
- `kind`: what it is (phones: mobile / landline / service / iot / masked);
- `reason`: set when the cell is present but broken in a way that makes the whole row suspect
  (the row goes to quarantine with this reason code). Unusable-but-harmless values (a masked
  phone, a landline) keep the row and only lose the identifier or its SMS capability.

Phone validity and type come from `phonenumbers` (libphonenumber); the rules around it handle
what real exports do to numbers: +86/0086 prefixes, separators, full-width digits, Excel's
scientific notation, float artefacts, masks and several numbers in one cell.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo


class Normalized(NamedTuple):
    value: str | None
    kind: str | None = None
    reason: str | None = None


EMPTY = Normalized(None)

# Zero-width and BOM characters survive NFKC and str.strip(); remove them explicitly.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_PLACEHOLDERS = frozenset(
    {"null", "none", "nil", "nan", "undefined", "void", "n/a", "na", "-1", "0", "无", "空",
     "anonymous", "unknown", "abc123", "#n/a", "(null)", "test"}
)
_ALL_ZERO_OR_DASH = re.compile(r"^[0\-_.:\s]*$")   # "0000", "----", "00000000-0000-0000-0000-000000000000"
_ZERO_OR_DASH_CHARS = "0-_.: \t\n\r\x0b\x0c"


def clean_text(raw: object) -> str | None:
    """NFKC, invisible characters removed, trimmed; None for empty cells and placeholders."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(raw))).strip().strip("'\"`").strip()
    if not text or text.lower() in _PLACEHOLDERS or _ALL_ZERO_OR_DASH.match(text):
        return None
    return text


# --- ids ------------------------------------------------------------------------------------

def normalize_id(raw: object) -> Normalized:
    """Member ids, card numbers, device ids, openids…: trimmed, case and leading zeros kept."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return EMPTY
    text = _INVISIBLE.sub("", str(raw)).strip()
    if not text or text.lower() in _PLACEHOLDERS or _ALL_ZERO_OR_DASH.match(text):
        return EMPTY
    return Normalized(text)


def normalize_id_series(series: pd.Series) -> pd.Series:
    """`normalize_id` for a whole column at once (ids are mostly distinct, so no per-value calls)."""
    text = series.astype("string").str.replace(_INVISIBLE.pattern, "", regex=True).str.strip()
    empty = (text.isna() | text.str.lower().isin(_PLACEHOLDERS)
             | (text.str.strip(_ZERO_OR_DASH_CHARS) == ""))       # same as _ALL_ZERO_OR_DASH, vectorised
    return text.astype("object").where(~empty.fillna(True).astype(bool), None)


# --- phones ---------------------------------------------------------------------------------

_PHONE_PREFIXES = re.compile(r"^(tel:|phone:|mobile:|手机[:：]?)", re.IGNORECASE)
_PHONE_SEPARATORS = re.compile(r"[\s\-.()\[\]/]")
_MULTI_SPLIT = re.compile(r"[;,，；、|/\\]|\s{2,}|\bor\b|或")
_MASK = re.compile(r"[*×]|[xX]{2,}")
_SCI_NOTATION = re.compile(r"^[0-9](\.[0-9]+)?[eE][+]?[0-9]+$")
_FLOAT_ARTEFACT = re.compile(r"^([0-9]{11})\.0$")
_ASCII_DIGITS = re.compile(r"^\+?[0-9]+$")
_MAINLAND_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_TRUNK_ZERO_MOBILE = re.compile(r"^01[3-9][0-9]{9}$")
_IOT_13_DIGIT = re.compile(r"^14[0-9]{11}$")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_SERVICE_TYPES = {PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST, PhoneNumberType.UAN,
                  PhoneNumberType.PREMIUM_RATE, PhoneNumberType.VOIP}


def _digit_groups(text: str) -> list[str]:
    return [g for g in (re.sub(r"[^0-9]", "", part) for part in _MULTI_SPLIT.split(text)) if len(g) >= 7]


@lru_cache(maxsize=1_000_000)
def normalize_phone(raw: object) -> Normalized:
    """A phone cell as typed → E.164 (`+8613800138000`) with its kind.

    kind `mobile` is a mainland mobile number (SMS- and call-capable); `landline`, `service`
    (400/800, 95xxx short codes) and `iot` (13-digit 14x data-only) are kept but not SMS-capable;
    `masked` (`138****5678`) is unusable. Reasons: `phone_sci_notation`, `phone_multiple`,
    `phone_invalid`.
    """
    text = clean_text(raw)
    if text is None:
        return EMPTY
    if _MASK.search(text):
        return Normalized(None, "masked")
    if _SCI_NOTATION.match(text):
        return Normalized(None, reason="phone_sci_notation")   # precision already lost: never repair
    if len(_digit_groups(text)) > 1:
        return Normalized(None, reason="phone_multiple")
    text = _PHONE_PREFIXES.sub("", text)
    artefact = _FLOAT_ARTEFACT.match(text)
    if artefact:
        text = artefact.group(1)
    digits = _PHONE_SEPARATORS.sub("", text)
    if not _ASCII_DIGITS.match(digits):                       # letters, Arabic-Indic digits, …
        return Normalized(None, reason="phone_invalid")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    elif digits.startswith("+"):
        return _foreign(digits)
    if _TRUNK_ZERO_MOBILE.match(digits):
        digits = digits[1:]              # 0 + mobile, as dialled from a landline (no area code starts 01[3-9])
    if _IOT_13_DIGIT.match(digits):
        return Normalized("+86" + digits, "iot")
    if digits.startswith("1") and len(digits) == 11:
        if not _MAINLAND_MOBILE.match(digits):
            return Normalized(None, reason="phone_invalid")       # 10086…, 12345678901
        return Normalized("+86" + digits, _mobile_range_kind(digits[:MOBILE_RANGE_DIGITS]))
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return Normalized(None, reason="phone_invalid")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.is_valid_number(number):
        number_type = phonenumbers.number_type(number)
        if number_type in _SERVICE_TYPES:
            return Normalized(e164, "service")
        if number_type == PhoneNumberType.FIXED_LINE:
            return Normalized(e164, "landline")
    if shortnumberinfo.is_valid_short_number_for_region(number, "CN"):
        return Normalized(e164, "service")
    return Normalized(None, reason="phone_invalid")


# libphonenumber's mainland mobile patterns are decided by the first five digits; a test checks
# this against per-number parsing, so a metadata upgrade that refines ranges shows up there.
MOBILE_RANGE_DIGITS = 5


@lru_cache(maxsize=None)
def _mobile_range_kind(prefix: str) -> str:
    """libphonenumber's verdict on a mainland mobile range, asked once per range (parsing every
    number costs ~0.2 ms, too slow for millions of distinct numbers): `mobile` for an allocated
    mobile range, else `iot` (data-only or unlisted: kept, but never texted)."""
    try:
        number = phonenumbers.parse(prefix + "1234567890"[: 11 - len(prefix)], "CN")
    except phonenumbers.NumberParseException:
        return "iot"
    if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _MOBILE_TYPES:
        return "mobile"
    return "iot"


def _foreign(digits: str) -> Normalized:
    try:
        number = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException:
        return Normalized(None, reason="phone_invalid")
    if not phonenumbers.is_valid_number(number):
        return Normalized(None, reason="phone_invalid")
    return Normalized(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), "foreign")


# --- emails ---------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    r"@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$")


@lru_cache(maxsize=1_000_000)
def normalize_email(raw: object) -> Normalized:
    """NFKC (full-width ＠ and ．), invisible characters removed, trimmed, lower-cased.
    Reasons: `email_multiple`, `email_invalid`."""
    text = clean_text(raw)
    if text is None:
        return EMPTY
    text = re.sub(r"\s+", "", text).lower()
    if text.count("@") > 1 and re.search(r"[;,，；|]", text):
        return Normalized(None, reason="email_multiple")
    if not _EMAIL.match(text):
        return Normalized(None, reason="email_invalid")
    return Normalized(text, "email")


# --- vectorised use -------------------------------------------------------------------------

def normalize_series(series: pd.Series, fn: Callable[[object], Normalized]) -> pd.DataFrame:
    """Apply `fn` once per distinct value (identifier columns repeat a lot) and broadcast back.
    Returns a frame with columns value, kind, reason aligned to `series`."""
    codes, uniques = pd.factorize(series)
    table = np.array([tuple(fn(u)) for u in uniques] + [tuple(EMPTY)], dtype=object)
    picked = table[codes]                                            # code -1 (missing) → EMPTY
    return pd.DataFrame({name: pd.Series(picked[:, i], index=series.index, dtype="object")
                         for i, name in enumerate(Normalized._fields)}, index=series.index)
