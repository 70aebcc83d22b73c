"""The daily report for operations staff: one self-contained HTML page per day with its PNG charts
under USEROPS_REPORTS/dt=<day>/ — the nine-grid and how it changed since yesterday and last week,
the week's transition matrix, retention curves, churn-cycle rates, the lapse funnel, recall
audiences, costs and measured lift, and the data-quality summary of the day's loads."""

import os
import shutil
from datetime import date, timedelta

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.partitions import DAILY_WAREHOUSE_ASSET
from orchestration.defs.recall import recall_outbox
from orchestration.defs.resources import OutputFolder
from orchestration.defs.transform import model_key
from orchestration.lib import charts
from orchestration.lib.outbox import read_manifest
from orchestration.lib.report import Section, render

RETENTION_COHORTS = 8          # the last eight week cohorts, so the lines stay readable
TRANSITION_LAG_DAYS = 7
OUTCOME_CAMPAIGNS = 12         # the most recent campaigns with outcomes


def pct(value) -> str:
    return "—" if value is None else f"{float(value):.1%}"


def points(value) -> str:
    return "—" if value is None else f"{float(value) * 100:+.1f} pp"


@dg.asset(
    key=["reports", "daily_report"],
    deps=[*(model_key(model) for model in ("nine_grid_summary", "nine_grid_transitions", "cohort_retention",
                                           "churn_cohorts", "lapsed_users", "recall_outcomes", "display_labels")),
          recall_outbox.key],
    group_name="serving",
    description=("报表 · The daily report: one HTML page (report.html, charts embedded, opens offline) and its PNG "
                 "charts under USEROPS_REPORTS/dt=<day>/ — nine-grid with its change since yesterday and last week, "
                 "cell moves over the last 7 days, retention curves, churn-cycle rates, lapse funnel, recall audiences, "
                 "costs and lift against the control group, rows loaded and quarantined per source."),
    **{**DAILY_WAREHOUSE_ASSET, "kinds": {"python", "duckdb", "matplotlib", "html"}},
)
def daily_report(context: dg.AssetExecutionContext, warehouse: DuckDBResource, reports: OutputFolder,
                 outbox: OutputFolder) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        day: date | None = conn.execute("select max(snapshot_date) from marts.nine_grid_summary").fetchone()[0]
        if day is None:
            raise dg.Failure("no nine-grid snapshot to report: marts.nine_grid_summary is empty")
        q = lambda sql, *params: conn.execute(sql, list(params)).fetchall()  # noqa: E731
        grid = {(d, cell): (users, share) for d, cell, users, share in q(
            """select snapshot_date, cell, users, share from marts.nine_grid_summary
               where snapshot_date in (?, ?, ?)""", day, day - timedelta(days=1), day - timedelta(days=7))}
        cell_labels = dict(q("select cast(value as integer), label_zh from main.display_labels where label_set = 'cell'"))
        lag = q("""select max(lag_days) from marts.nine_grid_transitions
                   where to_date = ? and lag_days <= ?""", day, TRANSITION_LAG_DAYS)[0][0]
        moves = q("""select from_cell, to_cell, users from marts.nine_grid_transitions
                     where to_date = ? and lag_days = ?""", day, lag) if lag else []
        retention = q(f"""
            select cast(cohort_start as varchar), day_number, retention_rate from marts.cohort_retention
            where cohort_type = 'week' and cohort_start in (
                select distinct cohort_start from marts.cohort_retention where cohort_type = 'week'
                order by cohort_start desc limit {RETENTION_COHORTS})""")
        cycles = q("""
            with latest as (
                select cycle, churn_rate, cohort_start, cohort_size,
                       row_number() over (partition by cycle order by cohort_start desc) as recency
                from marts.churn_cohorts)
            select c.cycle, l.label_zh, t.cohort_start, t.cohort_size, t.churn_rate,
                   sum(a.churned_users) * 1.0 / nullif(sum(a.cohort_size), 0), count(*)
            from main.churn_cycles c
            join latest t on t.cycle = c.cycle and t.recency = 1
            join marts.churn_cohorts a on a.cycle = c.cycle
            left join main.display_labels l on l.label_set = 'cycle' and l.value = c.cycle
            group by c.cycle, l.label_zh, t.cohort_start, t.cohort_size, t.churn_rate, c.cohort_type, c.window_length
            order by case c.cohort_type when 'day' then 1 when 'week' then 2 else 3 end, c.window_length""")
        not_lapsed = q("""select count(*) - (select count(*) from marts.lapsed_users where as_of_date = ?)
                           from marts.user_profile where registered_at is not null""", day)[0][0]
        funnel = [("not lapsed", "未流失", not_lapsed), *q("""
            select s.lapse_stage, l.label_zh, count(u.person_id)
            from main.lapse_stages s
            left join marts.lapsed_users u on u.lapse_stage = s.lapse_stage and u.as_of_date = ?
            left join main.display_labels l on l.label_set = 'lapse_stage' and l.value = s.lapse_stage
            group by s.lapse_stage, l.label_zh, s.min_days
            order by s.min_days""", day)]
        audience = q("""
            select a.campaign_id, a.channel, l.label_zh,
                   count(*) filter (where a.test_group = 'treatment'),
                   count(*) filter (where a.test_group = 'control'),
                   round(coalesce(sum(c.cost), 0), 2)
            from marts.recall_audience a
            left join main.display_labels l on l.label_set = 'channel' and l.value = a.channel
            -- billed as written (SMS per segment); dropped at the re-check or control: nothing
            left join recall.contact_log c on c.campaign_id = a.campaign_id and c.person_id = a.person_id
                and c.test_group = 'treatment'
            where a.campaign_date = ?
            group by all order by 1, 2""", day)
        outcomes = q(f"""
            select t.campaign_id, t.users, t.returned_users, t.return_rate, c.return_rate, t.lift_over_control,
                   t.cost, t.cost_per_recalled_user, t.days_observed, t.is_final
            from marts.recall_outcomes t
            left join marts.recall_outcomes c on c.campaign_id = t.campaign_id and c.test_group = 'control'
            where t.test_group = 'treatment' and t.days_observed > 0
            order by t.campaign_date desc, t.campaign_id limit {OUTCOME_CAMPAIGNS}""")
        quality = q("""
            select source, count(*), count(*) filter (where status <> 'loaded'), sum(rows_read), sum(rows_loaded),
                   sum(rows_quarantined), sum(rows_quarantined) * 1.0 / nullif(sum(rows_read), 0)
            from raw.ingested_files where _dt = ? group by source order by source""", day)
        week_quality = q("""
            select source, sum(rows_loaded), sum(rows_quarantined),
                   sum(rows_quarantined) * 1.0 / nullif(sum(rows_read), 0)
            from raw.ingested_files where _dt > ? and _dt <= ? group by source order by source""",
                         day - timedelta(days=7), day)

    # What the day's files hold and cost as written (SMS billed per segment), from the outbox manifest.
    day_folder = outbox.root / f"dt={day.isoformat()}"
    sent = read_manifest(day_folder)["channels"] if (day_folder / "manifest.json").exists() else {}

    # Written into a scratch folder and swapped in whole: the day's folder is complete or absent.
    final = reports.root / f"dt={day.isoformat()}"
    scratch = reports.root / f".dt={day.isoformat()}.tmp-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    bi = charts.bilingual
    users_today = {cell: grid.get((day, cell), (0, 0))[0] for cell in range(1, 10)}
    since = (day - timedelta(days=lag)).isoformat() if lag else "—"
    png = {
        "nine_grid": charts.nine_grid_heatmap(users_today, scratch / "nine_grid.png", bi(f"Nine-grid on {day}", "九宫格")),
        "transitions": charts.transition_matrix(moves, scratch / "nine_grid_transitions.png",
                                                bi(f"Cell moves {since} → {day}", "迁移")),
        "retention": charts.retention_curves(retention, scratch / "retention_curves.png",
                                             bi(f"Retention of week cohorts, as of {day}", "周留存")),
        "churn_cycles": charts.churn_cycle_rates([(c[0], c[4], c[5]) for c in cycles], scratch / "churn_cycles.png",
                                                bi("Churn rate per cycle", "各周期流失率")),
        "lapse_funnel": charts.lapse_funnel([(bi(r[0], r[1] or ""), r[2]) for r in funnel], scratch / "lapse_funnel.png",
                                            bi(f"Members by lapse on {day}", "流失分层")),
        "recall_lift": charts.recall_return_rates([(o[0], o[3], o[4]) for o in reversed(outcomes)],
                                                  scratch / "recall_return_rates.png",
                                                  bi("Return rate, treatment vs control", "实验组与对照组回流率")),
    }
    grid_rows = []
    for cell in range(1, 10):
        users, share = grid.get((day, cell), (0, 0.0))
        before = [grid.get((d, cell)) for d in (day - timedelta(days=1), day - timedelta(days=7))]
        grid_rows.append([cell, cell_labels.get(cell, ""), users, pct(share),
                          *(points(share - b[1]) if b else "—" for b in before)])
    sections = [
        Section("Nine-grid", "九宫格", [png["nine_grid"]],
                [(["cell 格", "label 名称", "users 人数", "share 占比", "vs yesterday 较昨日", "vs last week 较上周"],
                  grid_rows)],
                ["Change in share in percentage points · 占比变化（百分点）."]),
        Section("Cell moves", "九宫格迁移", [png["transitions"]], [],
                [f"From {since} to {day}: rows are where users were, columns where they are now · 行为迁出格，列为迁入格."]),
        Section("Retention", "留存", [png["retention"]]),
        Section("Churn cycles", "流失周期", [png["churn_cycles"]],
                [(["cycle 周期", "名称", "latest cohort 最近一期", "registered 注册", "churn 流失率",
                   "all cohorts 全部平均", "cohorts 期数"],
                  [[c[0], c[1], c[2], c[3], pct(c[4]), pct(c[5]), c[6]] for c in cycles])]),
        Section("Lapse funnel", "流失分层", [png["lapse_funnel"]],
                [(["stage 阶段", "名称", "members 会员数"], [list(r) for r in funnel])]),
        Section("Recall", "召回", [png["recall_lift"]],
                [(["campaign 活动", "channel 渠道", "名称", "treatment 实验组", "control 对照组",
                   "cost as billed CNY 实际成本"], [list(a) for a in audience]),
                 (["channel 渠道", "messages 条数", "segments or requests 计费条数或请求数", "cost CNY 实际成本"],
                  [[channel, int(v.get("messages", 0)), int(v.get("segments", v.get("requests", 0))), v.get("cost", 0.0)]
                   for channel, v in sorted(sent.items())]),
                 (["campaign 活动", "users 人数", "returned 回流", "return rate 回流率", "control rate 对照组",
                   "lift 提升", "cost 成本", "cost per recalled 单人成本", "days observed 观察天数", "final 已结束"],
                  [[o[0], o[1], o[2], pct(o[3]), pct(o[4]), points(o[5]), o[6], o[7], o[8], "yes" if o[9] else "no"]
                   for o in outcomes])],
                [f"Today's audiences ({day}), the files written for them as the outbox manifest counts them (SMS is "
                 "billed per 70/67-character segment), then the measured outcomes of earlier campaigns · "
                 "今日人群、今日发送文件与成本、往期活动效果."]),
        Section("Data quality", "数据质量", [],
                [(["source 来源", "files 文件", "failed 失败", "rows read 读取", "loaded 入库", "quarantined 隔离",
                   "quarantine rate 隔离率"], [[*r[:6], pct(r[6])] for r in quality]),
                 (["source 来源 (7 days 近7天)", "loaded 入库", "quarantined 隔离", "quarantine rate 隔离率"],
                  [[*r[:3], pct(r[3])] for r in week_quality])],
                [f"Files that arrived for {day}, then the last 7 days · 当日到达的文件与近7天合计."]),
    ]
    page = render("用户运营日报 · User operations daily report", day.isoformat(), sections)
    (scratch / "report.html").write_text(page, encoding="utf-8")
    retired = reports.root / f".dt={day.isoformat()}.old-{os.getpid()}"
    if final.exists():
        final.rename(retired)
    scratch.rename(final)
    shutil.rmtree(retired, ignore_errors=True)
    context.log.info(f"report for {day}: {final / 'report.html'}")

    table = "\n".join(f"| {r[0]} {r[1]} | {r[2]:,} | {r[3]} | {r[4]} | {r[5]} |" for r in grid_rows)
    return dg.MaterializeResult(metadata={
        "day": day.isoformat(),
        "report": dg.MetadataValue.url((final / "report.html").as_uri()),
        "report_path": dg.MetadataValue.path(str(final / "report.html")),
        **{f"chart_{name}": dg.MetadataValue.path(str(final / path.name)) for name, path in png.items()},
        "nine_grid": dg.MetadataValue.md("| cell | users | share | vs yesterday | vs last week |\n"
                                         f"|---|---|---|---|---|\n{table}"),
        "rows_quarantined": int(sum(r[5] or 0 for r in quality)),
        "recall_contacts": int(sum(a[3] for a in audience)),
        "recall_cost_cny": round(float(sum(v.get("cost", 0) for v in sent.values())), 2),
    })
