"""Smoke test of the code location: assets, checks, job, schedule, pools."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.definitions import defs

SOURCES = ["online", "offline", "sales", "social", "consent"]


def test_assets_and_checks_present():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"raw/{s}" for s in SOURCES} <= keys
    assert {"staging/stg_online__events", "staging/stg_offline__records", "staging/stg_sales__orders",
            "staging/stg_social__interactions", "staging/stg_consent__events"} <= keys
    assert {"identity/components", "marts/identity_map", "marts/identity_junk",
            "intermediate/int_identity_edges", "identity_blocklist", "identity_link_caps", "marts/persons"} <= keys
    checks = {c.to_user_string() for c in graph.asset_check_keys}
    for source in SOURCES:
        assert {f"raw/{source}:files_readable", f"raw/{source}:quarantine_rate"} <= checks
    assert "staging/stg_online__events:unique_stg_online__events_event_id" in checks
    # Seen: the singular tests (recall safety, send window, a profile per person) were logged as
    # observations, so the guarded model's Checks tab did not show them.
    assert {"marts/recall_audience:assert_recall_audience_respects_consent_control_and_caps",
            "marts/recall_audience:assert_recall_send_at_inside_the_channel_window",
            "marts/user_profile:assert_every_person_has_a_profile",
            "marts/identity_map:assert_no_oversized_person"} <= checks
    # dbt tests read as sentences in the UI.
    def described(key):
        asset, name = key.rsplit(":", 1)
        return graph.get_check_spec(dg.AssetCheckKey(dg.AssetKey(asset.split("/")), name)).description

    assert described("staging/stg_online__events:unique_stg_online__events_event_id") == "event_id has no duplicates"
    assert described("marts/identity_map:assert_no_oversized_person").startswith("No person holds more identifiers")


def test_dbt_sources_are_the_ingestion_assets():
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["staging", "stg_online__events"])).parent_keys
    assert dg.AssetKey(["raw", "online"]) in parents
    assert graph.get(dg.AssetKey(["raw", "online"])).is_materializable   # not an external source


def test_every_warehouse_writer_is_in_the_warehouse_pool():
    for assets_def in defs.assets:
        if isinstance(assets_def, dg.AssetSpec):          # tables written by another asset: nothing runs
            continue
        node = assets_def.node_def
        assert node.pool == "warehouse", f"{node.name} writes DuckDB outside the warehouse pool"


def test_job_and_schedule(tmp_path, monkeypatch):
    monkeypatch.setenv("USEROPS_WAREHOUSE", str(tmp_path / "none.duckdb"))     # no unfinished day to catch up
    job = defs.resolve_job_def("daily_pipeline")
    assert job.partitions_def is None         # a run's days are its tags (orchestration/defs/window.py)
    schedule = defs.resolve_schedule_def("daily_pipeline_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    # A tick at 02:00 business time asks for the previous business day.
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 22, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        repository_def=defs.get_repository_def())
    requests = list(schedule.evaluate_tick(context).run_requests)
    assert [(r.tags["userops/first_day"], r.tags["userops/last_day"]) for r in requests] == [("2026-11-21", "2026-11-21")]


def test_identity_stage_sits_between_the_two_dbt_builds():
    graph = defs.resolve_asset_graph()
    components = dg.AssetKey(["identity", "components"])
    assert graph.get(components).parent_keys == {dg.AssetKey(["intermediate", "int_identity_edges"])}
    registry = dg.AssetKey(["identity", "person_registry"])
    assert components in graph.get(registry).parent_keys
    assert registry in graph.get(dg.AssetKey(["staging", "stg_identity__person_ids"])).parent_keys
    groups = {graph.get(k).group_name for k in (components, registry, dg.AssetKey(["marts", "identity_map"]),
                                                  dg.AssetKey(["marts", "person_merges"]),
                                                  dg.AssetKey(["intermediate", "int_identity_edges"]))}
    assert groups == {"identity"}
    assert {graph.get(dg.AssetKey(["marts", m])).group_name for m in ("user_profile", "user_profile_daily",
                                                                       "user_tags", "user_interactions")} == {"profile"}
    assert graph.get(dg.AssetKey(["reference", "phone_regions"])).group_name == "profile"
    assert {graph.get(dg.AssetKey(["marts", m])).group_name
            for m in ("nine_grid_daily", "nine_grid_summary", "nine_grid_transitions")} == {"nine_grid"}
    assert graph.get(dg.AssetKey(["marts", "lapsed_users"])).group_name == "churn"
    checks = {c.to_user_string() for c in graph.asset_check_keys}
    assert {"identity/person_registry:every_identifier_has_exactly_one_person",
            "identity/person_registry:no_blocklisted_or_shared_identifier_links_persons"} <= checks


STAGES = {"ingest", "identity", "profile", "nine_grid", "churn", "recall", "serving"}


def test_the_asset_graph_has_no_cycle():
    """The UI refuses to draw a circular graph (e.g. the contact log written after the caps read it)."""
    graph = defs.resolve_asset_graph()
    state: dict = {}

    def visit(key, path):
        if state.get(key) == "done":
            return
        assert state.get(key) != "open", " → ".join(k.to_user_string() for k in [*path, key])
        state[key] = "open"
        for parent in graph.get(key).parent_keys:
            visit(parent, [*path, key])
        state[key] = "done"

    for key in graph.get_all_asset_keys():
        visit(key, [])


def test_the_ui_groups_assets_by_stage_and_describes_each():
    graph = defs.resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.setdefault(node.group_name, set()).add(key.to_user_string())
        assert node.group_name in STAGES, f"{key.to_user_string()} is in group {node.group_name}"
        assert node.owners, f"{key.to_user_string()} has no owner"
        if not key.path[-1].startswith(("stg_", "int_")) and key.path[0] not in ("staging", "intermediate"):
            assert (node.description or "").strip(), f"{key.to_user_string()} has no description"
    assert set(groups) == STAGES
    assert {"raw/online", "staging/stg_online__events"} <= groups["ingest"]
    assert {"marts/nine_grid_daily", "nine_grid_thresholds"} <= groups["nine_grid"]
    assert {"recall/outbox", "recall_rules", "recall/contact_log"} <= groups["recall"]
    assert {"serving/bi_copy", "reports/daily_report", "display_labels"} <= groups["serving"]
    # Column schemas from the dbt YAML reach the UI.
    profile = graph.get(dg.AssetKey(["marts", "user_profile"]))
    columns = {c.name for c in profile.metadata["dagster/column_schema"].columns}
    assert {"person_id", "lifecycle_stage", "p_alive"} <= columns


def test_a_day_is_done_only_after_every_other_asset():
    graph = defs.resolve_asset_graph()
    done = dg.AssetKey(["serving", "completed_days"])
    upstream, frontier = set(), {done}
    while frontier:
        frontier = {p for k in frontier for p in graph.get(k).parent_keys} - upstream
        upstream |= frontier
    # Seeds (one-part keys) are built inside the dbt steps, which are upstream: a failed seed test fails its step.
    others = {k for k in graph.get_all_asset_keys()
              if k != done and graph.get(k).is_materializable and len(k.path) > 1}
    assert others - upstream == set()


def test_the_schedule_catches_up_a_day_that_never_completed(tmp_path, monkeypatch):
    import duckdb

    from orchestration.defs.schedules import scheduled_request
    from orchestration.lib.raw_store import ensure_ledger
    from orchestration.lib.run_days import record_completed
    from orchestration.settings import Settings

    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("USEROPS_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("USEROPS_LANDING", str(tmp_path / "landing"))
    with duckdb.connect(str(warehouse)) as conn:
        ensure_ledger(conn)
        conn.execute("insert into raw.ingested_files (source, _dt, file) values "
                     "('online', '2026-11-19', 'a'), ('online', '2026-11-20', 'b')")
        record_completed(conn, [date(2026, 11, 19)], "run-1")             # 11-20 failed
    tick = datetime(2026, 11, 22, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    request = scheduled_request(Settings.from_env(), tick)
    assert (request.tags["userops/first_day"], request.tags["userops/last_day"]) == \
        ("2026-11-20", "2026-11-21")


def test_descriptions_show_whole_in_the_ui():
    """Seen: descriptions holding `<day>` or `<table>` were cut, the UI reading them as HTML tags;
    and every dbt asset listed `dagster_dbt/project [DbtProject] (unserializable)`."""
    import re

    from dagster._core.definitions.metadata import normalize_metadata

    def bare_tags(text: str | None) -> list[str]:
        text = re.sub(r"```.*?```", "", text or "", flags=re.S)          # code is shown as written
        return re.findall(r"<[A-Za-z_/][^>]*>", re.sub(r"`[^`]*`", "", text))

    graph = defs.resolve_asset_graph()
    cut = {key.to_user_string(): bare_tags(graph.get(key).description) for key in graph.get_all_asset_keys()}
    cut |= {key.to_user_string(): bare_tags(graph.get_check_spec(key).description) for key in graph.asset_check_keys}
    assert {k: v for k, v in cut.items() if v} == {}
    hidden_by_the_ui = {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}
    noise = {(key.to_user_string(), label) for key in graph.get_all_asset_keys()
             for label, value in normalize_metadata(graph.get(key).metadata, allow_invalid=True).items()
             if "unserializable" in str(getattr(value, "value", "")) and label not in hidden_by_the_ui}
    assert noise == set()


def test_a_year_long_range_plans_each_asset_and_check_once(tmp_path, monkeypatch):
    """Seen (issue 17): a range run wrote a planned event per partitioned asset per day, and a row
    per check per day, before its first step: a 365-day range waited over a minute, ~80 assets ×
    92 days kept the demo waiting 80–210 s."""
    import shutil

    from dagster._core.execution.api import create_execution_plan

    from orchestration.lib.run_days import window_tags
    from tests.conftest import REPO_ROOT

    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    job = defs.resolve_job_def("daily_pipeline")
    tags = window_tags(date(2025, 1, 1), date(2025, 12, 31))
    with dg.DagsterInstance.get() as instance:
        run = instance.create_run_for_job(job_def=job, execution_plan=create_execution_plan(job, tags=tags), tags=tags)
        planned = instance.get_records_for_run(run.run_id, of_type={
            dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED},
            limit=100_000).records
    graph = defs.resolve_asset_graph()
    assert len(planned) == len(graph.get_all_asset_keys()) - len(graph.external_asset_keys) + len(graph.asset_check_keys)
