"""The recall outbox: each campaign day's send list (publication.pub_recall_send_list) written as
the files each sending system takes, under <outbox>/dt=<day>/<channel>/ with a manifest, and the
contact log that drives the frequency caps (a range writes every day of it, in order).

Consent and suppression are read again right before writing (the send list is a view); every
campaign's templates pass the pre-send checks before any file of the run is written; a day's
folder appears complete or not at all (orchestration/lib/outbox.py). Every write to the contact
log is here (replace_contact_log_day); its columns are defined once, by the create_contact_log
macro that creates it at the start of every dbt run.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path

from orchestration.lib import failpoints
from orchestration.lib.channels import Campaign, Contact, PreSendError, Template, writer
from orchestration.lib.outbox import MANIFEST, DayOutbox, OutboxError, expire, read_manifest
from orchestration.lib.relations import relation
from orchestration.settings import REPO_ROOT

CONTACT_LOG = "recall.contact_log"


class RecallRefused(RuntimeError):
    """Nothing of the run is written: a pre-send check failed, or the last day's folder differs."""


def code_version() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except OSError:
        commit = ""
    return f"userops {version('userops')}" + (f" ({commit})" if commit else "")


@dataclass
class Configuration:
    """What every campaign day of a run writes with: templates, channels, rules, settings."""

    templates: dict
    channels: dict
    rules: dict
    blocked: list[str]
    base_url: str
    short_link_base: str
    sms_variable_max: int
    retention_days: int
    consent_snapshot: str

    def campaign(self, campaign_id: str, rule_id: str, channel: str) -> Campaign:
        template = self.templates.get((self.rules[rule_id][1], channel))
        if template is None:
            raise PreSendError(f"{rule_id}: no {channel} template {self.rules[rule_id][1]} in recall_templates")
        _, cost, window_end, batch_size, sign_name = self.channels[channel]
        return Campaign(campaign_id, template, cost, window_end, batch_size, sign_name, self.base_url,
                        tuple(self.blocked), self.short_link_base, self.sms_variable_max)


def read_configuration(conn) -> Configuration:
    base_url, retention_days, short_link_base, sms_variable_max = conn.execute(
        f"""select landing_base_url, outbox_retention_days, short_link_base, sms_variable_max_chars
            from {relation('int_recall_settings')}""").fetchone()
    return Configuration(
        templates={(t, ch): Template(t, ch, body, code) for t, ch, body, code in conn.execute(
            f"select template_id, channel, body, provider_template from {relation('recall_templates')}").fetchall()},
        channels={r[0]: r for r in conn.execute(
            f"""select channel, cost_per_message, window_end_hour, batch_size, sign_name
                from {relation('recall_channels')}""").fetchall()},
        rules={r[0]: r for r in conn.execute(
            f"select rule_id, template_id, allow_empty from {relation('recall_rules')}").fetchall()},
        blocked=[w for (w,) in conn.execute(f"select word from {relation('blocked_words')} order by word").fetchall()],
        base_url=base_url, short_link_base=short_link_base, sms_variable_max=sms_variable_max,
        retention_days=retention_days,
        consent_snapshot=hashlib.sha256(repr(conn.execute(
            f"select * from {relation('int_recall_consent')} order by all").fetchall()).encode()).hexdigest())


def send_list(conn, day: date):
    """The day's send list as a DataFrame, in the order the files are written."""
    return conn.execute(f"""select * from {relation('pub_recall_send_list')} where campaign_date = ?
                            order by campaign_id, channel, send_at, person_id""", [day]).df()


def sendable(rows):
    return rows[(rows.test_group == "treatment") & rows.recheck.isna()]


def pre_send_problems(config: Configuration, day: date, rows) -> list[str]:
    """Everything that stops the run before its first file: a channel without a writer, a rule
    that may not be empty with nobody to send to, a template that breaks its channel's rules."""
    treatment = sendable(rows)
    problems = []
    for channel in sorted(set(treatment.channel)):
        try:
            writer(channel)
        except LookupError as error:
            problems.append(f"{error}: take it out of recall_rules.channels")
    empty = sorted(rule for rule, (_, _, allow_empty) in config.rules.items()
                   if not allow_empty and rule not in set(treatment.rule_id))
    if empty:
        problems.append(f"{day}: empty audience for rule(s) {', '.join(empty)}, which do not allow it (allow_empty)")
    for rule_id, channel in sorted(set(zip(treatment.rule_id, treatment.channel))):
        try:
            campaign = config.campaign("", rule_id, channel)
        except PreSendError as error:
            problems.append(str(error))
            continue
        try:
            check = getattr(writer(channel), "pre_send", None)
        except LookupError:
            continue                   # named above
        problems += [f"{rule_id} {channel}: {p}" for p in (check(campaign) if check else [])]
    return problems


