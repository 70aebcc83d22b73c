"""Fitting the churn stage's purchase model (MBG/NBD, orchestration/lib/churn_model.py) on every
buyer's purchase history as of the latest day, one row of parameters per as-of day in
churn.purchase_model, which dbt turns into each buyer's p_alive and p_active."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from orchestration.lib import churn_model
from orchestration.lib.relations import relation

PURCHASE_MODEL = "churn.purchase_model"


def fit_purchase_model(connect: Callable, log) -> dict:
    """Fit (or leave unfitted, with a warning saying why) and store today's parameters; what was
    done, as the asset's metadata."""
    with connect() as conn:
        conn.execute("create schema if not exists churn")
        conn.execute(f"""create table if not exists {PURCHASE_MODEL} (
            fitted_on date primary key, r double, alpha double, a double, b double,
            buyers bigint, log_likelihood double)""")
        # Buyers sharing one (x, t_x, T) are fitted as one weighted row.
        grouped = conn.execute(f"""
            select x, t_x, t_cal, count(*) as buyers, max(as_of_date) as as_of_date
            from {relation('int_purchase_histories')} group by x, t_x, t_cal""").df()
        min_buyers = conn.execute(f"select min_buyers_to_fit from {relation('int_churn_settings')}").fetchone()[0]
        buyers = int(grouped.buyers.sum()) if len(grouped) else 0
        as_of: date | None = grouped.as_of_date.max().date() if len(grouped) else None
        if as_of is not None:
            conn.execute(f"delete from {PURCHASE_MODEL} where fitted_on = ?", [as_of])
        if buyers < min_buyers:
            log.warning(f"purchase model not fitted: {buyers} buyers, fewer than min_buyers_to_fit = "
                        f"{min_buyers} (churn_settings); p_alive stays empty today")
            return {"fitted": False, "buyers": buyers, "min_buyers_to_fit": min_buyers}
        try:
            params = churn_model.fit(grouped.x, grouped.t_x, grouped.t_cal, weights=grouped.buyers)
        except RuntimeError as error:      # no convergence: today's profile goes without p_alive
            log.warning(f"purchase model not fitted on {as_of}: {error}")
            return {"fitted": False, "buyers": buyers, "error": str(error)}
        implausible = churn_model.implausible(params)
        if implausible:                     # e.g. a few days of history: every buyer looks alike
            log.warning(f"purchase model on {as_of} rejected ({implausible}): r {params.r:.4g}, "
                        f"alpha {params.alpha:.4g}, a {params.a:.4g}, b {params.b:.4g}; p_alive stays empty")
            return {"fitted": False, "buyers": buyers, "rejected": implausible}
        log_likelihood = churn_model.log_likelihood(params, grouped.x, grouped.t_x, grouped.t_cal,
                                                    weights=grouped.buyers)
        conn.execute(f"insert into {PURCHASE_MODEL} values (?, ?, ?, ?, ?, ?, ?)",
                     [as_of, params.r, params.alpha, params.a, params.b, buyers, log_likelihood])
        one_time = int(grouped.loc[grouped.x == 0, "buyers"].sum())
    log.info(f"purchase model on {as_of}: {buyers:,} buyers ({len(grouped):,} distinct histories) → "
             f"r {params.r:.4f}, alpha {params.alpha:.4f}, a {params.a:.4f}, b {params.b:.4f}")
    return {
        "fitted": True,
        "fitted_on": str(as_of),
        "buyers": buyers,
        "one_time_buyers": one_time,
        "distinct_histories": len(grouped),
        "r": round(params.r, 6), "alpha": round(params.alpha, 6), "a": round(params.a, 6), "b": round(params.b, 6),
        "log_likelihood": round(log_likelihood, 3),
    }
