"""How dbt nodes show up in Dagster: one group per stage of the pipeline (ingest, identity,
profile, nine_grid, churn, recall, serving), owned, described from the dbt YAML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.lib.contract import SOURCES

# Staging folders that clean a landed source belong to the ingest stage; the others to their stage.
LANDING_SOURCES = set(SOURCES)
STAGING_STAGES = {"reference": "profile"}
# What the seeds wait for: the day's files loaded, so they build in the dbt step that stages them.
SEEDS_RUN_AFTER = [f"raw/{source}" for source in SOURCES]
SOURCE_STAGES = {"raw": "ingest", "reference": "profile"}


# What each kind of dbt test checks, said so a staff member reading the UI understands it.
TEST_PHRASES = {
    "not_null": "{column} is never empty",
    "unique": "{column} has no duplicates",
    "accepted_values": "{column} only takes the values {values}",
    "relationships": "every {column} exists in {to}",
}


def plain_words(test: Mapping[str, Any]) -> str:
    """A dbt test's description if it has one, else a sentence from its kind and arguments."""
    if (test.get("description") or "").strip():
        return test["description"].strip()
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs") or {}
    phrase = TEST_PHRASES.get(metadata.get("name", ""))
    if phrase:
        to = str(kwargs.get("to", "")).removeprefix("ref('").removesuffix("')")
        return phrase.format(column=kwargs.get("column_name", "the row"), to=to,
                             values=", ".join(str(v) for v in kwargs.get("values", [])))
    return test["name"].removeprefix("assert_").replace("_", " ").capitalize()


class UseropsTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        group = super().get_group_name(dbt_resource_props)     # `meta: {dagster: {group: …}}` wins (seeds set it)
        if group:
            return group
        if dbt_resource_props["resource_type"] == "source":           # tables the Python stages write
            source = dbt_resource_props["source_name"]
            return SOURCE_STAGES.get(source, source)
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] != "model" or len(fqn) < 4:
            return "profile"
        layer, folder = fqn[1], fqn[2]
        if layer == "staging":
            return "ingest" if folder in LANDING_SOURCES else STAGING_STAGES.get(folder, folder)
        return folder                                          # intermediate/<stage>, marts/<stage>

    def get_asset_spec(self, manifest, unique_id, project):
        """`meta: {dagster: {runs_after: [recall/outbox]}}` makes a model wait for Python assets
        it does not read through dbt (recall_outcomes reads the contact log the outbox writes).

        Seeds run after the day's files are loaded: Dagster runs the one dbt definition
        as a step on each side of every Python stage, numbering the sides by how many stages lie
        upstream; without an upstream, the seeds would make a dbt step of their own (one more dbt
        start-up) instead of joining the staging of the day's files."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or {}
        after = list(((node.get("config", {}).get("meta") or node.get("meta") or {}).get("dagster") or {})
                     .get("runs_after") or [])
        if node.get("resource_type") == "seed":
            after += SEEDS_RUN_AFTER
        return spec.merge_attributes(deps=[dg.AssetKey(key.split("/")) for key in after]) if after else spec

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        return spec._replace(description=plain_words(manifest["nodes"][unique_id])) if spec else None

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        owners = (dbt_resource_props.get("meta") or {}).get("owners")
        return owners or ["team:data-platform"]


translator = UseropsTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
