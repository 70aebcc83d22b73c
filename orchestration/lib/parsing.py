"""Vectorised parsing of timestamps, money and counts as the input contract defines them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"   # offset after a time
_CENT = Decimal("0.01")
_MIN_PLAUSIBLE = pd.Timestamp("1971-01-01")     # 1970-01-01 / 1900-01-01 export defaults → null


def parse_timestamps(values: pd.Series, tz: str) -> pd.Series:
    """ISO-8601 strings (or epoch seconds / milliseconds / microseconds) → naive wall-clock time in `tz`.

    With an offset (`+08:00`, `Z`) the instant is converted; without one it is already local
    time in the business time zone (input contract). Unparseable values, `0000-00-00` and
    epoch/1900 defaults become NaT, which the validation step turns into a quarantine reason.
    """
    text = values.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    if text.isna().all():
        return out
    epoch_s = text.str.fullmatch(r"\d{10}").fillna(False)
    epoch_ms = text.str.fullmatch(r"\d{13}").fillna(False)
    epoch_us = text.str.fullmatch(r"\d{16}").fillna(False)
    epoch = epoch_s | epoch_ms | epoch_us
    aware = text.str.contains(_OFFSET, regex=True).fillna(False) & ~epoch
    naive = text.notna() & ~aware & ~epoch

    def _local(instants: pd.Series) -> pd.Series:
        return instants.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[us]")

    if aware.any():
        out[aware] = _local(pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce"))
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        # Localising checks the wall-clock time exists in the zone (DST gaps become NaT).
        checked = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_localize(None)
        out[naive] = checked.astype("datetime64[us]")
    for mask, unit in ((epoch_s, "s"), (epoch_ms, "ms"), (epoch_us, "us")):
        if mask.any():
            out[mask] = _local(pd.to_datetime(text[mask].astype("int64"), unit=unit, utc=True))
    out[out < _MIN_PLAUSIBLE] = pd.NaT
    return out


def parse_decimals(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Money as typed (`1299`, `¥1,299.00`, full-width digits) → float rounded to cents.
    Returns (values, unparseable mask); empty cells are null, not unparseable."""
    text = (values.astype("string").str.normalize("NFKC").str.strip()
            .str.replace(r"^[¥$]|^CNY|^RMB|元$", "", regex=True).str.replace(",", "", regex=False)
            .str.strip())
    text = text.mask(text == "")
    # decimal(18, 2) holds 16 digits before the point (15 leave room for rounding): longer is a broken cell.
    valid = text.str.fullmatch(r"-?\d{1,15}(\.\d+)?").fillna(False)
    bad = text.notna() & ~valid
    # Decimal arithmetic, rounded half up to cents (binary floats would turn 12.345 into 12.34).
    cents = text.where(valid).map(lambda v: float(Decimal(v).quantize(_CENT, ROUND_HALF_UP)), na_action="ignore")
    return cents.astype("Float64"), bad


def parse_integers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Counts (`3`, `3.0`) → Int64; returns (values, unparseable mask)."""
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    valid = text.str.fullmatch(r"-?\d+(\.0+)?").fillna(False)
    bad = text.notna() & ~valid
    numbers = pd.to_numeric(text.where(valid).str.replace(r"\.0+$", "", regex=True),
                            errors="coerce").astype("Int64")
    return numbers, bad


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Calendar dates (`1990-05-17`, `1990/5/17`) → date; export defaults (1900-01-01,
    0000-00-00, 1970-01-01) become null. Returns (values, unparseable mask)."""
    text = values.astype("string").str.strip().str.replace("/", "-", regex=False)
    text = text.mask(text == "")
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    default = text.isin(["0000-00-00", "1900-01-01", "1970-01-01"]).fillna(False)
    bad = text.notna() & parsed.isna() & ~default
    parsed = parsed.mask(default | (parsed < _MIN_PLAUSIBLE.replace(year=1900)))
    return parsed.dt.date.astype("object").where(parsed.notna(), None), bad
