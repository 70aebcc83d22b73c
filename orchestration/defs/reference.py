"""Reference data derived in Python: the region and carrier of every phone prefix seen."""

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from orchestration.defs.partitions import DAILY_WAREHOUSE_ASSET
from orchestration.defs.transform import dbt_before_identity
from orchestration.lib.components import scalar
from orchestration.lib.phone_regions import PREFIX_LENGTH, regions

PHONE_REGIONS = "reference.phone_regions"


@dg.asset(
    key=["reference", "phone_regions"],
    deps=[get_asset_key_for_model([dbt_before_identity], "int_identifiers")],
    group_name="profile",
    description=("Province, city and carrier of each mainland phone prefix (+86 and seven digits) seen in the data, "
                 "from libphonenumber: the profile's region when member data has none, and region rules for calls."),
    **DAILY_WAREHOUSE_ASSET,
)
def phone_regions(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        conn.execute("create schema if not exists reference")
        conn.execute(f"create table if not exists {PHONE_REGIONS} "
                     "(phone_prefix varchar primary key, province varchar, city varchar, carrier varchar)")
        # One number per prefix not looked up yet.
        phones = [p for (p,) in conn.execute(f"""
            select min(identifier_value) from intermediate.int_identifiers
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
    context.log.info(f"phone regions: {len(found):,} new prefixes, {total:,} in all")
    return dg.MaterializeResult(metadata={"dagster/row_count": total, "new_prefixes": len(found),
                                          "prefixes_without_region": unplaced})
