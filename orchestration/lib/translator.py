"""How dbt nodes show up in Dagster: grouped by layer folder, owned, described."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class UseropsTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"          # staging / intermediate / marts

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        owners = (dbt_resource_props.get("meta") or {}).get("owners")
        return owners or ["team:data-platform"]


translator = UseropsTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
