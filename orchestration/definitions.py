"""The code location: every asset, check, job, schedule and resource, assembled in one place."""

import dagster as dg

from orchestration.defs.alerts import alert_on_run_failure
from orchestration.defs.churn import purchase_model
from orchestration.defs.executor import one_run_per_warehouse
from orchestration.defs.identity import identity_components, person_registry
from orchestration.defs.ingest import ingest_assets
from orchestration.defs.recall import contact_log_table, recall_outbox
from orchestration.defs.reference import phone_regions
from orchestration.defs.report import daily_report
from orchestration.defs.resources import build_resources
from orchestration.defs.schedules import all_assets_job, daily_schedule
from orchestration.defs.serving import bi_copy, completed_days
from orchestration.defs.transform import dbt_models
from orchestration.settings import export_environment

export_environment()      # absolute paths for the dbt subprocess

defs = dg.Definitions(
    assets=[*ingest_assets, dbt_models, identity_components, person_registry, phone_regions,
            purchase_model, recall_outbox, daily_report, bi_copy, completed_days, contact_log_table],
    jobs=[all_assets_job],
    schedules=[daily_schedule],
    sensors=[alert_on_run_failure],
    resources=build_resources(),
    executor=one_run_per_warehouse,
)
