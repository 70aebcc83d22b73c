"""No clear phone number or email address in any table BI reads (models marked `bi_facing` in
their YAML), scanned value by value on the sample's warehouse."""

import json
import re
from pathlib import Path

import duckdb

from orchestration.dbt_project import dbt_project

# A mainland mobile (with or without +86) or an email whose local part is not masked.
CLEAR_PHONE = re.compile(r"(?<![\d*])(?:\+?86)?1[3-9]\d{9}(?!\d)")
CLEAR_EMAIL = re.compile(r"[A-Za-z0-9._%+-]*[A-Za-z0-9._%+-]@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def bi_facing_models() -> list[tuple[str, str]]:
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    return sorted((n["schema"], n["name"]) for n in manifest["nodes"].values()
                  if n["resource_type"] == "model" and (n["config"].get("meta") or {}).get("bi_facing"))


def leaks(value: str) -> bool:
    if CLEAR_PHONE.search(value):
        return True
    return any("*" not in match.split("@")[0] for match in CLEAR_EMAIL.findall(value))


def test_the_scanner_tells_clear_from_masked():
    assert leaks("+8613812345678") and leaks("call 13812345678") and leaks("Zhang.San@QQ.com")
    assert not leaks("138****5678") and not leaks("z***@example.com") and not leaks("p316177455477041666")


def test_bi_facing_tables_hold_no_clear_phone_or_email(pipeline_run):
    models = bi_facing_models()
    assert {"user_profile", "user_profile_daily", "user_tags", "user_interactions", "persons"} <= {m for _, m in models}
    scanned = 0
    with duckdb.connect(str(pipeline_run["warehouse"]), read_only=True) as conn:
        for schema, table in models:
            columns = [c for c, t in conn.execute(f'select column_name, data_type from information_schema.columns '
                                                  f"where table_schema = '{schema}' and table_name = '{table}'").fetchall()
                       if t == "VARCHAR"]
            for column in columns:
                values = [v for (v,) in conn.execute(f'select distinct "{column}" from {schema}.{table} '
                                                     f'where "{column}" is not null').fetchall()]
                found = [v for v in values if leaks(v)]
                assert not found, f"{schema}.{table}.{column} holds clear contacts, e.g. {found[:3]}"
                scanned += len(values)
        masked = conn.execute("select count(*) from marts.user_profile where phone_masked like '1__****____'").fetchone()[0]
    assert scanned > 1000 and masked > 0
