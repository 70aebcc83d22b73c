"""Apache Superset on the BI serving copy: the dashboard kept as code in `orchestration/bi/`
becomes Superset's import bundle here, and Superset (its own virtual environment, `.venv-bi`,
because its pins clash with Dagster's) is prepared and started through its own CLI.

The bundle is built from three things the project already has: the dashboard spec
(`orchestration/bi/dashboard.yaml`), the serving file's real columns, and each column's dbt
description, so Superset's dataset pages describe every column the way the dbt docs do.
"""

from __future__ import annotations

import os
import subprocess
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from orchestration.lib.serving import BI_CONNECT_ARGS, column_description

SCHEMA = "marts"
DASHBOARD_SLUG = "userops"
DATABASE_NAME = "userops serving copy"
# Stable identities: re-importing the bundle updates the same database, datasets and charts.
NAMESPACE = uuid.UUID("6f1c2d1e-5b0a-4e4e-9a4f-2f7d3c9b8a11")
TEMPORAL = ("DATE", "TIMESTAMP")


def _uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


def build_bundle(spec_path: Path, serving_file: Path, descriptions: dict[str, dict[str, str]], out: Path) -> Path:
    """Write Superset's dashboard import ZIP (format version 1.0.0) for the spec, on `serving_file`."""
    spec = yaml.safe_load(Path(spec_path).read_text())
    database_uuid = _uuid("database", DATABASE_NAME)
    files: dict[str, dict] = {
        "metadata.yaml": {"version": "1.0.0", "type": "Dashboard", "timestamp": "2026-01-01T00:00:00+00:00"},
        "databases/userops.yaml": {
            "database_name": DATABASE_NAME, "uuid": database_uuid, "version": "1.0.0",
            "sqlalchemy_uri": f"duckdb:///{Path(serving_file).resolve()}",
            # read-only, no other files: each query opens the current file (swapped in by rename)
            "extra": {"engine_params": {"connect_args": BI_CONNECT_ARGS}, "allows_virtual_table_explore": True},
            "expose_in_sqllab": True, "allow_run_async": False, "allow_ctas": False, "allow_cvas": False,
            "allow_dml": False, "allow_csv_upload": False, "cache_timeout": None,
        },
    }
    with duckdb.connect(str(serving_file), read_only=True) as conn:
        for table, options in spec["datasets"].items():
            columns = conn.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? and "
                "table_name = ? order by ordinal_position", [SCHEMA, table]).fetchall()
            if not columns:
                raise RuntimeError(f"{serving_file}: {SCHEMA}.{table} is missing (named in {spec_path})")
            described = descriptions.get(table, {})
            files[f"datasets/userops/{table}.yaml"] = {
                "table_name": table, "schema": SCHEMA, "uuid": _uuid("dataset", table), "version": "1.0.0",
                "database_uuid": database_uuid, "main_dttm_col": options.get("main_dttm_col"),
                "description": described.get("", ""), "sql": None, "params": None, "template_params": None,
                "filter_select_enabled": True, "fetch_values_predicate": None, "extra": None,
                "cache_timeout": None, "offset": 0, "metrics": [],
                "columns": [{"column_name": name, "type": data_type, "is_dttm": data_type.startswith(TEMPORAL),
                             "is_active": True, "groupby": True, "filterable": True, "expression": None,
                             "verbose_name": None, "python_date_format": None, "extra": None,
                             "description": column_description(described, name)}
                            for name, data_type in columns],
            }
    position: dict = {"DASHBOARD_VERSION_KEY": "v2", "ROOT_ID": {"id": "ROOT_ID", "type": "ROOT",
                                                                 "children": ["GRID_ID"]},
                      "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": spec["title"]}},
                      "GRID_ID": {"id": "GRID_ID", "type": "GRID", "parents": ["ROOT_ID"], "children": []}}
    for number, row in enumerate(spec["rows"]):
        row_id = f"ROW-{number}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"id": row_id, "type": "ROW", "parents": ["ROOT_ID", "GRID_ID"], "children": [],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for key in row:
            chart = spec["charts"][key]
            if chart["dataset"] not in spec["datasets"]:
                raise ValueError(f"{spec_path}: chart {key} uses dataset {chart['dataset']}, not under datasets")
            chart_uuid = _uuid("chart", key)
            files[f"charts/{key}.yaml"] = {
                "slice_name": chart["name"], "viz_type": chart["viz_type"], "uuid": chart_uuid, "version": "1.0.0",
                "dataset_uuid": _uuid("dataset", chart["dataset"]), "description": chart.get("description"),
                "params": {"viz_type": chart["viz_type"], **chart["params"]}, "query_context": None,
                "cache_timeout": None, "certified_by": None, "certification_details": None,
            }
            chart_id = f"CHART-{key}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {"id": chart_id, "type": "CHART", "children": [],
                                  "parents": ["ROOT_ID", "GRID_ID", row_id],
                                  # chartId: a placeholder the importer replaces with the chart's new id
                                  "meta": {"uuid": chart_uuid, "chartId": len(position), "sliceName": chart["name"],
                                           "width": chart.get("width", 6), "height": chart.get("height", 50)}}
    files["dashboards/userops.yaml"] = {
        "dashboard_title": spec["title"], "slug": DASHBOARD_SLUG, "uuid": _uuid("dashboard", DASHBOARD_SLUG),
        "version": "1.0.0", "published": True, "css": "", "description": None, "position": position,
        "metadata": {"color_scheme": "supersetColors", "refresh_frequency": 0, "expanded_slices": {},
                     "label_colors": {}, "timed_refresh_immune_slices": [], "default_filters": "{}",
                     "native_filter_configuration": [], "cross_filters_enabled": True},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as bundle:
        for name, content in files.items():
            bundle.writestr(f"userops/{name}", yaml.safe_dump(content, allow_unicode=True, sort_keys=False))
    return out


@dataclass(frozen=True)
class Superset:
    """One Superset installation (`binary`) with its metadata database and secret under `home`."""
    binary: Path
    home: Path
    config: Path
    username: str = "admin"
    password: str = "admin"

    def env(self) -> dict[str, str]:
        return {**os.environ, "SUPERSET_HOME": str(self.home), "SUPERSET_CONFIG_PATH": str(self.config),
                "FLASK_APP": "superset"}

    def _cli(self, *args: str, timeout: int = 600) -> str:
        result = subprocess.run([str(self.binary), *args], env=self.env(), capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"superset {' '.join(args[:1])} failed (exit {result.returncode}):\n"
                               f"{(result.stdout + result.stderr)[-3000:]}")
        return result.stdout + result.stderr

    def prepare(self, bundle: Path) -> None:
        """Metadata database up to date, the admin user, roles, and the dashboard imported (idempotent)."""
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} is missing: `make bi` installs Superset into .venv-bi")
        self.home.mkdir(parents=True, exist_ok=True)
        self._cli("db", "upgrade")
        self._cli("fab", "create-admin", "--username", self.username, "--password", self.password,
                  "--firstname", "userops", "--lastname", "admin", "--email", "admin@userops.invalid")
        self._cli("init")
        self._cli("import-dashboards", "--path", str(bundle), "--username", self.username)

    def start(self, port: int, log: Path) -> subprocess.Popen:
        """Superset's web server on localhost (Flask's server: a local tool, not a deployment)."""
        return subprocess.Popen([str(self.binary), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
                                env=self.env(), stdout=log.open("w"), stderr=subprocess.STDOUT)
