"""Resources: the landing zone, the DuckDB warehouse and the dbt CLI, configured from the
environment (USEROPS_LANDING, USEROPS_WAREHOUSE, USEROPS_TZ, USEROPS_REPORTS, USEROPS_OUTBOX,
USEROPS_SERVING)."""

from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.dbt_project import dbt_project
from orchestration.lib.serving import SERVING_FILE
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


class Warehouse(DuckDBResource):
    """The DuckDB warehouse. A file held by another process (a BI tool pointed at the wrong file)
    fails the step within seconds, naming that process and the serving copy to open instead,
    rather than retrying for minutes."""

    serving_copy: str = ""
    lock_wait_s: float = 10.0

    @contextmanager
    def get_connection(self):
        from orchestration.lib.run_lock import WarehouseLocked, connect_writer

        try:
            conn = connect_writer(self.database, Path(self.serving_copy) if self.serving_copy else None,
                                  self.lock_wait_s, {"custom_user_agent": "dagster", **self.connection_config})
        except WarehouseLocked as error:
            raise dg.Failure(str(error), allow_retries=False) from None
        try:
            yield conn
        finally:
            conn.close()


class Dbt(DbtCliResource):
    """dagster-dbt's dbt CLI resource, without the dbt adapter it would build in this process for
    every invocation (parsing every macro: about a second a step) to serve fetchers this project
    does not use: row counts and column schemas are read after each build
    (orchestration/lib/dbt_metadata.py)."""

    def _initialize_dbt_core_adapter(self, args):
        return None


def build_resources(settings: Settings | None = None) -> dict:
    settings = settings or Settings.from_env()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)   # DuckDB will not create folders
    return {
        "landing": LandingZone(path=str(settings.landing), timezone=settings.timezone),
        "warehouse": Warehouse(database=str(settings.warehouse),
                               serving_copy=str(settings.serving / SERVING_FILE)),
        "dbt": Dbt(project_dir=dbt_project),
        "reports": OutputFolder(path=str(settings.reports)),
        "outbox": OutputFolder(path=str(settings.outbox)),
        "serving": OutputFolder(path=str(settings.serving)),
    }
