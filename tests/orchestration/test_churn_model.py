"""BG/NBD against the published CDNOW fit; MBG/NBD lets one-time buyers fade."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.churn_model import Params, fit, implausible, p_active, p_alive

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow_customers_summary.csv"
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}     # Fader, Hardie & Lee (2005)


@pytest.fixture(scope="module")
def cdnow():
    data = pd.read_csv(CDNOW)
    assert len(data) == 2357
    return data


def test_bg_nbd_fit_matches_the_published_cdnow_parameters_within_1_percent(cdnow):
    params = fit(cdnow.frequency, cdnow.recency, cdnow["T"], modified=False)
    for name, expected in PUBLISHED.items():
        assert getattr(params, name) == pytest.approx(expected, rel=0.01), name


def test_p_alive_of_bg_nbd_is_one_for_one_time_buyers_but_not_under_mbg_nbd(cdnow):
    bg = Params(**PUBLISHED)
    assert p_alive(bg, 0, 0, 38.86, modified=False) == 1.0
    mbg = fit(cdnow.frequency, cdnow.recency, cdnow["T"], modified=True)
    one_time = p_alive(mbg, 0, 0, 38.86)
    assert 0 < one_time < 1
    # A regular buyer who bought recently is likelier alive than one who stopped long ago.
    recent, lapsed = p_alive(mbg, np.array([5, 5]), np.array([38.0, 10.0]), np.array([38.86, 38.86]))
    assert recent > 0.8 and lapsed < 0.1


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="t_x <= T"):
        fit([1], [5.0], [3.0])
    with pytest.raises(ValueError, match="no customers"):
        fit([], [], [])


def test_a_weighted_fit_on_grouped_customers_equals_the_fit_on_each(cdnow):
    grouped = cdnow.groupby(["frequency", "recency", "T"]).size().reset_index(name="customers")
    assert len(grouped) < len(cdnow)
    each = fit(cdnow.frequency, cdnow.recency, cdnow["T"])
    weighted = fit(grouped.frequency, grouped.recency, grouped["T"], weights=grouped.customers)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(weighted, name) == pytest.approx(getattr(each, name), rel=1e-3), name


def _simulate_mbg_nbd(params: Params, customers: int, T: float, t: float, seed: int):
    """Customers drawn from MBG/NBD: a first purchase at 0; after every purchase (the first
    included) they drop out with probability p; purchases come at rate lambda while alive."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(params.r, 1 / params.alpha, customers)
    dropouts = rng.beta(params.a, params.b, customers)
    x, t_x, active_later = np.zeros(customers), np.zeros(customers), np.zeros(customers, dtype=bool)
    for i in range(customers):
        now, alive = 0.0, rng.random() >= dropouts[i]
        while alive:
            now += rng.exponential(1 / rates[i])
            if now > T:
                active_later[i] = now <= T + t           # the first purchase after T, if in the horizon
                break
            x[i], t_x[i] = x[i] + 1, now
            alive = rng.random() >= dropouts[i]
    return x, t_x, active_later


def test_p_active_predicts_how_many_simulated_customers_buy_within_the_horizon():
    true = Params(r=0.6, alpha=12.0, a=0.8, b=2.5)
    x, t_x, active_later = _simulate_mbg_nbd(true, 20_000, T=60.0, t=30.0, seed=11)
    predicted = p_active(true, x, t_x, np.full_like(x, 60.0), 30.0)
    assert predicted.sum() == pytest.approx(active_later.sum(), rel=0.05)
    # …and within groups: the one-time buyers, and those who bought in the last 10 days.
    for group in (x == 0, t_x > 50):
        assert predicted[group].sum() == pytest.approx(active_later[group].sum(), rel=0.08)
    assert np.all(p_active(true, x, t_x, np.full_like(x, 60.0), 0.0) == 0)
    far = p_active(true, x, t_x, np.full_like(x, 60.0), 1e9)
    assert np.allclose(far, p_alive(true, x, t_x, np.full_like(x, 60.0)), atol=1e-3)


def test_fits_that_ran_to_the_boundary_are_rejected(cdnow):
    assert implausible(fit(cdnow.frequency, cdnow.recency, cdnow["T"])) is None
    # Parameters of a one-week history of a million buyers (the 1M bench): unusable.
    assert "a, b" in implausible(Params(r=760034.5, alpha=5219390.8, a=1e-9, b=1e-9))
    assert "r, alpha" in implausible(Params(r=2e6, alpha=3e7, a=0.5, b=2.0))
