"""The CLV models against the CDNOW sample of Fader, Hardie and Lee (2005): 2,357 customers, 39-week calibration.
The data set comes from the `lifetimes` package's datasets (MIT licence), copied here."""

import csv
from pathlib import Path

import numpy as np
import pytest

from insight import clv

DATA = Path(__file__).parent / "data" / "cdnow_customers_summary.csv"


@pytest.fixture(scope="module")
def cdnow():
    with DATA.open() as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in ("x", "t_x", "T", "zbar")}


def close(value, published, tolerance=0.02):
    return abs(value - published) <= tolerance * published


def test_the_bg_nbd_fit_reproduces_the_published_parameters(cdnow):
    assert len(cdnow["x"]) == 2357
    model = clv.bgnbd_fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert all(close(getattr(model, k), v) for k, v in published.items()), model
    # The published log-likelihood at the optimum: -9582.4.
    ll = clv.bgnbd_log_likelihood((model.r, model.alpha, model.a, model.b), cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert abs(ll - (-9582.4)) < 0.5


def test_p_alive_and_expected_purchases_for_the_papers_example_customer(cdnow):
    model = clv.BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
    # The paper's example: x=2, t_x=30.43, T=38.86 expects 1.226 purchases in the next 39 weeks.
    assert round(float(clv.expected_purchases(model, 39, 2, 30.43, 38.86)), 3) == 1.226
    # Never repeated: alive for sure under BG/NBD (it only drops out after a purchase).
    assert float(clv.p_alive(model, 0, 0, 38.86)) == 1.0
    assert 0 < float(clv.p_alive(model, 2, 5, 38.86)) < float(clv.p_alive(model, 2, 30.43, 38.86)) < 1


def test_the_gamma_gamma_fit_reproduces_the_published_parameters(cdnow):
    model = clv.gamma_gamma_fit(cdnow["x"], cdnow["zbar"])
    published = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert all(close(getattr(model, k), v) for k, v in published.items()), model
    assert round(float(clv.expected_spend(model, 0, 0)), 2) == round(model.p * model.gamma / (model.q - 1), 2)
