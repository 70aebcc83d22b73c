"""dbt-project-evaluator's main rules, checked on target/manifest.json (no dbt packages here)."""

import json
from pathlib import Path

import pytest

from orchestration.dbt_project import dbt_project

PREFIX = {"staging": "stg_", "intermediate": "int_", "publication": "pub_"}


@pytest.fixture(scope="module")
def manifest():
    return json.loads(Path(dbt_project.manifest_path).read_text())


def _models(manifest):
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_layer_prefixes(manifest):
    for model in _models(manifest):
        layer = model["fqn"][1]
        if layer in PREFIX:
            assert model["name"].startswith(PREFIX[layer]), model["name"]


def test_sources_are_read_only_in_staging(manifest):
    for model in _models(manifest):
        if model["depends_on"]["nodes"] and any(d.startswith("source.") for d in model["depends_on"]["nodes"]):
            assert model["fqn"][1] == "staging", f"{model['name']} reads a source outside staging"


def test_every_model_is_documented_and_has_a_primary_key_test(manifest):
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    for model in _models(manifest):
        assert model["description"].strip(), f"{model['name']} has no description"
        tested = {t["test_metadata"]["name"] for t in tests
                  if model["unique_id"] in t["depends_on"]["nodes"] and t.get("test_metadata")}
        assert {"unique", "not_null"} <= tested, f"{model['name']} lacks a unique + not_null key test"
