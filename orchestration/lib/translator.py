"""How dbt nodes show up in Dagster: one group per stage of the pipeline (ingest, identity,
profile, nine_grid, churn, recall, serving), owned, described from the dbt YAML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

# Staging folders that clean a landed source belong to the ingest stage; the others to their stage.
LANDING_SOURCES = {"online", "offline", "sales", "social", "consent"}
STAGING_STAGES = {"reference": "profile"}
SOURCE_STAGES = {"raw": "ingest", "reference": "profile"}


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

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        owners = (dbt_resource_props.get("meta") or {}).get("owners")
        return owners or ["team:data-platform"]


translator = UseropsTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
