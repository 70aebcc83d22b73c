"""Reference data derived in Python: the region and carrier of every phone prefix seen."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.identity import COMPONENTS_KEY
from orchestration.defs.window import WAREHOUSE_ASSET
from orchestration.defs.transform import model_key
from orchestration.lib.phone_regions import add_new_prefixes


@dg.asset(
    key=["reference", "phone_regions"],
    # After the components only for the run's order: the table then joins the dbt step that stages
    # the registry's output, rather than making a dbt step of its own.
    deps=[model_key("int_identifiers"), COMPONENTS_KEY],
    group_name="profile",
    description=("Province, city and carrier of each mainland phone prefix (+86 and seven digits) seen in the data, "
                 "from libphonenumber: the profile's region when member data has none, and region rules for calls."),
    **WAREHOUSE_ASSET,
)
def phone_regions(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=add_new_prefixes(warehouse.get_connection, context.log))
