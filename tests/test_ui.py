"""The Dagster UI as staff open it: `dagster-webserver` on localhost on the sample run's instance,
its pages in headless Chromium: our stage groups on the asset graph, the CLI's runs on the job's
pages."""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.browser import dump_dom, free_port, non_blank_share, screenshot, wait_until_answering
from tests.conftest import REPO_ROOT

STAGES = ["ingest", "identity", "profile", "nine_grid", "churn", "recall", "serving"]


@pytest.fixture(scope="module")
def webserver(pipeline_run, tmp_path_factory):
    """`dagster-webserver` as `make dev` starts it (the code location of pyproject.toml's
    [tool.dagster]), on a copy of the sample run's instance."""
    tmp = tmp_path_factory.mktemp("ui")
    home = tmp / "dagster_home"
    shutil.copytree(pipeline_run["env"]["DAGSTER_HOME"], home)
    port = free_port()
    env = {**os.environ, **pipeline_run["env"], "DAGSTER_HOME": str(home)}
    webserver = Path(sys.executable).parent / "dagster-webserver"
    log_path = tmp / "webserver.log"
    log = log_path.open("w")
    server = subprocess.Popen([str(webserver), "-h", "127.0.0.1", "-p", str(port)],
                              env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/server_info", server, log_path, 180)
        yield {"url": f"http://127.0.0.1:{port}", "tmp": tmp}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def test_the_asset_graph_page_loads_with_our_groups(webserver, tmp_path):
    url = f"{webserver['url']}/asset-groups"
    dom = dump_dom(url, tmp_path, wait_ms=30_000)
    missing = [group for group in STAGES if group not in dom]
    assert not missing, f"groups missing from the asset graph page: {missing}"
    assert "cannot be displayed" not in dom and "circular" not in dom, "the UI could not draw the graph"
    shot = screenshot(url, tmp_path / "asset-graph.png", tmp_path, size=(1400, 900), wait_ms=30_000)
    assert non_blank_share(shot) > 0.02


def test_cli_runs_show_on_the_overview_timeline_and_the_jobs_runs_tab(webserver, pipeline_run, tmp_path):
    """Seen: CLI runs showed on /runs, but the Overview timeline and the job's Runs tab said "No runs"."""
    data = graphql(webserver["url"], """{
        pipelineOrError(params: {repositoryLocationName: "userops", repositoryName: "__repository__",
                                 pipelineName: "daily_pipeline"}) {
            ... on Pipeline { runs { runId repositoryOrigin { repositoryLocationName repositoryName } } } } }""")
    runs = data["pipelineOrError"]["runs"]
    assert runs, "the job's Runs tab lists no run"
    assert {(r["repositoryOrigin"]["repositoryLocationName"], r["repositoryOrigin"]["repositoryName"]) for r in runs} \
        == {("userops", "__repository__")}                     # what the Overview timeline groups by
    dom = dump_dom(f"{webserver['url']}/locations/userops/jobs/daily_pipeline/runs", tmp_path, wait_ms=30_000)
    assert runs[0]["runId"][:8] in dom and "No runs" not in dom


def test_assets_show_no_day_partitions_and_dbt_assets_carry_no_noise(webserver):
    """Seen: every asset showed ~1,066 daily partitions "8 % filled"; then a year's range spent
    minutes writing a planned event per asset per day. A run's days are its tags now."""
    data = graphql(webserver["url"], """{
        assetNodes(assetKeys: [{path: ["raw", "sales"]}, {path: ["marts", "user_profile"]}]) {
            assetKey { path } partitionKeys
            metadataEntries { label ... on TextMetadataEntry { text } } } }""")
    for node in data["assetNodes"]:
        assert node["partitionKeys"] == [], node["assetKey"]
        shown = [e["label"] for e in node["metadataEntries"] if "unserializable" in (e.get("text") or "")]
        assert set(shown) <= {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}    # the UI hides these
