"""The BI serving copy and the daily report on the sample run: what BI may read and nothing else,
labels beside keys, Parquet folders, read-only and sandboxed connections, no clear contact data,
the report's page in headless Chromium."""

import csv
import re

import duckdb
import pyarrow.dataset as ds
import pytest

from orchestration.dbt_project import dbt_project
from orchestration.lib.outbox import read_manifest
from orchestration.lib.serving import bi_tables, column_description, column_descriptions, read_only_connection
from tests.browser import dump_dom, non_blank_share, screenshot
from tests.conftest import REPO_ROOT
from tests.test_bi_safety import leaks

DAY = "2026-08-14"


@pytest.fixture(scope="module")
def serving(pipeline_run):
    assert pipeline_run["result"].returncode == 0, pipeline_run["result"].stderr[-3000:]
    folder = pipeline_run["tmp"] / "serving"
    conn = read_only_connection(folder / "serving.duckdb")
    yield {"folder": folder, "conn": conn, "warehouse": pipeline_run["warehouse"],
           "report": pipeline_run["tmp"] / "reports" / f"dt={DAY}"}
    conn.close()


def test_the_serving_file_holds_the_bi_facing_marts_only(serving):
    tables = {(s, t) for s, t in serving["conn"].execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}
    expected = {(t.schema, t.name) for t in bi_tables(dbt_project.manifest_path)}
    assert tables == expected
    names = {t for _, t in tables}
    assert {"user_profile", "nine_grid_summary", "churn_cohorts", "recall_outcomes"} <= names
    assert not names & {"identity_map", "identity_junk", "contact_log"}
    assert not any(s in ("raw", "staging", "intermediate") or "dbt_test__audit" in s or "quarantine" in t for s, t in tables)
    assert not (serving["folder"] / "serving.duckdb.wal").exists()
    assert not [p for p in serving["folder"].iterdir() if p.name.startswith(".")]        # no scratch left
    with duckdb.connect(str(serving["warehouse"]), read_only=True) as working:
        for schema, table in tables:
            rows = working.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
            assert serving["conn"].execute(f"select count(*) from {schema}.{table}").fetchone()[0] == rows, table


def test_chinese_labels_sit_beside_the_english_keys(serving):
    conn = serving["conn"]
    columns = [c for (c,) in conn.execute("select column_name from information_schema.columns where table_name = "
                                          "'user_profile' order by ordinal_position").fetchall()]
    assert columns[columns.index("lifecycle_stage") + 1] == "lifecycle_stage_zh"
    pairs = dict(conn.execute("select distinct lifecycle_stage, lifecycle_stage_zh from marts.user_profile").fetchall())
    assert pairs["new"] == "新用户"
    assert conn.execute("select distinct cell_zh from marts.nine_grid_summary where cell = 9").fetchone()[0] == "高价值高活跃"
    # Every labelled column of every table carries the seed's label for its key, and every key has one.
    seed = {(r["label_set"], r["value"]): r["label_zh"]
            for r in csv.DictReader((REPO_ROOT / "seeds" / "display_labels.csv").open(encoding="utf-8"))}
    labelled = conn.execute("select table_schema, table_name, column_name from information_schema.columns "
                            "where column_name like '%\\_zh' escape '\\'").fetchall()
    assert {"rfm_segment_zh", "lapse_stage_zh", "cycle_zh", "from_cell_zh", "channel_zh", "test_group_zh"} <= {
        c for _, _, c in labelled}
    # user_tags' values take the labels of their group; free values (a category, a city) show as they are.
    tags = dict(conn.execute("select tag_group || ':' || tag_value, tag_value_zh from marts.user_tags").fetchall())
    assert tags["membership:member"] == "会员" and tags["lifecycle_stage:new"] == "新用户"
    assert all(label == seed.get(tuple(key.split(":", 1)), key.split(":", 1)[1]) for key, label in tags.items())
    assert conn.execute("select distinct tag_group_zh from marts.user_tags where tag_group = 'aov_band'").fetchone()[0] \
        == "客单价档"
    for schema, table, column in labelled:
        if (table, column) == ("user_tags", "tag_value_zh"):
            continue
        key = column.removesuffix("_zh")
        sets = {s for s, _ in seed}
        label_set = key if key in sets else key.removeprefix("from_").removeprefix("to_")
        for value, label in conn.execute(f'select distinct cast("{key}" as varchar), "{column}" from {schema}.{table} '
                                         f'where "{key}" is not null').fetchall():
            assert label == seed[(label_set, value)], (table, column, value, label)


