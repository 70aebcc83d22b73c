"""BG/NBD and MBG/NBD: how likely a customer is still "alive", from the count and timing of their
repeat purchases, fitted by maximum likelihood with SciPy.

Inputs per customer (any time unit, the same for all): x = repeat purchases, t_x = time of the
last purchase since the first, T = time since the first purchase.

- BG/NBD (Fader, Hardie & Lee 2005): after each repeat purchase a customer drops out with
  probability p ~ Beta(a, b). A customer with no repeat purchase can never have dropped out, so
  P(alive) = 1 for every one-time buyer however long ago they bought — a known complaint.
- MBG/NBD (Batislam, Denizel & Filiztekin 2007): the customer may also drop out right after the
  first purchase, so one-time buyers fade too. This is the model the pipeline uses for
  `p_alive`: most of a brand's buyers are one-time buyers and the warning must see them slip.

The BG/NBD fit is checked against the published CDNOW parameters in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln


@dataclass(frozen=True)
class Params:
    r: float
    alpha: float
    a: float
    b: float


def _log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, modified: bool) -> np.ndarray:
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    if modified:
        beta_part = gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
        dropout = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x)
        return common + beta_part + np.logaddexp(-(r + x) * np.log(alpha + T), dropout)
    beta_part = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropout = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
                           -np.inf)
    return common + beta_part + np.logaddexp(-(r + x) * np.log(alpha + T), dropout)


def fit(x, t_x, T, modified: bool = True, weights=None) -> Params:
    """Maximum-likelihood parameters (optimised on their logarithms, so they stay positive).

    `weights` counts the customers sharing one (x, t_x, T): a brand's million buyers fall into a
    few thousand such triples when time is counted in days, so the fit runs on those."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if len(x) == 0:
        raise ValueError("no customers to fit")
    if np.any((t_x > T) | (x < 0) | (t_x < 0)):
        raise ValueError("every customer needs 0 <= t_x <= T and x >= 0")

    def objective(log_params: np.ndarray) -> float:
        return -float(np.sum(w * _log_likelihood(np.exp(log_params), x, t_x, T, modified)))

    start = np.log([1.0, max(float(np.average(T, weights=w)), 1e-3), 1.0, 1.0])
    best = minimize(objective, start, method="Nelder-Mead",
                    options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 20_000, "maxfev": 40_000})
    best = minimize(objective, best.x, method="L-BFGS-B")
    if not np.all(np.isfinite(best.x)):
        raise RuntimeError(f"the fit did not converge: {best.message}")
    return Params(*(float(v) for v in np.exp(best.x)))


def implausible(params: Params) -> str | None:
    """Why a fit cannot be used, or None. With too little history (a week, say) the likelihood is
    flat: the optimiser runs r and alpha to millions and a, b to zero, and a / (b + x) in P(alive)
    becomes 0 / 0 for one-time buyers."""
    if min(params.a, params.b) < 1e-6:
        return "dropout parameters a, b ran to zero"
    if max(params.r, params.alpha) > 1e6:
        return "purchase-rate parameters r, alpha ran away"
    return None


def p_alive(params: Params, x, t_x, T, modified: bool = True) -> np.ndarray:
    """P(still alive at T | x, t_x, T)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    ratio = ((params.alpha + T) / (params.alpha + t_x)) ** (params.r + x)
    if modified:
        return 1.0 / (1.0 + params.a / (params.b + x) * ratio)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(x > 0, params.a / np.maximum(params.b + x - 1, 1e-300) * ratio, 0.0)
    return 1.0 / (1.0 + odds)


def log_likelihood(params: Params, x, t_x, T, modified: bool = True, weights=None) -> float:
    """The fit's total log-likelihood (for the asset's metadata and comparing fits)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    values = _log_likelihood(np.array([params.r, params.alpha, params.a, params.b]), x, t_x, T, modified)
    return float(np.sum(w * values))


def p_active(params: Params, x, t_x, T, t, modified: bool = True) -> np.ndarray:
    """P(at least one purchase in (T, T + t]): alive, times a first purchase within t. Given alive,
    the purchase rate is Gamma(r + x, alpha + T) and no dropout can precede that first purchase,
    so P(none in t | alive) = ((alpha + T) / (alpha + T + t)) ** (r + x)."""
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    none = ((params.alpha + T) / (params.alpha + T + t)) ** (params.r + x)
    return p_alive(params, x, t_x, T, modified) * (1.0 - none)
