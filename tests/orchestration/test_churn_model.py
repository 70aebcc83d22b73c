"""BG/NBD against the published CDNOW fit; MBG/NBD lets one-time buyers fade."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.churn_model import Params, fit, p_alive

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