def test_parquet_exports_match_partitioned_by_day(serving):
    parquet = serving["folder"] / "parquet"
    tables = bi_tables(dbt_project.manifest_path)
    assert {p.name for p in parquet.iterdir()} == {t.name for t in tables}
    for table in tables:
        dataset = ds.dataset(parquet / table.name, format="parquet", partitioning="hive" if table.partition_by else None)
        rows = serving["conn"].execute(f"select count(*) from {table.schema}.{table.name}").fetchone()[0]
        assert dataset.count_rows() == rows, table.name
    days = sorted(p.name for p in (parquet / "nine_grid_summary").iterdir())
    assert days[0] == "dt=2026-08-01" and days[-1] == f"dt={DAY}" and len(days) == 14
    assert "lifecycle_stage_zh" in ds.dataset(parquet / "user_profile").schema.names
    # Seen: the date column was dropped from partitioned files, so Excel's "From Folder" combine gave
    # rows without dates. Each file keeps it, and a plain pandas read of the folder works.
    import pandas as pd
    import pyarrow.parquet as pq

    one_day = pq.read_table(next((parquet / "nine_grid_summary" / f"dt={DAY}").glob("*.parquet")))
    assert "snapshot_date" in one_day.column_names and {str(d) for d in one_day.column("snapshot_date").to_pylist()} == {DAY}
    assert len(pd.read_parquet(parquet / "nine_grid_summary")) == serving["conn"].execute(
        "select count(*) from marts.nine_grid_summary").fetchone()[0]


def test_counts_are_bigint_for_bi_drivers(serving):
    """Seen: counts were HUGEINT or decimal(38,0) in places, which BI drivers read as text or floats."""
    odd = serving["conn"].execute("""select table_name, column_name, data_type from information_schema.columns
                                     where data_type = 'HUGEINT' or data_type like 'DECIMAL(%,0)'""").fetchall()
    assert odd == []


def test_every_bi_facing_column_is_described(serving):
    """Seen: 13 of 176 BI-facing columns had a description. Each column of the serving file has one
    in its dbt YAML (a `_zh` label column is described by the column it labels): the dbt docs, the
    Dagster asset pages and Superset's datasets show it."""
    described = column_descriptions(dbt_project.manifest_path)
    columns = serving["conn"].execute("select table_name, column_name from information_schema.columns").fetchall()
    assert len(columns) > 200
    assert [f"{t}.{c}" for t, c in columns if not column_description(described.get(t, {}), c)] == []


def test_a_bi_connection_can_neither_write_nor_read_other_files(serving):
    with pytest.raises(duckdb.Error):
        serving["conn"].execute("delete from marts.user_profile")
    with pytest.raises(duckdb.Error):
        serving["conn"].execute("select * from read_csv('/etc/passwd')")


def test_no_clear_phone_or_email_anywhere_bi_or_staff_can_read(serving):
    conn, scanned = serving["conn"], 0
    for schema, table, column in conn.execute("select table_schema, table_name, column_name from information_schema.columns "
                                              "where data_type = 'VARCHAR'").fetchall():
        values = [v for (v,) in conn.execute(f'select distinct "{column}" from {schema}.{table} where "{column}" is not null').fetchall()]
        found = [v for v in values if leaks(v)]
        assert not found, f"serving {schema}.{table}.{column}: {found[:3]}"
        scanned += len(values)
    assert scanned > 1000
    for folder in serving["folder"].joinpath("parquet").iterdir():
        table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
        for name in table.column_names:
            if table.schema.field(name).type == "string":
                found = [v for v in set(table.column(name).to_pylist()) if v is not None and leaks(v)]
                assert not found, f"parquet {folder.name}.{name}: {found[:3]}"
    page = (serving["report"] / "report.html").read_text(encoding="utf-8")
    text = re.sub(r'src="data:image/png;base64,[^"]+"', "", page)
    assert not leaks(text)


