"""Where things live and which time zone the business runs in, from the environment.

One place resolves every location (output contract: USEROPS_LANDING, USEROPS_WAREHOUSE,
USEROPS_OUTBOX, USEROPS_TZ, USEROPS_START_DATE (default: the landing zone's first day); USEROPS_REPORTS for the daily report and
USEROPS_SERVING for the BI serving copy; USEROPS_SUPERSET_HOME (default .superset_home/) for
the local Superset of `make bi`; USEROPS_RUN_HISTORY_DAYS, USEROPS_ALERT_FILE and
USEROPS_ALERT_WEBHOOK for unattended operation). Relative paths resolve from the repo root, the
same way dbt resolves the profile's path, and `export_environment()` writes the absolute values
back so the dbt subprocess sees exactly the file Python opens.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
SEEDS_DIR = REPO_ROOT / "seeds"

DEFAULTS = {
    "USEROPS_LANDING": "data/landing",
    "USEROPS_WAREHOUSE": "data/warehouse.duckdb",
    "USEROPS_OUTBOX": "data/outbox",
    "USEROPS_REPORTS": "data/reports",
    "USEROPS_SERVING": "data/serving",
    "USEROPS_TZ": "Asia/Shanghai",
    "DAGSTER_HOME": ".dagster_home",
    "USEROPS_SUPERSET_HOME": ".superset_home",
}


def _path(name: str) -> Path:
    raw = os.environ.get(name) or DEFAULTS[name]
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


@dataclass(frozen=True)
class Settings:
    landing: Path
    warehouse: Path
    outbox: Path
    reports: Path
    serving: Path
    timezone: str
    start_date: date
    dagster_home: Path
    run_history_days: int = 90            # USEROPS_RUN_HISTORY_DAYS: older Dagster runs (and their logs) are pruned
    alert_file: Path | None = None        # USEROPS_ALERT_FILE: one line per failed run's root failure
    alert_webhook: str = ""               # USEROPS_ALERT_WEBHOOK: the same lines POSTed as {"text": …}
    superset_home: Path | None = None     # USEROPS_SUPERSET_HOME: Superset's metadata database and secret

    @classmethod
    def from_env(cls) -> "Settings":
        start = os.environ.get("USEROPS_START_DATE")
        try:
            start_date = date.fromisoformat(start) if start else first_landing_day(_path("USEROPS_LANDING"))
        except ValueError as exc:
            raise ValueError(f"USEROPS_START_DATE={start!r} is not a YYYY-MM-DD date") from exc
        return cls(
            landing=_path("USEROPS_LANDING"),
            warehouse=_path("USEROPS_WAREHOUSE"),
            outbox=_path("USEROPS_OUTBOX"),
            reports=_path("USEROPS_REPORTS"),
            serving=_path("USEROPS_SERVING"),
            timezone=os.environ.get("USEROPS_TZ") or DEFAULTS["USEROPS_TZ"],
            start_date=start_date,
            dagster_home=_path("DAGSTER_HOME"),
            run_history_days=_int("USEROPS_RUN_HISTORY_DAYS", 90),
            alert_file=_path("USEROPS_ALERT_FILE") if os.environ.get("USEROPS_ALERT_FILE")
            else _path("DAGSTER_HOME") / "alerts.log",
            alert_webhook=os.environ.get("USEROPS_ALERT_WEBHOOK", ""),
            superset_home=_path("USEROPS_SUPERSET_HOME"),
        )


def first_landing_day(landing: Path) -> date:
    """The first day a run may cover when USEROPS_START_DATE is not set: the earliest day folder of
    any source in the landing zone; yesterday when the landing zone holds none yet (the schedule's
    first day)."""
    from orchestration.lib.landing import landing_days

    days = landing_days(landing)
    return days[0] if days else date.today() - timedelta(days=1)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    try:
        return int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None


def dbt_state_path(warehouse: Path) -> Path:
    """dbt's target folder for runs on this warehouse: its partial-parse state and each dbt step's
    files. dbt parses the whole project again whenever the profile (the warehouse path in it)
    differs from the one its state was saved with, so each warehouse keeps a state of its own."""
    return REPO_ROOT / "target" / "warehouses" / hashlib.sha256(str(warehouse).encode()).hexdigest()[:12]


def export_environment(settings: Settings | None = None) -> Settings:
    """Make the absolute locations visible to child processes (dbt) and to Dagster."""
    settings = settings or Settings.from_env()
    os.environ["DBT_TARGET_PATH"] = str(dbt_state_path(settings.warehouse))
    os.environ["USEROPS_LANDING"] = str(settings.landing)
    os.environ["USEROPS_WAREHOUSE"] = str(settings.warehouse)
    os.environ["USEROPS_OUTBOX"] = str(settings.outbox)
    os.environ["USEROPS_REPORTS"] = str(settings.reports)
    os.environ["USEROPS_SERVING"] = str(settings.serving)
    os.environ["USEROPS_TZ"] = settings.timezone
    os.environ["USEROPS_START_DATE"] = settings.start_date.isoformat()
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    # dagster-dbt runs the `dbt` executable: make the one installed beside this Python findable
    # even when the virtual environment is not activated (e.g. `.venv/bin/userops`).
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return settings


def prepare_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME and put the project's dagster.yaml in it (Dagster ignores ./dagster.yaml
    when DAGSTER_HOME points elsewhere)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    source = REPO_ROOT / "dagster.yaml"
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    return home
