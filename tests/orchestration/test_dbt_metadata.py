"""The row count and full column schema each dbt node's materialization carries."""

import dagster as dg
import duckdb

from orchestration.lib.dbt_metadata import node_metadata, with_table_metadata


def test_every_column_with_its_type_and_yaml_description_and_a_row_count_for_tables():
    conn = duckdb.connect()
    conn.execute("create schema marts")
    conn.execute("create table marts.user_profile (person_id varchar, orders_total bigint, p_alive double)")
    conn.execute("insert into marts.user_profile values ('a', 1, 0.5), ('b', 0, null)")
    conn.execute("create view marts.v as select * from marts.user_profile")
    node = {"schema": "marts", "name": "user_profile", "resource_type": "model", "config": {"materialized": "table"},
            "columns": {"person_id": {"description": "The person."}}}
    metadata = node_metadata(conn, node)
    assert metadata["dagster/row_count"] == 2
    assert [(c.name, c.type, c.description) for c in metadata["dagster/column_schema"].columns] == [
        ("person_id", "varchar", "The person."), ("orders_total", "bigint", None), ("p_alive", "double", None)]
    view = node_metadata(conn, {**node, "name": "v", "config": {"materialized": "view"}})
    assert "dagster/row_count" not in view and len(view["dagster/column_schema"].columns) == 3
    assert node_metadata(conn, {**node, "name": "missing"}) == {}
    manifest = {"nodes": {"model.userops.user_profile": node}}
    output = dg.Output(None, "marts_user_profile", metadata={"unique_id": "model.userops.user_profile"})
    check = dg.AssetCheckResult(passed=True, asset_key=dg.AssetKey("x"), check_name="c")
    out, passed_through = with_table_metadata([output, check], manifest, conn)
    assert out.metadata["dagster/row_count"].value == 2 and out.metadata["unique_id"].value == "model.userops.user_profile"
    assert passed_through is check
