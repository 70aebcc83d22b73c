"""The recall outbox asset (orchestration/lib/recall_outbox.py does the work): each campaign day's
send list as the files each sending system takes, with a manifest, and the contact log that
drives the frequency caps."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.window import WAREHOUSE_ASSET, window_days
from orchestration.defs.resources import OutputFolder
from orchestration.defs.transform import model_key
from orchestration.lib.recall_outbox import RecallRefused, publish


@dg.asset(
    key=["recall", "outbox"],
    deps=[model_key("pub_recall_send_list"), model_key("recall_exclusions")],
    group_name="recall",
    description=("Each campaign day's recall files for the sending systems (SMS batches and CSV with their short "
                 "links, push, WeChat subscribe notifications, WeCom tasks, call lists, email, ad audiences) under "
                 "`USEROPS_OUTBOX/dt=<day>/` with `manifest.json`, and the contact log (treatment contacts and "
                 "control holdouts) that drives the frequency caps; a range run writes every day of the range, in "
                 "order, as its daily runs would. Consent and suppression are re-checked right before writing; "
                 "the control group never reaches a file."),
    **WAREHOUSE_ASSET,
)
def recall_outbox(context: dg.AssetExecutionContext, warehouse: DuckDBResource,
                  outbox: OutputFolder) -> dg.MaterializeResult:
    _, _, days = window_days(context)
    try:
        done = publish(warehouse.get_connection, outbox.root, days, context.run.run_id, context.log)
    except RecallRefused as error:
        raise dg.Failure(str(error)) from error
    written = done["written"]
    table = "\n".join(f"| {day} | {rule} | {outcome} | {persons:,} |" for day, rule, outcome, persons in done["exclusions"])
    days_table = "\n".join(f"| {r['day']} | {r['contacts']:,} | {r['control_holdouts']:,} | {r['files']} |" for r in written)
    return dg.MaterializeResult(metadata={
        "day": written[-1]["day"],
        "days": len(written),
        "folder": dg.MetadataValue.path(str(written[-1]["folder"])),
        "contacts": sum(r["contacts"] for r in written),
        "control_holdouts": sum(r["control_holdouts"] for r in written),
        "dropped_at_recheck": sum(r["dropped_at_recheck"] for r in written),
        "files": sum(r["files"] for r in written),
        "kept_days": dg.MetadataValue.json([r["day"] for r in written if r.get("kept")]),
        "expired_days": dg.MetadataValue.json(done["expired"]),
        "cost_cny": round(sum(v.get("cost", 0) for v in done["by_channel"].values()), 2),
        "by_channel": dg.MetadataValue.json(done["by_channel"]),
        "per_day": dg.MetadataValue.md(f"| day | contacts | holdouts | files |\n|---|---|---|---|\n{days_table}"),
        "eligibility": dg.MetadataValue.md(f"| day | rule | outcome | persons |\n|---|---|---|---|\n{table}"),
    })


contact_log_table = dg.AssetSpec(
    ["recall", "contact_log"], group_name="recall", owners=["team:data-platform"],
    description=("Every recall contact written to a file, and every control-group holdout, per campaign day "
                 "(written by recall/outbox). The frequency caps read it."))
