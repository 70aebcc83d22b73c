"""A day's outbox folder, complete or absent: files are written into a scratch folder beside it,
verified, described by `manifest.json` (written last), and the folder is renamed into place.

Re-running a day with the same inputs gives byte-identical files; when the day's folder already
holds exactly those files it is left as it is (its manifest names the run that wrote it). A
committed day is never overwritten by a different result — files may already have been sent —
and another day's folder is only touched to erase a person (orchestration/lib/erasure.py) or when
its retention ends (`expire`: the files go, the manifest stays, saying so).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

MANIFEST = "manifest.json"


class OutboxError(RuntimeError):
    """The day's files cannot be committed (a different result is already there, or a check failed)."""


@dataclass
class OutboxFile:
    channel: str
    path: str                      # relative to the day's folder
    rows: int
    campaign_ids: list[str]
    encoding: str = "utf-8"
    bytes: int = 0
    sha256: str = ""


@dataclass
class DayOutbox:
    """Collects one day's files in a scratch folder; `commit` makes them visible at once."""

    root: Path
    day: str
    files: list[OutboxFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.final = self.root / f"dt={self.day}"
        # Same parent as the final folder, so the rename is atomic (never across filesystems).
        self.scratch = self.root / f".dt={self.day}.tmp-{os.getpid()}"
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)

    def write_text(self, channel: str, relative: str, text: str, rows: int, campaign_ids: list[str]) -> OutboxFile:
        return self.write_bytes(channel, relative, text.encode("utf-8"), rows, campaign_ids)

    def write_bytes(self, channel: str, relative: str, data: bytes, rows: int, campaign_ids: list[str]) -> OutboxFile:
        path = self.scratch / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entry = OutboxFile(channel, relative, rows, sorted(set(campaign_ids)))
        self.files.append(entry)
        return entry

    def abandon(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def commit(self, manifest: dict) -> tuple[Path, bool]:
        """Verify, write the manifest last, rename into place. Returns (folder, written): written is
        False when the day's folder already held the same files."""
        try:
            for entry in self.files:
                data = (self.scratch / entry.path).read_bytes()
                entry.bytes, entry.sha256 = len(data), hashlib.sha256(data).hexdigest()
            digests = {entry.path: entry.sha256 for entry in self.files}
            if self.final.exists():
                committed = read_manifest(self.final)
                if {f["path"]: f["sha256"] for f in committed["files"]} == digests:
                    self.abandon()
                    return self.final, False
                raise OutboxError(
                    f"{self.final} is already committed with different files (they may have been sent); "
                    "move it away deliberately to write this day again")
            body = {**manifest, "day": self.day, "files": [asdict(entry) for entry in sorted(self.files, key=lambda f: f.path)]}
            (self.scratch / MANIFEST).write_text(json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                                 encoding="utf-8")
            self.scratch.rename(self.final)
            return self.final, True
        except BaseException:
            self.abandon()
            raise


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def verify(folder: Path) -> list[str]:
    """Problems with a committed day: files missing, extra, or not matching the manifest."""
    problems = []
    manifest = read_manifest(folder)
    listed = {f["path"]: f for f in manifest["files"]}
    present = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST}
    problems += [f"missing {path}" for path in sorted(set(listed) - present)]
    problems += [f"not in the manifest: {path}" for path in sorted(present - set(listed))]
    for path in sorted(set(listed) & present):
        data = (folder / path).read_bytes()
        if hashlib.sha256(data).hexdigest() != listed[path]["sha256"] or len(data) != listed[path]["bytes"]:
            problems.append(f"changed since written: {path}")
    return problems


def expire(root: Path, today: date, keep_days: int) -> list[str]:
    """Delete the files of day folders older than `keep_days` before `today`, keeping each
    manifest (file names, counts and digests: no personal data) with an `expired` entry.
    Returns the days expired by this call."""
    cutoff, expired = today - timedelta(days=keep_days), []
    for folder in sorted(root.glob("dt=*")) if root.is_dir() else []:
        try:
            day = date.fromisoformat(folder.name.removeprefix("dt="))
        except ValueError:
            continue
        if day >= cutoff or not (folder / MANIFEST).exists():
            continue
        files = [p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST]
        if not files:
            continue
        for path in files:
            path.unlink()
        for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
            sub.rmdir()
        manifest = read_manifest(folder)
        manifest["expired"] = {"on": today.isoformat(), "files_deleted": len(files), "retention_days": keep_days}
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                       encoding="utf-8")
        expired.append(folder.name)
    return expired
