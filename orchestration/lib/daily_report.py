"""The daily report for operations staff: one self-contained HTML page per day with its PNG charts
under <reports>/dt=<day>/ — the nine-grid and how it changed since yesterday and last week, the
week's transition matrix, retention curves, churn-cycle rates, the lapse funnel, recall
audiences, costs and measured lift, and the data-quality summary of the day's loads. The page is
written into a scratch folder and swapped in whole: the day's folder is complete or absent."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from orchestration.lib import charts
from orchestration.lib.outbox import read_manifest
from orchestration.lib.raw_store import LEDGER
from orchestration.lib.recall_outbox import CONTACT_LOG
from orchestration.lib.relations import relation
from orchestration.lib.report import Section, markdown, render

# The dbt models and seeds the report reads.
RELATIONS = ("daily_kpis", "nine_grid_summary", "nine_grid_transitions", "cohort_retention", "churn_cohorts",
             "churn_warnings", "lapsed_users", "user_profile", "recall_audience", "recall_outcomes",
             "display_labels", "churn_cycles", "lapse_stages")


class ReportRefused(RuntimeError):
    """There is nothing to report (no nine-grid snapshot yet)."""


RETENTION_COHORTS = 8          # the last eight week cohorts, so the lines stay readable
TRANSITION_LAG_DAYS = 7
OUTCOME_CAMPAIGNS = 12         # the most recent campaigns with outcomes
WARNINGS_SHOWN = 10            # the churn warnings listed (all of them are in marts.churn_warnings)
# The headline numbers, in the order shown: (daily_kpis column, label).
KPIS = {"new_users": "new members 新增会员", "active_users": "active users 活跃用户", "buyers": "buyers 购买人数",
        "orders": "orders 订单数", "gmv": "GMV CNY 成交额", "aov": "AOV CNY 客单价",
        "repurchase_rate": "repurchase rate 复购率"}


def pct(value) -> str:
    return "—" if value is None else f"{float(value):.1%}"


def change(now, before) -> str:
    """Relative change, or — when there is nothing to compare with."""
    if now is None or not before:
        return "—"
    return f"{round((float(now) - float(before)) / float(before) * 100, 1) + 0.0:+.1f}%"


def points(value) -> str:
    # rounded first, so a tiny negative difference reads +0.0 pp, not -0.0 pp
    return "—" if value is None else f"{round(float(value) * 100, 1) + 0.0:+.1f} pp"



@dataclass(frozen=True)
class Written:
    """The report as written: where it lies, and its figures for the asset's metadata."""

    day: date
    page: Path
    preview: str                   # the page's tables as markdown, for the UI
    charts: dict[str, Path]
    nine_grid: str                 # markdown table
    rows_quarantined: int
    recall_contacts: int
    recall_cost_cny: float


