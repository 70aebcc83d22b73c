"""The recall outbox: each campaign day's recall audience as files each sending system takes as
they are, under USEROPS_OUTBOX/dt=<day>/<channel>/, with a manifest, and the contact log that
drives the frequency caps (a range run writes every day of the range, in order). Consent and
suppression are checked again right before writing; every campaign's templates pass the pre-send
checks before any file is written; the day's folder appears complete or not at all."""

import hashlib
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from importlib.metadata import version

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from orchestration.defs.ingest import window_days
from orchestration.defs.partitions import DAILY_WAREHOUSE_ASSET
from orchestration.defs.resources import OutputFolder
from orchestration.defs.transform import dbt_after_purchase_model
from orchestration.lib import failpoints
from orchestration.lib.channels import Contact, PreSendError, Template, ads, call, email, push, sms, wechat, wecom
from orchestration.lib.outbox import MANIFEST, DayOutbox, OutboxError, expire, read_manifest
from orchestration.settings import REPO_ROOT

CONTACT_LOG = "recall.contact_log"
WRITERS = ("sms", "push", "wechat", "wecom", "call", "email", "ads")

# A campaign day's audience with what the writers need, and the consent and suppression state
# read again now (int_recall_channel_consent is a view over the consent events as they are now).
AUDIENCE = """
with audience as (
    select * from marts.recall_audience where campaign_date = ?
)
select
    a.campaign_date, a.campaign_id, a.person_id, a.rule_id, a.channel, a.test_group, a.send_at, a.link_token,
    ad.address, ad.address_kind, ad.owner, ad.email,
    o.offer_text_zh as offer_text,
    case
        when coalesce(cc.opted_out, false) then 'opted_out_since_the_audience_was_built'
        when ch.needs_opt_in and not coalesce(cc.opted_in, false) then 'no_opt_in'
        when sp.person_id is not null then 'suppressed'
        when ad.address is null and ad.email is null then 'no_usable_identifier'
    end as recheck
from audience a
join main.recall_offers o on o.offer = a.offer
join main.recall_channels ch on ch.channel = a.channel
left join (
    -- one address per person and channel; ads carry the email beside the phone
    select person_id, channel,
           max(case when not (channel = 'ads' and address_kind = 'email') then address end) as address,
           max(case when not (channel = 'ads' and address_kind = 'email') then address_kind end) as address_kind,
           max(owner) as owner,
           max(case when channel = 'ads' and address_kind = 'email' then address end) as email
    from intermediate.int_recall_addresses
    group by person_id, channel
) ad on ad.person_id = a.person_id and ad.channel = a.channel
left join intermediate.int_recall_channel_consent cc on cc.person_id = a.person_id and cc.channel = a.channel
left join intermediate.int_recall_suppressed_persons sp on sp.person_id = a.person_id
order by a.campaign_id, a.channel, a.send_at, a.person_id
"""


def _code_version() -> str:
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


def read_configuration(conn) -> Configuration:
    base_url, retention_days, short_link_base, sms_variable_max = conn.execute(
        """select landing_base_url, outbox_retention_days, short_link_base, sms_variable_max_chars
           from intermediate.int_recall_settings""").fetchone()
    return Configuration(
        templates={(t, ch): Template(t, ch, body, code) for t, ch, body, code in conn.execute(
            "select template_id, channel, body, provider_template from main.recall_templates").fetchall()},
        channels={r[0]: r for r in conn.execute(
            "select channel, cost_per_message, window_end_hour, batch_size, sign_name from main.recall_channels").fetchall()},
        rules={r[0]: r for r in conn.execute("select rule_id, template_id, allow_empty from main.recall_rules").fetchall()},
        blocked=[w for (w,) in conn.execute("select word from main.blocked_words order by word").fetchall()],
        base_url=base_url, short_link_base=short_link_base, sms_variable_max=sms_variable_max,
        retention_days=retention_days,
        consent_snapshot=hashlib.sha256(repr(conn.execute(
            "select * from intermediate.int_recall_consent order by all").fetchall()).encode()).hexdigest())


def pre_send_problems(config: Configuration, treatment) -> list[str]:
    """Every template in use against its channel's rules, before anything is written."""
    problems = []
    for rule_id, channel in sorted(set(zip(treatment.rule_id, treatment.channel))):
        template = config.templates.get((config.rules[rule_id][1], channel))
        if template is None:
            problems.append(f"{rule_id}: no {channel} template {config.rules[rule_id][1]} in recall_templates")
        elif channel == "sms":
            problems += [f"{rule_id} sms: {p}" for p in sms.check(template, config.blocked, config.short_link_base)]
        elif channel == "push":
            problems += [f"{rule_id} push: {p}" for p in push.check(template)]
    return problems


