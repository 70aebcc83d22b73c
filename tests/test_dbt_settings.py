"""The settings seeds (setting,value,meaning) are validated where they are read: a misspelt,
missing or doubled setting fails the dbt build naming the seed file and the setting, instead of
becoming a NULL threshold (macros/settings.sql). Proven with dbt itself on a copy of the project
whose seed a member of staff edited."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT


def _project_with(tmp_path: Path, seed: str, edit) -> Path:
    project = tmp_path / "project"
    for part in ("models", "macros", "seeds", "tests/dbt"):
        shutil.copytree(REPO_ROOT / part, project / part)
    for part in ("dbt_project.yml", "profiles.yml"):
        shutil.copyfile(REPO_ROOT / part, project / part)
    path = project / "seeds" / f"{seed}.csv"
    path.write_text(edit(path.read_text()), encoding="utf-8")
    return project


def _build(project: Path, seed: str, model: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "USEROPS_WAREHOUSE": str(project / "warehouse.duckdb")}
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run([str(dbt), "build", "--select", seed, model, "--exclude-resource-type", "unit_test",
                           "--profiles-dir", str(project), "--target-path", str(project / "target"),
                           "--log-path", str(project / "logs")], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize(("edit", "named"), [
    (lambda text: text.replace("min_buyers_to_fit,", "min_buyer_to_fit,"),
     "unknown setting 'min_buyer_to_fit'; missing setting 'min_buyers_to_fit'"),
    (lambda text: "\n".join(line for line in text.splitlines() if not line.startswith("active_within_days,")) + "\n",
     "missing setting 'active_within_days'"),
], ids=["misspelt", "left-out"])
def test_a_bad_settings_seed_fails_the_build_naming_file_and_setting(tmp_path, edit, named):
    project = _project_with(tmp_path, "churn_settings", edit)
    result = _build(project, "churn_settings", "int_churn_settings")
    assert result.returncode != 0
    assert "seeds/churn_settings.csv: " + named in result.stdout, result.stdout[-3000:]


def test_the_settings_row_is_typed(tmp_path):
    project = _project_with(tmp_path, "churn_settings", lambda text: text)
    result = _build(project, "churn_settings", "int_churn_settings")
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as conn:
        types = dict(conn.execute("select column_name, data_type from information_schema.columns "
                                  "where table_name = 'int_churn_settings'").fetchall())
    assert types == {"retention_curve_days": "INTEGER", "min_buyers_to_fit": "INTEGER", "active_within_days": "INTEGER",
                     "warning_max_p_alive": "FLOAT", "warning_min_value_level": "VARCHAR"}