def write_report(connect: Callable, reports_root: Path, outbox_root: Path) -> Written:
    """The report of the latest snapshot day, written under reports_root/dt=<day>/."""
    R = {name: relation(name) for name in RELATIONS}
    with connect() as conn:
        day: date | None = conn.execute(f"select max(snapshot_date) from {R['nine_grid_summary']}").fetchone()[0]
        if day is None:
            raise ReportRefused(f"no nine-grid snapshot to report: {R['nine_grid_summary']} is empty")
        q = lambda sql, *params: conn.execute(sql, list(params)).fetchall()  # noqa: E731
        grid = {(d, cell): (users, share) for d, cell, users, share in q(
            f"""select snapshot_date, cell, users, share from {R['nine_grid_summary']}
               where snapshot_date in (?, ?, ?)""", day, day - timedelta(days=1), day - timedelta(days=7))}
        cell_labels = dict(q(f"select cast(value as integer), label_zh from {R['display_labels']} where label_set = 'cell'"))
        lag = q(f"""select max(lag_days) from {R['nine_grid_transitions']}
                   where to_date = ? and lag_days <= ?""", day, TRANSITION_LAG_DAYS)[0][0]
        moves = q(f"""select from_cell, to_cell, users from {R['nine_grid_transitions']}
                     where to_date = ? and lag_days = ?""", day, lag) if lag else []
        retention = q(f"""
            select cast(cohort_start as varchar), day_number, retention_rate from {R['cohort_retention']}
            where cohort_type = 'week' and cohort_start in (
                select distinct cohort_start from {R['cohort_retention']} where cohort_type = 'week'
                order by cohort_start desc limit {RETENTION_COHORTS})""")
        cycles = q(f"""
            with latest as (
                select cycle, churn_rate, cohort_start, cohort_size,
                       row_number() over (partition by cycle order by cohort_start desc) as recency
                from {R['churn_cohorts']})
            select c.cycle, l.label_zh, t.cohort_start, t.cohort_size, t.churn_rate,
                   sum(a.churned_users) * 1.0 / nullif(sum(a.cohort_size), 0), count(*)
            from {R['churn_cycles']} c
            join latest t on t.cycle = c.cycle and t.recency = 1
            join {R['churn_cohorts']} a on a.cycle = c.cycle
            left join {R['display_labels']} l on l.label_set = 'cycle' and l.value = c.cycle
            group by c.cycle, l.label_zh, t.cohort_start, t.cohort_size, t.churn_rate, c.cohort_type, c.window_length
            order by case c.cohort_type when 'day' then 1 when 'week' then 2 else 3 end, c.window_length""")
        not_lapsed = q(f"""select count(*) - (select count(*) from {R['lapsed_users']} where as_of_date = ?)
                           from {R['user_profile']} where registered_at is not null""", day)[0][0]
        funnel = [("not lapsed", "未流失", not_lapsed), *q(f"""
            select s.lapse_stage, l.label_zh, count(u.person_id)
            from {R['lapse_stages']} s
            left join {R['lapsed_users']} u on u.lapse_stage = s.lapse_stage and u.as_of_date = ?
            left join {R['display_labels']} l on l.label_set = 'lapse_stage' and l.value = s.lapse_stage
            group by s.lapse_stage, l.label_zh, s.min_days
            order by s.min_days""", day)]
        audience = q(f"""
            select a.campaign_id, a.channel, l.label_zh,
                   count(*) filter (where a.test_group = 'treatment'),
                   count(*) filter (where a.test_group = 'control'),
                   round(coalesce(sum(c.cost), 0), 2)
            from {R['recall_audience']} a
            left join {R['display_labels']} l on l.label_set = 'channel' and l.value = a.channel
            -- billed as written (SMS per segment); dropped at the re-check or control: nothing
            left join {CONTACT_LOG} c on c.campaign_id = a.campaign_id and c.person_id = a.person_id
                and c.test_group = 'treatment'
            where a.campaign_date = ?
            group by all order by 1, 2""", day)
        outcomes = q(f"""
            select t.campaign_id || ' ' || t.channel || coalesce(' ' || l.label_zh, ''), t.users, t.returned_users, t.return_rate, c.return_rate,
                   t.lift_over_control, t.lift_ci_low, t.lift_ci_high, t.too_small_to_tell,
                   t.cost, t.cost_per_recalled_user, t.days_observed, t.is_final
            from {R['recall_outcomes']} t
            left join {R['recall_outcomes']} c
                on c.campaign_id = t.campaign_id and c.channel = t.channel and c.test_group = 'control'
            left join {R['display_labels']} l on l.label_set = 'channel' and l.value = t.channel
            where t.test_group = 'treatment' and t.days_observed > 0
            order by t.is_final desc, t.campaign_date desc, t.campaign_id, t.channel limit {OUTCOME_CAMPAIGNS}""")
        kpi_days = (day, day - timedelta(days=1), day - timedelta(days=7))
        kpis = {d: row for d, *row in q(f"""
            select kpi_date, {", ".join(KPIS)} from {R['daily_kpis']} where kpi_date in (?, ?, ?)""", *kpi_days)}
        cohorts = q(f"""
            select cast(cohort_start as varchar), max(registered_users),
                   max(case when day_number = 1 then retention_rate end),
                   max(case when day_number = 7 then retention_rate end),
                   max(case when day_number = 30 then retention_rate end)
            from {R['cohort_retention']}
            where cohort_type = 'week'
            group by cohort_start order by cohort_start desc limit {RETENTION_COHORTS}""")
        warnings = q(f"""
            select w.risk_rank, w.person_id, l.label_zh, w.rfm_segment, w.orders_total, w.net_revenue_365d,
                   cast(w.last_order_at as date), round(w.p_alive, 3)
            from {R['churn_warnings']} w
            left join {R['display_labels']} l on l.label_set = 'lifecycle_stage' and l.value = w.lifecycle_stage
            where w.as_of_date = ? order by w.risk_rank limit {WARNINGS_SHOWN}""", day)
        warned = q(f"select count(*) from {R['churn_warnings']} where as_of_date = ?", day)[0][0]
        mix = {label_set: q(f"""
            select coalesce(p.{label_set}, '—'), coalesce(l.label_zh, ''), count(*),
                   count(*) * 1.0 / sum(count(*)) over ()
            from {R['user_profile']} p
            left join {R['display_labels']} l on l.label_set = '{label_set}' and l.value = p.{label_set}
            group by all order by 3 desc""") for label_set in ("lifecycle_stage", "rfm_segment")}
        quality = q(f"""
            select source, count(*), count(*) filter (where status <> 'loaded'), sum(rows_read), sum(rows_loaded),
                   sum(rows_quarantined), sum(rows_quarantined) * 1.0 / nullif(sum(rows_read), 0)
            from {LEDGER} where _dt = ? group by source order by source""", day)
        week_quality = q(f"""
            select source, sum(rows_loaded), sum(rows_quarantined),
                   sum(rows_quarantined) * 1.0 / nullif(sum(rows_read), 0)
            from {LEDGER} where _dt > ? and _dt <= ? group by source order by source""",
                         day - timedelta(days=7), day)

    # What the day's files hold and cost as written (SMS billed per segment), from the outbox manifest.
    day_folder = outbox_root / f"dt={day.isoformat()}"
    sent = read_manifest(day_folder)["channels"] if (day_folder / "manifest.json").exists() else {}

    # Written into a scratch folder and swapped in whole: the day's folder is complete or absent.
    final = reports_root / f"dt={day.isoformat()}"
    scratch = reports_root / f".dt={day.isoformat()}.tmp-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    bi = charts.bilingual
    users_today = {cell: grid.get((day, cell), (0, 0))[0] for cell in range(1, 10)}
    since = (day - timedelta(days=lag)).isoformat() if lag else "—"
    png = {
        "nine_grid": charts.nine_grid_heatmap(users_today, scratch / "nine_grid.png", bi(f"Nine-grid on {day}", "九宫格")),
        "transitions": charts.transition_heatmap(moves, scratch / "nine_grid_transitions.png",
                                                bi(f"Cell moves {since} → {day}", "迁移")),
        "retention": charts.retention_curves(retention, scratch / "retention_curves.png",
                                             bi(f"Retention of week cohorts, as of {day}", "周留存")),
        "churn_cycles": charts.churn_cycle_rates([(bi(c[0], c[1] or ""), c[4], c[5]) for c in cycles],
                                                scratch / "churn_cycles.png",
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
    today, yesterday, last_week = (kpis.get(d, [None] * len(KPIS)) for d in kpi_days)
    kpi_rows = [[label, pct(today[i]) if name == "repurchase_rate" else today[i],
                 *((points(today[i] - other[i]) if today[i] is not None and other[i] is not None else "—")
                   if name == "repurchase_rate" else change(today[i], other[i]) for other in (yesterday, last_week))]
                for i, (name, label) in enumerate(KPIS.items())]
    sections = [
        Section("Headline", "核心指标", [],
                [(["metric 指标", f"{day}", "vs yesterday 日环比", "vs last week 周同比"], kpi_rows)],
                ["GMV and orders by the day the order was placed, net of refunds known now; the repurchase rate is "
                 "the day's buyers who had bought before, its change in percentage points · 成交额按下单日计，"
                 "已扣除退款；复购率为当日购买者中此前购买过的比例."]),
        Section("Nine-grid", "九宫格", [png["nine_grid"]],
                [(["cell 格", "label 名称", "users 人数", "share 占比", "vs yesterday 较昨日", "vs last week 较上周"],
                  grid_rows)],
                ["Change in share in percentage points · 占比变化（百分点）."]),
        Section("Cell moves", "九宫格迁移", [png["transitions"]], [],
                [f"From {since} to {day}: rows are where users were, columns where they are now · 行为迁出格，列为迁入格."]),
        Section("Retention", "留存", [png["retention"]],
                [(["week cohort 注册周", "registered 注册人数", "D1 次日留存", "D7 7日留存", "D30 30日留存"],
                  [[c[0], c[1], pct(c[2]), pct(c[3]), pct(c[4])] for c in cohorts])],
                [f"The last {RETENTION_COHORTS} week cohorts: of those registered that week, the share with a key "
                 "behaviour on the Nth day after their own registration; — until that day has come for all · "
                 "近8个注册周的第N日留存，未到期显示 —."]),
        Section("Churn cycles", "流失周期", [png["churn_cycles"]],
                [(["cycle 周期", "名称", "latest cohort 最近一期", "registered 注册", "churn 流失率",
                   "all cohorts 全部平均", "cohorts 期数"],
                  [[c[0], c[1], c[2], c[3], pct(c[4]), pct(c[5]), c[6]] for c in cycles])]),
        Section("Lapse funnel", "流失分层", [png["lapse_funnel"]],
                [(["stage 阶段", "名称", "members 会员数"], [list(r) for r in funnel])]),
        Section("Churn warnings", "流失预警", [],
                [(["rank 排名", "person 用户", "lifecycle 生命周期", "RFM", "orders 订单", "net revenue 365d 近一年净额",
                   "last order 最近下单", "P(alive) 存活概率"], [list(w) for w in warnings])],
                [f"{warned:,} valuable, still active buyers whose P(alive) fell below the warning line; the "
                 f"{WARNINGS_SHOWN} most at risk · 共{warned:,}位高价值活跃买家存活概率低于预警线，列出风险最高的"
                 f"{WARNINGS_SHOWN}位 ({R['churn_warnings']})."]),
        Section("Lifecycle and RFM", "生命周期与RFM", [],
                [(["lifecycle 生命周期", "名称", "users 人数", "share 占比"],
                  [[r[0], r[1], r[2], pct(r[3])] for r in mix["lifecycle_stage"]]),
                 (["RFM segment 分层", "名称", "users 人数", "share 占比"],
                  [[r[0], r[1], r[2], pct(r[3])] for r in mix["rfm_segment"]])]),
        Section("Recall", "召回", [png["recall_lift"]],
                [(["campaign 活动", "channel 渠道", "名称", "treatment 实验组", "control 对照组",
                   "cost as billed CNY 实际成本"], [list(a) for a in audience]),
                 (["channel 渠道", "messages 条数", "segments or requests 计费条数或请求数", "cost CNY 实际成本"],
                  [[channel, int(v.get("messages", 0)), int(v.get("segments", v.get("requests", 0))), v.get("cost", 0.0)]
                   for channel, v in sorted(sent.items())]),
                 (["campaign · channel 活动 · 渠道", "users 人数", "returned 回流", "return rate 回流率",
                   "control rate 对照组", "lift 提升", "95% interval 置信区间", "cost 成本",
                   "cost per recalled 单人成本", "days observed 观察天数", "final 已结束"],
                  [[o[0], o[1], o[2], pct(o[3]), pct(o[4]), points(o[5]),
                    "too small to tell 样本过小" if o[8] else f"{points(o[6])} … {points(o[7])}",
                    o[9], o[10], o[11], "yes" if o[12] else "no"] for o in outcomes])],
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
    title = "用户运营日报 · User operations daily report"
    page = render(title, day.isoformat(), sections)
    (scratch / "report.html").write_text(page, encoding="utf-8")
    retired = reports_root / f".dt={day.isoformat()}.old-{os.getpid()}"
    if final.exists():
        final.rename(retired)
    scratch.rename(final)
    shutil.rmtree(retired, ignore_errors=True)

    nine_grid = "\n".join(f"| {r[0]} {r[1]} | {r[2]:,} | {r[3]} | {r[4]} | {r[5]} |" for r in grid_rows)
    return Written(day=day, page=final / "report.html", preview=markdown(title, day.isoformat(), sections),
                   charts={name: final / path.name for name, path in png.items()},
                   nine_grid="| cell | users | share | vs yesterday | vs last week |\n"
                             f"|---|---|---|---|---|\n{nine_grid}",
                   rows_quarantined=int(sum(r[5] or 0 for r in quality)),
                   recall_contacts=int(sum(a[3] for a in audience)),
                   recall_cost_cny=round(float(sum(v.get("cost", 0) for v in sent.values())), 2))
