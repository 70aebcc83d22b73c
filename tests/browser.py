"""Headless Debian Chromium for the browser tests (installed by `make test` via `make browser`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium(tmp_path: Path) -> list[str]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "Chromium is missing: `make browser` installs Debian's chromium (make test does it first)"
    return [binary, *FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"]


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
