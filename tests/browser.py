"""Headless Debian Chromium for the browser tests (installed by `make test` via `make browser`)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answering(url: str, server: subprocess.Popen, log: Path, seconds: int) -> None:
    """Until `url` answers 200; fails with the end of the server's log if it exits or is too slow."""
    deadline = time.monotonic() + seconds
    while True:
        assert server.poll() is None, log.read_text()[-4000:]
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer in {seconds} s:\n{log.read_text()[-4000:]}"
        time.sleep(1)


def binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is missing: `make browser` installs Debian's chromium (make test does it first)"
    return found


def chromium(tmp_path: Path) -> list[str]:
    return [binary(), *FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"]


def playwright_chromium(playwright):
    """Debian's Chromium driven by Playwright (Playwright's own browser download cannot run here)."""
    return playwright.chromium.launch(executable_path=binary(), args=[f for f in FLAGS if f != "--headless"])


def dump_dom(url: str, tmp_path: Path, wait_ms: int = 0) -> str:
    """The page's DOM after its scripts ran (for `wait_ms` of virtual time)."""
    extra = [f"--virtual-time-budget={wait_ms}"] if wait_ms else []
    result = subprocess.run([*chromium(tmp_path), *extra, "--dump-dom", url], capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def screenshot(url: str, out: Path, tmp_path: Path, size: tuple[int, int] = (1280, 900), wait_ms: int = 0) -> Path:
    extra = [f"--virtual-time-budget={wait_ms}"] if wait_ms else []
    result = subprocess.run([*chromium(tmp_path), *extra, f"--window-size={size[0]},{size[1]}", f"--screenshot={out}", url],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and out.exists(), result.stderr[-2000:]
    return out


def non_blank_share(png: Path) -> float:
    """Share of pixels that are not (near) white."""
    from PIL import Image

    with Image.open(png) as image:
        grey = image.convert("L")
        histogram = grey.histogram()
    return 1 - sum(histogram[245:]) / sum(histogram)
