"""Identifier normalisation: the phone (P1–P15) and e-mail (E1–E8) cases of reliability.md."""

import pandas as pd
import pytest

from orchestration.lib.identifiers import (
    normalize_email,
    normalize_id,
    normalize_id_series,
    normalize_phone,
    normalize_series,
)

MOBILE = "+8613800138000"


@pytest.mark.parametrize("raw", [
    "13800138000", "+86 138 0013 8000", "008613800138000", "8613800138000", "+86-138-0013-8000",  # P1
    "138-0013-8000", "(138)00138000", "138.0013.8000", "138\u00a00013\u00a08000", "138\t0013\t8000",  # P2
    "１３８００１３８０００",                                                                      # P3
    "13800138000.0",                                                                           # P6
    "'13800138000", "tel:13800138000", '"13800138000"', "\u200b13800138000\ufeff", " 13800138000 ",  # P15
])
def test_mobile_forms_normalise_to_e164(raw):
    assert normalize_phone(raw) == (MOBILE, "mobile", None)


@pytest.mark.parametrize("raw, reason", [
    ("١٣٨٠٠١٣٨٠٠٠", "phone_invalid"),          # P4 Arabic-Indic digits
    ("1.38001E+10", "phone_sci_notation"),      # P5 precision already lost
    ("1.3800138E10", "phone_sci_notation"),
    ("1380013800", "phone_invalid"),            # P7 10 digits
    ("138001380001", "phone_invalid"),          # P7 12 digits
    ("12345678901", "phone_invalid"),           # P8 invalid prefix
    ("10086123456", "phone_invalid"),
    ("13800138000/13900139000", "phone_multiple"),   # P11
    ("138 0013 8000; 139 0013 9000", "phone_multiple"),
    ("13800138000.5", "phone_invalid"),
    ("call me", "phone_invalid"),
])
def test_broken_phones_are_rejected_with_a_reason(raw, reason):
    value, _, got = normalize_phone(raw)
    assert value is None and got == reason


@pytest.mark.parametrize("raw, e164, kind", [
    ("010-12345678", "+861012345678", "landline"),     # P9: kept, not SMS-capable
    ("0755 1234 5678", "+8675512345678", "landline"),
    ("400-812-3123", "+864008123123", "service"),
    ("95588", "+8695588", "service"),
    ("1440012345678", "+861440012345678", "iot"),       # P10: 13-digit data-only
])
def test_non_mobile_numbers_are_kept_but_not_mobile(raw, e164, kind):
    assert normalize_phone(raw) == (e164, kind, None)


@pytest.mark.parametrize("raw", ["138****8000", "138xxxx8000"])
def test_masked_phones_are_unusable_but_do_not_reject_the_row(raw):   # P12
    assert normalize_phone(raw) == (None, "masked", None)


@pytest.mark.parametrize("raw", [None, "", "   ", "null", "NULL", "undefined", "0", "-1", "无", "N/A", "----", "00000000000"])
def test_placeholders_are_empty(raw):
    assert normalize_phone(raw) == (None, None, None)
    assert normalize_id(raw) == (None, None, None)


@pytest.mark.parametrize("raw", ["  Foo@QQ.COM ", "ｆｏｏ＠ｑｑ．ｃｏｍ", "\u200bfoo@qq.com\ufeff", "FOO@qq.com", "foo @qq.com"])
def test_email_forms_normalise(raw):                                     # E1–E3
    assert normalize_email(raw) == ("foo@qq.com", "email", None)


@pytest.mark.parametrize("raw, reason", [
    ("foo@", "email_invalid"), ("foo@@qq.com", "email_invalid"), ("foo@qq", "email_invalid"),
    ("foo@qq,com", "email_invalid"), ("foo@qq.com.", "email_invalid"),      # E4
    ("a@x.com;b@y.com", "email_multiple"), ("a@x.com, b@y.com", "email_multiple"),   # E8
])
def test_broken_emails_are_rejected(raw, reason):
    assert normalize_email(raw) == (None, None, reason)