def write_day(context: dg.AssetExecutionContext, warehouse: DuckDBResource, outbox_root, day, config: Configuration,
              rows, last: bool) -> dict:
    """One campaign day's files, complete or absent, and its contact log; what was written. An
    earlier day of a range whose folder is already committed with other files (consent changed
    since), or a day whose folder an erasure scrubbed, keeps its folder and contact log: they are
    what was sent then. Only the run's last day fails on a different result."""
    day_text = day.isoformat()
    treatment = rows[(rows.test_group == "treatment") & rows.recheck.isna()]
    dropped = rows[(rows.test_group == "treatment") & rows.recheck.notna()]
    day_outbox = DayOutbox(outbox_root, day_text)
    summary: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    billed: dict[tuple[str, str], float] = {}           # (campaign, person) → what the contact costs
    try:
        for (campaign_id, rule_id, channel), group in treatment.groupby(["campaign_id", "rule_id", "channel"], sort=True):
            template = config.templates[(config.rules[rule_id][1], channel)]
            _, cost, window_end, batch_size, sign_name = config.channels[channel]
            base_url = config.base_url
            contacts = [Contact(campaign_id, r.person_id, r.send_at.to_pydatetime(), r.address, r.address_kind, r.owner,
                                f"{base_url}?c={campaign_id}&t={r.link_token}", r.offer_text, r.email)
                        for r in group.itertuples()]
            if channel == "sms":
                result = sms.write(day_outbox, campaign_id, contacts, template, sign_name, cost, batch_size,
                                   config.blocked, config.short_link_base, config.sms_variable_max)
                longest = result.pop("max_segments")
                if longest > 1:
                    context.log.warning(f"SMS {campaign_id}: messages of up to {longest} segments, each billed "
                                        f"{longest} × {cost} CNY: shorten template {template.template_id} to one "
                                        "segment (70 characters with the signature)")
            elif channel == "push":
                result = push.write(day_outbox, campaign_id, contacts, template, batch_size, f"{base_url}?c={campaign_id}")
            elif channel == "wechat":
                result = wechat.write(day_outbox, campaign_id, contacts, template)
            elif channel == "wecom":
                result = wecom.write(day_outbox, campaign_id, contacts, template, batch_size, f"{base_url}?c={campaign_id}")
            elif channel == "email":
                result = email.write(day_outbox, campaign_id, contacts, f"{base_url}/unsubscribe")
            elif channel == "ads":
                result = ads.write(day_outbox, campaign_id, contacts)
            else:
                result = call.write(day_outbox, campaign_id, contacts, window_end)
            result.setdefault("cost", round(result["messages"] * cost, 2))
            by_person = result.pop("cost_by_person", None) or {c.person_id: cost for c in contacts}
            billed.update({(campaign_id, person): amount for person, amount in by_person.items()})
            for key, value in result.items():
                summary[channel][key] += value
        manifest = {
            "run_id": context.run.run_id,
            "code_version": _code_version(),
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
        raise dg.Failure(f"pre-send checks failed for {day_text}, nothing of the day written: {error}") from error
    except OutboxError as error:
        day_outbox.abandon()
        scrubbed = "erasures" in (read_manifest(day_outbox.final) if (day_outbox.final / MANIFEST).exists() else {})
        if last and not scrubbed:
            raise dg.Failure(str(error)) from error
        context.log.warning(f"recall {day_text}: kept the folder already committed for the day (its files may have "
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
    log = rows[(rows.test_group == "control") | rows.recheck.isna()].copy()
    log["outbox_file"] = [files.get(c) if g == "treatment" else None for c, g in zip(log.campaign_id, log.test_group)]
    log["run_id"] = context.run.run_id
    log["cost"] = [billed.get((c, p), 0.0) if g == "treatment" else 0.0
                   for c, p, g in zip(log.campaign_id, log.person_id, log.test_group)]
    with warehouse.get_connection() as conn:
        conn.execute("create schema if not exists recall")
        conn.register("todays_contacts", log[["campaign_date", "campaign_id", "person_id", "rule_id", "channel",
                                              "test_group", "send_at", "outbox_file", "run_id", "cost"]])
        conn.execute("begin")
        conn.execute(f"delete from {CONTACT_LOG} where campaign_date = ?", [day])
        conn.execute(f"insert into {CONTACT_LOG} by name select * from todays_contacts")
        conn.execute("commit")
        conn.unregister("todays_contacts")
    context.log.info(f"recall {day_text}: {len(treatment):,} contacts in {len(day_outbox.files)} files "
                     f"({'written' if written else 'already there, unchanged'}), "
                     f"{int((rows.test_group == 'control').sum()):,} held out, {len(dropped):,} dropped at the re-check")
    return {"day": day_text, "folder": folder, "contacts": int(len(treatment)),
            "control_holdouts": int((rows.test_group == "control").sum()), "dropped_at_recheck": int(len(dropped)),
            "files": len(day_outbox.files), "summary": summary}


@dg.asset(
    key=["recall", "outbox"],
    deps=[get_asset_key_for_model([dbt_after_purchase_model], "recall_audience"),
          get_asset_key_for_model([dbt_after_purchase_model], "recall_exclusions")],
    group_name="recall",
    description=("Each campaign day's recall files for the sending systems (SMS batches and CSV with their short "
                 "links, push, WeChat subscribe notifications, WeCom tasks, call lists, email, ad audiences) under "
                 "`USEROPS_OUTBOX/dt=<day>/` with `manifest.json`, and the contact log (treatment contacts and "
                 "control holdouts) that drives the frequency caps; a range run writes every day of the range, in "
                 "order, as its daily runs would. Consent and suppression are re-checked right before writing; "
                 "the control group never reaches a file."),
    **{**DAILY_WAREHOUSE_ASSET, "kinds": {"python", "duckdb"}},
)
def recall_outbox(context: dg.AssetExecutionContext, warehouse: DuckDBResource,
                  outbox: OutputFolder) -> dg.MaterializeResult:
    _, _, days = window_days(context)
    with warehouse.get_connection() as conn:
        config = read_configuration(conn)
        audiences = {day: conn.execute(AUDIENCE, [day]).df() for day in days}
        exclusions = conn.execute("""select campaign_date, rule_id, outcome, persons from marts.recall_exclusions
                                     where campaign_date >= ? and campaign_date <= ?
                                     order by campaign_date, rule_id, outcome""", [days[0], days[-1]]).fetchall()

    # Every day's audience passes before the first file of the run is written.
    problems = []
    for day, rows in audiences.items():
        treatment = rows[(rows.test_group == "treatment") & rows.recheck.isna()]
        unsupported = sorted(set(treatment.channel) - set(WRITERS))
        if unsupported:
            raise dg.Failure(f"no writer for channel(s) {', '.join(unsupported)}: take them out of recall_rules.channels")
        empty = sorted(rule for rule, (_, _, allow_empty) in config.rules.items()
                       if not allow_empty and rule not in set(treatment.rule_id))
        if empty:
            raise dg.Failure(f"{day}: empty audience for rule(s) {', '.join(empty)}, which do not allow it (allow_empty)")
        problems += pre_send_problems(config, treatment)
    if problems:
        raise dg.Failure("pre-send checks failed, nothing written:\n" + "\n".join(sorted(set(problems))))

    written = [write_day(context, warehouse, outbox.root, day, config, rows, last=day == days[-1])
               for day, rows in audiences.items()]

    expired = expire(outbox.root, days[-1], config.retention_days)
    if expired:
        context.log.info(f"outbox retention ({config.retention_days} days): files of {', '.join(expired)} deleted, "
                         "manifests kept")
    last = written[-1]
    by_channel: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for result in written:
        for channel, values in result["summary"].items():
            for key, value in values.items():
                by_channel[channel][key] += value
    table = "\n".join(f"| {day} | {rule} | {outcome} | {persons:,} |" for day, rule, outcome, persons in exclusions)
    days_table = "\n".join(f"| {r['day']} | {r['contacts']:,} | {r['control_holdouts']:,} | {r['files']} |" for r in written)
    return dg.MaterializeResult(metadata={
        "day": last["day"],
        "days": len(written),
        "folder": dg.MetadataValue.path(str(last["folder"])),
        "contacts": sum(r["contacts"] for r in written),
        "control_holdouts": sum(r["control_holdouts"] for r in written),
        "dropped_at_recheck": sum(r["dropped_at_recheck"] for r in written),
        "files": sum(r["files"] for r in written),
        "kept_days": dg.MetadataValue.json([r["day"] for r in written if r.get("kept")]),
        "expired_days": dg.MetadataValue.json(expired),
        "cost_cny": round(sum(v.get("cost", 0) for v in by_channel.values()), 2),
        "by_channel": dg.MetadataValue.json({k: {m: round(n, 2) for m, n in v.items()} for k, v in by_channel.items()}),
        "per_day": dg.MetadataValue.md(f"| day | contacts | holdouts | files |\n|---|---|---|---|\n{days_table}"),
        "eligibility": dg.MetadataValue.md(f"| day | rule | outcome | persons |\n|---|---|---|---|\n{table}"),
    })


contact_log_table = dg.AssetSpec(
    ["recall", "contact_log"], group_name="recall", owners=["team:data-platform"],
    description=("Every recall contact written to a file, and every control-group holdout, per campaign day "
                 "(written by recall/outbox). The frequency caps read it."))
