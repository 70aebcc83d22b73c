"""The dbt unit tests (`unit_tests:` in the models' YAML: given rows in, expected rows out) for
the rules a model encodes — registration cohorts, the nine-grid cell, the daily KPIs, lapse
stages, lifecycle stages, RFM scores, churn windows, the control bucket and send times. They
need only the relations' column types, so they run on a copy of the sample run's warehouse;
pipeline runs leave them out (`--exclude-resource-type unit_test`)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

RULES = {"int_registration_cohorts", "nine_grid_daily", "daily_kpis", "lapsed_users", "user_profile_daily",
         "recall_audience", "churn_cohorts"}


def test_every_dbt_unit_test_passes(pipeline_run, tmp_path):
    assert pipeline_run["result"].returncode == 0, pipeline_run["result"].stderr[-3000:]
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(pipeline_run["warehouse"], warehouse)
    env = {**os.environ, **pipeline_run["env"], "USEROPS_WAREHOUSE": str(warehouse)}
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run([str(dbt), "test", "--select", "test_type:unit", "--target-path", str(tmp_path / "target"),
                             "--log-path", str(tmp_path / "logs")], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]
    passed = set(re.findall(r"PASS (\w+)::", result.stdout))
    assert RULES <= passed, result.stdout[-3000:]