def test_email_aliases_and_typo_domains_are_kept_literally():            # E5, E7
    assert normalize_email("F.oo+tag@Gmail.com").value == "f.oo+tag@gmail.com"
    assert normalize_email("foo@qq.con").value == "foo@qq.con"


def test_ids_keep_leading_zeros_and_case():
    assert normalize_id(" 000123 ").value == "000123"
    assert normalize_id("oAbC-123_x").value == "oAbC-123_x"
    assert normalize_id("00000000-0000-0000-0000-000000000000").value is None   # all-zero device id


def test_normalize_series_aligns_with_index_and_handles_missing():
    series = pd.Series(["13800138000", None, "1.38E+10", "13800138000"], index=[10, 11, 12, 13])
    out = normalize_series(series, normalize_phone)
    assert list(out.index) == [10, 11, 12, 13]
    assert list(out["value"]) == [MOBILE, None, None, MOBILE]
    assert list(out["reason"]) == [None, None, "phone_sci_notation", None]
    assert normalize_series(pd.Series([], dtype=object), normalize_phone).empty


def test_column_id_normalisation_matches_the_scalar_rules():
    values = [" 000123 ", "oAbC-123_x", "null", "NULL", "undefined", "0", "-1", "无", "N/A", "----",
              "00000000-0000-0000-0000-000000000000", "\u200babc\ufeff", "", "   ", None, "a b", "0.0.0"]

    got = list(normalize_id_series(pd.Series(values, dtype=object)))
    assert got == [normalize_id(v).value for v in values]


def test_mobile_range_table_agrees_with_libphonenumber_per_number():
    """The per-range cache gives the same verdict as parsing each number (random sample)."""
    import random

    import phonenumbers

    from orchestration.lib.identifiers import _MOBILE_TYPES

    rng = random.Random(20261122)
    for _ in range(5000):
        digits = f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}"
        try:
            number = phonenumbers.parse(digits, "CN")
            expected = phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _MOBILE_TYPES
        except phonenumbers.NumberParseException:
            expected = False
        assert (normalize_phone(digits).kind == "mobile") == expected, digits


@pytest.mark.parametrize("phone, expected", [
    ("+8613812345678", ("+861381234", "江苏", "连云港", "中国移动")),
    ("+8618999841635", ("+861899984", "新疆", "乌鲁木齐", "中国电信")),
    ("+8618600001111", ("+861860000", "北京", "北京", "中国联通")),
    ("+862160000001", ("+862160000", "上海", "上海", None)),
])
def test_phone_prefix_regions_from_libphonenumber(phone, expected):
    from orchestration.lib.phone_regions import regions
    assert regions([phone, phone]) == [expected]


def test_numbers_outside_the_mainland_get_no_region():
    from orchestration.lib.phone_regions import regions
    assert regions(["+85291234567"]) == []


# --- properties (Hypothesis) ---------------------------------------------------------------------

import re  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PHONEISH = st.text(alphabet=st.sampled_from(list("0123456789+-() .\u00a0１３８٣²@abcxX*e")), max_size=24)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_PHONEISH, st.text(max_size=30)))
def test_phone_normalisation_is_idempotent_and_ascii(raw):
    from orchestration.lib.identifiers import normalize_phone

    once = normalize_phone(raw)
    if once.value is not None:
        assert re.fullmatch(r"\+[0-9]+", once.value)              # never a non-ASCII digit
        assert normalize_phone(once.value).value == once.value


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.emails(), st.text(max_size=30)))
def test_email_normalisation_is_idempotent_and_ascii(raw):
    from orchestration.lib.identifiers import normalize_email

    once = normalize_email(raw)
    if once.value is not None:
        assert once.value.isascii() and not re.search(r"[^\x00-\x7f]", once.value)
        assert normalize_email(once.value).value == once.value


def test_a_mobile_dialled_with_a_leading_zero_is_the_mobile():
    from orchestration.lib.identifiers import normalize_phone

    assert normalize_phone("013800138000") == normalize_phone("13800138000")
    assert normalize_phone("010-12345678").kind == "landline"       # Beijing's area code is not a mobile