def test_the_report_is_one_page_with_its_charts_and_sections(serving):
    folder = serving["report"]
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "report.html", "nine_grid.png", "nine_grid_transitions.png", "retention_curves.png", "churn_cycles.png",
        "lapse_funnel.png", "recall_return_rates.png"])
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.count('<img class="chart"') == 6 and page.count("data:image/png;base64,") == 6
    for heading in ("核心指标 · Headline", "九宫格 · Nine-grid", "留存 · Retention", "流失周期 · Churn cycles",
                    "流失分层 · Lapse funnel", "流失预警 · Churn warnings", "生命周期与RFM · Lifecycle and RFM",
                    "召回 · Recall", "数据质量 · Data quality"):
        assert heading in page
    assert "-0.0 pp" not in page
    assert "http://" not in page and "https://" not in page and "<script" not in page       # opens offline
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def report_tables(page: str, section: str) -> list[list[list[str]]]:
    """The tables of one section of the report page, each as rows of cell texts (header first)."""
    import html as html_lib

    body = page.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    return [[[html_lib.unescape(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
             for row in re.findall(r"<tr>(.*?)</tr>", table)]
            for table in re.findall(r"<table>(.*?)</table>", body)]


def test_the_reports_audience_cost_is_the_billed_cost_of_the_files(serving):
    """Seen: the audience table said SMS cost ¥24.90 while the files table said ¥49.80 for the same
    day (the first counted messages, the second segments)."""
    page = (serving["report"] / "report.html").read_text(encoding="utf-8")
    audiences, files, _ = report_tables(page, "recall")
    money = lambda text: float(text.replace(",", ""))  # noqa: E731
    by_channel: dict[str, float] = {}
    for row in audiences[1:]:
        by_channel[row[1]] = by_channel.get(row[1], 0.0) + money(row[5])
    billed = {row[0]: money(row[3]) for row in files[1:]}
    assert by_channel.get("sms", 0) > 0
    assert {k: round(v, 2) for k, v in by_channel.items() if v} == {k: v for k, v in billed.items() if v}


def test_the_report_opens_with_what_a_user_ops_lead_reads_first(serving):
    """Seen: no headline KPIs with their day-on-day and week-on-week change, no retention table
    with cohort sizes, no churn-warning list, no lifecycle and RFM mix."""
    page = (serving["report"] / "report.html").read_text(encoding="utf-8")
    [kpis] = report_tables(page, "headline")
    assert [row[0] for row in kpis[1:]] == ["new members 新增会员", "active users 活跃用户", "buyers 购买人数",
                                           "orders 订单数", "GMV CNY 成交额", "AOV CNY 客单价", "repurchase rate 复购率"]
    with duckdb.connect(str(serving["warehouse"]), read_only=True) as conn:
        active, yesterday = (conn.execute("select active_users from marts.daily_kpis where kpi_date = ?", [d]).fetchone()[0]
                             for d in (DAY, "2026-08-13"))
    assert kpis[2][1] == f"{active:,}" and kpis[2][2] == f"{(active - yesterday) / yesterday * 100:+.1f}%"
    [retention] = report_tables(page, "retention")
    assert retention[0][:3] == ["week cohort 注册周", "registered 注册人数", "D1 次日留存"] and len(retention) > 1
    [warnings] = report_tables(page, "churn-warnings")
    [lifecycle, rfm] = report_tables(page, "lifecycle-and-rfm")
    assert warnings[0][1] == "person 用户" and lifecycle[1][1] and rfm[1][0]
    total = sum(int(row[2].replace(",", "")) for row in lifecycle[1:])
    with duckdb.connect(str(serving["warehouse"]), read_only=True) as conn:
        assert total == conn.execute("select count(*) from marts.user_profile").fetchone()[0]


def test_the_report_renders_in_headless_chromium(serving, tmp_path):
    page = serving["report"] / "report.html"
    dom = dump_dom(page.as_uri(), tmp_path)
    assert dom.count("<img") == 6 and dom.count("<section") == 10 and "用户运营日报" in dom
    shot = screenshot(page.as_uri(), tmp_path / "report.png", tmp_path, size=(1200, 2400))
    assert non_blank_share(shot) > 0.05           # charts drawn, not an empty white page


def test_the_report_links_from_the_runs_metadata(pipeline_run, monkeypatch):
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", pipeline_run["env"]["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["reports", "daily_report"]))
        serving_event = instance.get_latest_materialization_event(dg.AssetKey(["serving", "bi_copy"]))
    metadata = event.asset_materialization.metadata
    # Seen: the report link was a file:// URL, which browsers block from the UI's http page.
    assert not any(str(getattr(v, "value", "")).startswith("file://") for v in metadata.values())
    preview = metadata["report_preview"].value
    for heading in ("### 九宫格 · Nine-grid", "### 召回 · Recall", "### 数据质量 · Data quality"):
        assert heading in preview
    assert "| cell 格 | label 名称 | users 人数 |" in preview and not leaks(preview)
    assert metadata["report_path"].value.endswith(f"dt={DAY}/report.html")
    assert "| cell | users |" in metadata["nine_grid"].value
    sent = read_manifest(pipeline_run["tmp"] / "outbox" / f"dt={DAY}")["channels"]
    assert metadata["recall_cost_cny"].value == round(sum(v["cost"] for v in sent.values()), 2) > 0
    assert serving_event.asset_materialization.metadata["tables"].value == len(bi_tables(dbt_project.manifest_path))
