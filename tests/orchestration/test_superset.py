"""The Superset import bundle `userops bi` builds: a database that opens the serving file
read-only with no access to other files, datasets that carry the dbt descriptions."""

import zipfile

import duckdb
import pytest
import yaml

from orchestration.lib.superset import build_bundle

SPEC = """
title: t
rows: [[grid]]
datasets: {nine_grid_summary: {main_dttm_col: snapshot_date}}
charts:
  grid: {name: Grid, dataset: nine_grid_summary, viz_type: table, params: {}}
"""


@pytest.fixture
def serving_file(tmp_path):
    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema marts")
        conn.execute("create table marts.nine_grid_summary (snapshot_date date, cell integer, cell_zh varchar)")
    return path


def _bundle(tmp_path, serving_file, spec=SPEC):
    (tmp_path / "dashboard.yaml").write_text(spec)
    out = build_bundle(tmp_path / "dashboard.yaml", serving_file,
                       {"nine_grid_summary": {"": "per day and cell", "cell": "the cell"}}, tmp_path / "b.zip")
    with zipfile.ZipFile(out) as bundle:
        return {name.removeprefix("userops/"): yaml.safe_load(bundle.read(name)) for name in bundle.namelist()}


def test_the_database_cannot_write_or_reach_other_files(tmp_path, serving_file):
    """Superset's SQL Lab runs any SQL: with external access on it could ATTACH the working
    warehouse (clear phones and emails) or read any file."""
    database = _bundle(tmp_path, serving_file)["databases/userops.yaml"]
    assert database["sqlalchemy_uri"] == f"duckdb:///{serving_file}"
    (tmp_path / "other.csv").write_text("phone\n13800138000\n")
    with duckdb.connect(str(serving_file), **database["extra"]["engine_params"]["connect_args"]) as conn:
        assert conn.execute("select count(*) from marts.nine_grid_summary").fetchone() == (0,)
        with pytest.raises(duckdb.Error):
            conn.execute(f"select * from read_csv_auto('{tmp_path / 'other.csv'}')")
        with pytest.raises(duckdb.Error):
            conn.execute(f"attach '{tmp_path / 'other.duckdb'}' as other")
        with pytest.raises(duckdb.Error):
            conn.execute("create table marts.x (a integer)")


def test_datasets_carry_the_dbt_descriptions_and_labels(tmp_path, serving_file):
    dataset = _bundle(tmp_path, serving_file)["datasets/userops/nine_grid_summary.yaml"]
    assert dataset["description"] == "per day and cell"
    described = {c["column_name"]: (c["description"], c["is_dttm"]) for c in dataset["columns"]}
    assert described == {"snapshot_date": ("", True), "cell": ("the cell", False),
                         "cell_zh": ("中文标签 Chinese label of `cell`.", False)}


def test_a_chart_on_a_table_not_in_the_serving_file_names_it(tmp_path, serving_file):
    with pytest.raises(RuntimeError, match="marts.cohort_retention is missing"):
        _bundle(tmp_path, serving_file, SPEC.replace("nine_grid_summary", "cohort_retention"))