def write_day(connect: Callable, outbox_root: Path, day: date, config: Configuration, rows, run_id: str,
              last: bool, log) -> dict:
    """One campaign day's files, complete or absent, and its contact log; what was written. An
    earlier day of a range whose folder is already committed with other files (consent changed
    since), or a day whose folder an erasure scrubbed, keeps its folder and contact log: they are
    what was sent then. Only the run's last day fails on a different result."""
    day_text = day.isoformat()
    treatment = sendable(rows)
    dropped = rows[(rows.test_group == "treatment") & rows.recheck.notna()]
    day_outbox = DayOutbox(outbox_root, day_text)
    summary: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    billed: dict[tuple[str, str], float] = {}           # (campaign, person) → what the contact costs
    try:
        for (campaign_id, rule_id, channel), group in treatment.groupby(["campaign_id", "rule_id", "channel"], sort=True):
            campaign = config.campaign(campaign_id, rule_id, channel)
            contacts = [Contact(campaign_id, r.person_id, r.send_at.to_pydatetime(), r.address, r.address_kind, r.owner,
                                f"{campaign.link}&t={r.link_token}", r.offer_text, r.email)
                        for r in group.itertuples()]
            result = writer(channel).send(day_outbox, campaign, contacts)
            for warning in result.pop("warnings", []):
                log.warning(warning)
            result.setdefault("cost", round(result["messages"] * campaign.cost_per_message, 2))
            by_person = result.pop("cost_by_person", None) or {c.person_id: campaign.cost_per_message for c in contacts}
            billed.update({(campaign_id, person): amount for person, amount in by_person.items()})
            for key, value in result.items():
                summary[channel][key] += value
        manifest = {
            "run_id": run_id,
            "code_version": code_version(),
            "consent_snapshot": config.consent_snapshot,
            "contacts": int(len(treatment)),
            "control_holdouts": int((rows.test_group == "control").sum()),
            "dropped_at_recheck": {reason: int(n) for reason, n in dropped.recheck.value_counts().sort_index().items()},
            "channels": {channel: {k: round(v, 2) for k, v in values.items()} for channel, values in sorted(summary.items())},
        }
        failpoints.reached("outbox_files_written")
        folder, written = day_outbox.commit(manifest)
        failpoints.reached("outbox_committed")
    except PreSendError as error:
        day_outbox.abandon()
        raise RecallRefused(f"pre-send checks failed for {day_text}, nothing of the day written: {error}") from error
    except OutboxError as error:
        day_outbox.abandon()
        scrubbed = "erasures" in (read_manifest(day_outbox.final) if (day_outbox.final / MANIFEST).exists() else {})
        if last and not scrubbed:
            raise RecallRefused(str(error)) from error
        log.warning(f"recall {day_text}: kept the folder already committed for the day (its files may have "
                    f"been sent) and its contact log; planned again now the day differs: {error}")
        return {"day": day_text, "folder": day_outbox.final, "contacts": 0, "control_holdouts": 0,
                "dropped_at_recheck": 0, "files": 0, "summary": {}, "kept": True}
    except BaseException:
        day_outbox.abandon()           # a crash mid-write leaves no folder behind
        raise

    # The contact log for the day: treatment contacts with their file, control holdouts without.
    files = {}
    for entry in day_outbox.files:
        if entry.channel == "links":
            continue
        for campaign_id in entry.campaign_ids:
            if entry.path.endswith((".csv", ".jsonl")) or campaign_id not in files:
                files[campaign_id] = entry.path
    contacts = rows[(rows.test_group == "control") | rows.recheck.isna()].copy()
    contacts["outbox_file"] = [files.get(c) if g == "treatment" else None
                               for c, g in zip(contacts.campaign_id, contacts.test_group)]
    contacts["run_id"] = run_id
    contacts["cost"] = [billed.get((c, p), 0.0) if g == "treatment" else 0.0
                        for c, p, g in zip(contacts.campaign_id, contacts.person_id, contacts.test_group)]
    with connect() as conn:
        replace_contact_log_day(conn, day, contacts)
    log.info(f"recall {day_text}: {len(treatment):,} contacts in {len(day_outbox.files)} files "
             f"({'written' if written else 'already there, unchanged'}), "
             f"{int((rows.test_group == 'control').sum()):,} held out, {len(dropped):,} dropped at the re-check")
    return {"day": day_text, "folder": folder, "contacts": int(len(treatment)),
            "control_holdouts": int((rows.test_group == "control").sum()), "dropped_at_recheck": int(len(dropped)),
            "files": len(day_outbox.files), "summary": summary}


def replace_contact_log_day(conn, day: date, contacts) -> None:
    """The contact log's rows of one campaign day, replaced in one transaction: every column of
    the table (as the macro made it) from `contacts`, a missing one an error."""
    columns = [c for (c,) in conn.execute(
        """select column_name from information_schema.columns where table_schema = 'recall'
           and table_name = 'contact_log' order by ordinal_position""").fetchall()]
    conn.register("todays_contacts", contacts[columns])
    conn.execute("begin")
    conn.execute(f"delete from {CONTACT_LOG} where campaign_date = ?", [day])
    conn.execute(f"insert into {CONTACT_LOG} by name select * from todays_contacts")
    conn.execute("commit")
    conn.unregister("todays_contacts")


def publish(connect: Callable, outbox_root: Path, days: list[date], run_id: str, log) -> dict:
    """Every campaign day of the run written in order, after every day passed the pre-send
    checks; retention applied; what was written, as the asset's metadata."""
    with connect() as conn:
        config = read_configuration(conn)
        lists = {day: send_list(conn, day) for day in days}
        exclusions = conn.execute(f"""select campaign_date, rule_id, outcome, persons from {relation('recall_exclusions')}
                                      where campaign_date >= ? and campaign_date <= ?
                                      order by campaign_date, rule_id, outcome""", [days[0], days[-1]]).fetchall()
    problems = sorted({p for day, rows in lists.items() for p in pre_send_problems(config, day, rows)})
    if problems:
        raise RecallRefused("pre-send checks failed, nothing written:\n" + "\n".join(problems))

    written = [write_day(connect, outbox_root, day, config, rows, run_id, day == days[-1], log)
               for day, rows in lists.items()]
    expired = expire(outbox_root, days[-1], config.retention_days)
    if expired:
        log.info(f"outbox retention ({config.retention_days} days): files of {', '.join(expired)} deleted, manifests kept")
    by_channel: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for result in written:
        for channel, values in result["summary"].items():
            for key, value in values.items():
                by_channel[channel][key] += value
    return {"written": written, "expired": expired, "exclusions": exclusions,
            "by_channel": {k: {m: round(n, 2) for m, n in v.items()} for k, v in by_channel.items()}}
