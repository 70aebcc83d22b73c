"""Timestamps, money, counts and dates as the input contract defines them (T4, T5, O7)."""

import pandas as pd
import pytest

from orchestration.lib.parsing import parse_dates, parse_decimals, parse_integers, parse_timestamps

TZ = "Asia/Shanghai"


@pytest.mark.parametrize("raw, local", [
    ("2026-08-01T10:00:00+08:00", "2026-08-01 10:00:00"),      # offset: converted
    ("2026-08-01T10:00:00.250+0800", "2026-08-01 10:00:00.250"),
    ("2026-08-01 10:00:00", "2026-08-01 10:00:00"),            # naive: already business-local
    ("2026-08-01T10:00:00", "2026-08-01 10:00:00"),
    ("2026-08-01T02:00:00Z", "2026-08-01 10:00:00"),           # UTC
    ("2026-08-01T17:30:00Z", "2026-08-02 01:30:00"),           # 16:00–24:00 UTC is the next CN day
    ("2026-08-01T09:00:00-04:00", "2026-08-01 21:00:00"),
    ("1785549600", "2026-08-01 10:00:00"),                      # epoch seconds
    ("1785549600000", "2026-08-01 10:00:00"),                   # epoch milliseconds
    ("2026-08-01", "2026-08-01 00:00:00"),                      # a date is its local midnight
])
def test_timestamps_become_business_local(raw, local):
    assert parse_timestamps(pd.Series([raw]), TZ).iloc[0] == pd.Timestamp(local)


@pytest.mark.parametrize("raw", ["0000-00-00", "1970-01-01 00:00:00", "1900-01-01", "yesterday", "2026-13-01", "", None])
def test_defaults_and_garbage_become_null(raw):
    assert pd.isna(parse_timestamps(pd.Series([raw], dtype=object), TZ).iloc[0])


def test_other_time_zones_are_honoured():
    # A business in New York: naive times are New York time; a nonexistent DST time is null.
    parsed = parse_timestamps(pd.Series(["2026-07-01T12:00:00Z", "2026-03-08 02:30:00"]), "America/New_York")
    assert parsed.iloc[0] == pd.Timestamp("2026-07-01 08:00:00")
    assert pd.isna(parsed.iloc[1])


def test_decimals():
    values, bad = parse_decimals(pd.Series(["1299", "¥1,299.00", "１２３.５", "-5", "12.345", "abc", None, ""]))
    assert list(values.iloc[:5]) == [1299.0, 1299.0, 123.5, -5.0, 12.35]
    assert values.iloc[5:].isna().all()
    assert list(bad) == [False, False, False, False, False, True, False, False]


def test_integers():
    values, bad = parse_integers(pd.Series(["3", "3.0", "x", None]))
    assert values.iloc[0] == 3 and values.iloc[1] == 3 and values.iloc[2:].isna().all()
    assert list(bad) == [False, False, True, False]


def test_dates():
    values, bad = parse_dates(pd.Series(["1990-05-17", "1990/5/17", "1900-01-01", "0000-00-00", "garbage", None]))
    assert str(values.iloc[0]) == "1990-05-17" and str(values.iloc[1]) == "1990-05-17"
    assert values.iloc[2] is None and values.iloc[3] is None
    assert list(bad) == [False, False, False, False, True, False]
