"""Resources: the landing zone, the DuckDB warehouse and the dbt CLI, configured from the
environment (USEROPS_LANDING, USEROPS_WAREHOUSE, USEROPS_TZ, USEROPS_REPORTS, USEROPS_OUTBOX,
USEROPS_SERVING)."""

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.dbt_project import dbt_project
from orchestration.settings import Settings


class LandingZone(dg.ConfigurableResource):
    """The folder with one sub-folder per source and one `dt=YYYY-MM-DD` partition per day."""

    path: str
    timezone: str = "Asia/Shanghai"
    # Days of a long range are loaded in batches of about this many file bytes (memory bound).
    batch_bytes: int = 256 * 1024 * 1024

    @property
    def root(self) -> Path:
        return Path(self.path)


class OutputFolder(dg.ConfigurableResource):
    """A folder of files for others: the daily reports (USEROPS_REPORTS) and the channel files
    (USEROPS_OUTBOX), one `dt=YYYY-MM-DD` folder per day; the BI serving copy (USEROPS_SERVING)."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


def build_resources(settings: Settings | None = None) -> dict:
    settings = settings or Settings.from_env()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)   # DuckDB will not create folders
    return {
        "landing": LandingZone(path=str(settings.landing), timezone=settings.timezone),
        "warehouse": DuckDBResource(database=str(settings.warehouse)),
        "dbt": DbtCliResource(project_dir=dbt_project),
        "reports": OutputFolder(path=str(settings.reports)),
        "outbox": OutputFolder(path=str(settings.outbox)),
        "serving": OutputFolder(path=str(settings.serving)),
    }
