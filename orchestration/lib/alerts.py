"""Alerts for unattended runs: one line per root failure of a failed run, appended to a file
and, when configured, POSTed to a webhook (WeCom / DingTalk / Slack style `{"text": …}`)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path


def will_retry(tags: dict[str, str]) -> bool:
    """Dagster re-launches a failed run while its retry number is below its max retries."""
    try:
        return int(tags.get("dagster/retry_number", 0)) < int(tags.get("dagster/max_retries", 0))
    except ValueError:
        return False


def root_message(error) -> str:
    """The first line of the innermost cause of a Dagster error (the user's exception, not the
    wrapper that says a step failed)."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    return ((error.message or "").strip().splitlines() or [""])[0] if error is not None else ""


def failure_lines(run_id: str, job: str, partition: str, failures: list[tuple[str, str]],
                  run_error: str = "") -> list[str]:
    """`failures`: (step key, first line of its error) of each failed step; a step skipped
    because an upstream failed is no root failure and is not among them. A run that failed
    before any step (`run_error`) gives one line."""
    where = f"{job} {partition}".strip()
    if not failures:
        return [f"userops run {run_id[:8]} ({where}) FAILED: {run_error or 'see the run in Dagster'}"]
    return [f"userops run {run_id[:8]} ({where}) FAILED at {step}: {error}" for step, error in failures]


def send(lines: list[str], alert_file: Path | None, webhook: str = "", timeout_s: float = 10.0) -> None:
    if alert_file is not None:
        alert_file.parent.mkdir(parents=True, exist_ok=True)
        with alert_file.open("a", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)
    for line in lines if webhook else []:
        request = urllib.request.Request(webhook, data=json.dumps({"text": line}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=timeout_s).close()
