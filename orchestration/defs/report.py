"""The daily report asset (orchestration/lib/daily_report.py writes it): one self-contained HTML
page per day with its PNG charts under USEROPS_REPORTS/dt=<day>/."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.window import WAREHOUSE_ASSET
from orchestration.defs.recall import recall_outbox
from orchestration.defs.resources import OutputFolder
from orchestration.defs.transform import model_key
from orchestration.lib.daily_report import RELATIONS, ReportRefused, write_report


@dg.asset(
    key=["reports", "daily_report"],
    deps=[*(model_key(name) for name in RELATIONS), recall_outbox.key],
    group_name="serving",
    description=("报表 · The daily report: one HTML page (report.html, charts embedded, opens offline) and its PNG "
                 "charts under `USEROPS_REPORTS/dt=<day>/` — nine-grid with its change since yesterday and last week, "
                 "cell moves over the last 7 days, retention curves, churn-cycle rates, lapse funnel, recall audiences, "
                 "costs and lift against the control group, rows loaded and quarantined per source."),
    **{**WAREHOUSE_ASSET, "kinds": {"python", "duckdb", "matplotlib", "html"}},
)
def daily_report(context: dg.AssetExecutionContext, warehouse: DuckDBResource, reports: OutputFolder,
                 outbox: OutputFolder) -> dg.MaterializeResult:
    try:
        report = write_report(warehouse.get_connection, reports.root, outbox.root)
    except ReportRefused as error:
        raise dg.Failure(str(error)) from error
    context.log.info(f"report for {report.day}: {report.page}")
    return dg.MaterializeResult(metadata={
        "day": report.day.isoformat(),
        # The page's tables in the UI itself: browsers block a file:// link from an http page.
        "report_preview": dg.MetadataValue.md(report.preview),
        "report_path": dg.MetadataValue.path(str(report.page)),
        **{f"chart_{name}": dg.MetadataValue.path(str(path)) for name, path in report.charts.items()},
        "nine_grid": dg.MetadataValue.md(report.nine_grid),
        "rows_quarantined": report.rows_quarantined,
        "recall_contacts": report.recall_contacts,
        "recall_cost_cny": report.recall_cost_cny,
    })
