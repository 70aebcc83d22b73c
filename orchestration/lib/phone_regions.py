"""Province, city and carrier of a phone number's prefix, from libphonenumber's data.

A mainland number's region and carrier are fixed by its first seven digits (mobile ranges and
landline area codes alike), so the table is keyed by the prefix (`+86` and seven digits; numbers
outside the mainland get no region here): each prefix is looked up once,
with the first number seen in it, and only prefixes not yet in the table are looked up on a run.
Provinces are short names (江苏, 新疆, 北京) as member data and region rules write them; cities
drop the 市 suffix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd
import phonenumbers

from orchestration.lib.components import scalar
from orchestration.lib.relations import relation

PREFIX_DIGITS = 7
# Province-level names as libphonenumber writes them, longest first so 黑龙江 beats nothing shorter.
PROVINCES = sorted(
    ["北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
     "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古",
     "广西", "西藏", "宁夏", "新疆", "香港", "澳门"], key=len, reverse=True)
PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市")


MAINLAND = "+86"
PREFIX_LENGTH = len(MAINLAND) + PREFIX_DIGITS


def prefix_of(e164: str) -> str | None:
    """'+8613812345678' → '+861381234' (mainland numbers only; others have no prefix here)."""
    return e164[:PREFIX_LENGTH] if e164.startswith(MAINLAND) and len(e164) > PREFIX_LENGTH else None


def split_region(description: str) -> tuple[str | None, str | None]:
    """'江苏省连云港市' → ('江苏', '连云港'); '北京市' → ('北京', '北京'); '' → (None, None)."""
    text = description.strip()
    if text in ("", "中国"):                    # ranges libphonenumber only knows by country
        return None, None
    for province in PROVINCES:
        if text.startswith(province):
            rest = text[len(province):]
            for suffix in PROVINCE_SUFFIXES:
                if rest.startswith(suffix):
                    rest = rest[len(suffix):]
                    break
            city = rest.removesuffix("市") or province
            return province, city
    return None, text.removesuffix("市")


def regions(phones: Iterable[str]) -> list[tuple[str, str | None, str | None, str | None]]:
    """(prefix, province, city, carrier) for each distinct prefix among E.164 phones."""
    from phonenumbers import carrier, geocoder      # their data take most of a second to load: not at import

    rows = {}
    for phone in phones:
        key = prefix_of(phone)
        if key is None or key in rows:
            continue
        try:
            number = phonenumbers.parse(phone)
        except phonenumbers.NumberParseException:
            continue
        province, city = split_region(geocoder.description_for_number(number, "zh"))
        rows[key] = (key, province, city, carrier.name_for_number(number, "zh") or None)
    return list(rows.values())


PHONE_REGIONS = "reference.phone_regions"


def add_new_prefixes(connect: Callable, log) -> dict:
    """Look up the prefixes not seen before; the table's size, as the asset's metadata."""
    with connect() as conn:
        conn.execute("create schema if not exists reference")
        conn.execute(f"create table if not exists {PHONE_REGIONS} "
                     "(phone_prefix varchar primary key, province varchar, city varchar, carrier varchar)")
        # One number per prefix not looked up yet.
        phones = [p for (p,) in conn.execute(f"""
            select min(identifier_value) from {relation('int_identifiers')}
            where identifier_type = 'phone' and identifier_value like '+86%'
              and substr(identifier_value, 1, {PREFIX_LENGTH}) not in (select phone_prefix from {PHONE_REGIONS})
            group by substr(identifier_value, 1, {PREFIX_LENGTH})""").fetchall()]
        found = pd.DataFrame(regions(phones), columns=["phone_prefix", "province", "city", "carrier"])
        # One set-based insert (executemany goes row by row: minutes for a history's prefixes).
        conn.register("found_regions", found)
        conn.execute(f"insert into {PHONE_REGIONS} select * from found_regions")
        conn.unregister("found_regions")
        total = scalar(conn, f"select count(*) from {PHONE_REGIONS}")
        unplaced = scalar(conn, f"select count(*) from {PHONE_REGIONS} where province is null")
    log.info(f"phone regions: {len(found):,} new prefixes, {total:,} in all")
    return {"dagster/row_count": total, "new_prefixes": len(found), "prefixes_without_region": unplaced}
