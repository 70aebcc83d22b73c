"""The Dagster UI as staff open it: `dagster-webserver` on localhost, the asset graph page in
headless Chromium, our stage groups on it."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.browser import dump_dom, non_blank_share, screenshot
from tests.conftest import REPO_ROOT

STAGES = ["ingest", "identity", "profile", "nine_grid", "churn", "recall", "serving"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_asset_graph_page_loads_with_our_groups(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "USEROPS_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    webserver = Path(sys.executable).parent / "dagster-webserver"
    log = (tmp_path / "webserver.log").open("w")
    server = subprocess.Popen([str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
                              env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "dagster-webserver did not answer in 180 s"
            time.sleep(1)
        url = f"http://127.0.0.1:{port}/asset-groups"
        dom = dump_dom(url, tmp_path, wait_ms=30_000)
        missing = [group for group in STAGES if group not in dom]
        assert not missing, f"groups missing from the asset graph page: {missing}"
        assert "cannot be displayed" not in dom and "circular" not in dom, "the UI could not draw the graph"
        shot = screenshot(url, tmp_path / "asset-graph.png", tmp_path, size=(1400, 900), wait_ms=30_000)
        assert non_blank_share(shot) > 0.02
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
