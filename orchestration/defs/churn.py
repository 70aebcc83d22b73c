"""The churn stage's model: the MBG/NBD purchase model fitted by maximum likelihood on every
buyer's purchase history, which dbt turns into each buyer's p_alive and p_active in the profile."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.window import WAREHOUSE_ASSET
from orchestration.defs.transform import model_key
from orchestration.lib.purchase_model import fit_purchase_model

@dg.asset(
    key=["churn", "purchase_model"],
    deps=[model_key("int_purchase_histories"),
          model_key("int_churn_settings")],
    group_name="churn",
    description=("The purchase model behind the early warning: MBG/NBD (who is still a buyer, from how often "
                 "and how recently each buyer bought) fitted on all buyers' purchase days, one row of parameters "
                 "per as-of day. MBG/NBD rather than BG/NBD so one-time buyers can fade. The fitting code matches "
                 "the published CDNOW parameters (tests/orchestration/test_churn_model.py)."),
    **WAREHOUSE_ASSET,
)
def purchase_model(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=fit_purchase_model(warehouse.get_connection, context.log))
