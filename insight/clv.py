"""Customer lifetime value, the probabilistic way: BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers
the easy way") for the number of future purchases and P(alive), and Gamma-Gamma (Fader and Hardie 2013) for the
spend per purchase. Our own maximum-likelihood fits with scipy; pure functions of numbers (no database).

Inputs per customer, in weeks: x = repeat purchases (orders after the first), t_x = time of the last purchase since
the first, T = time since the first purchase; zbar = the mean spend per order.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float


def bgnbd_log_likelihood(params, x, t_x, T, weights=None) -> float:
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    ll = a1 + a2 + np.logaddexp(a3, a4)
    return float(np.sum(ll if weights is None else ll * weights))


def _grouped(*columns):
    """Identical rows once, with their counts: CDNOW's 2,357 customers are a few hundred distinct triples."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts


BOUNDS = (-10.0, 10.0)  # of the log-parameters, in scaled units: data without heterogeneity or dropout (a boundary
# optimum) gives large but finite parameters instead of a search that runs off to infinity.


def _maximise(objective, size: int):
    """L-BFGS-B within BOUNDS from all-ones; Nelder-Mead from there if it did not converge. The better one wins."""
    best = minimize(objective, np.zeros(size), method="L-BFGS-B", bounds=[BOUNDS] * size)
    if not best.success:
        other = minimize(objective, best.x, method="Nelder-Mead", bounds=[BOUNDS] * size,
                         options={"maxiter": 2000, "xatol": 1e-8, "fatol": 1e-10})
        best = other if other.fun < best.fun else best
    return np.exp(best.x)


def bgnbd_fit(x, t_x, T) -> BgNbd:
    """Maximum likelihood over the log-parameters (so they stay positive), time scaled to about 10 units."""
    (gx, gt, gT), weights = _grouped(x, t_x, T)
    scale = max(float(np.max(gT)), 1.0) / 10  # fit in scaled time, so alpha starts near its size; rescale after

    def objective(log_params):
        r, alpha, a, b = np.exp(log_params)
        value = -bgnbd_log_likelihood((r, alpha, a, b), gx, gt / scale, gT / scale, weights)
        return value if np.isfinite(value) else 1e300

    r, alpha, a, b = _maximise(objective, 4)
    return BgNbd(r=float(r), alpha=float(alpha * scale), a=float(a), b=float(b))


def p_alive(model: BgNbd, x, t_x, T):
    """The probability that a customer with this history has not dropped out."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(x > 0, model.a / np.maximum(model.b + x - 1, 1e-300)
                        * ((model.alpha + T) / (model.alpha + t_x)) ** (model.r + x), 0.0)
    return 1.0 / (1.0 + odds)


def expected_purchases(model: BgNbd, t: float, x, t_x, T):
    """E[purchases in the next t weeks | x, t_x, T] (equation 10 of the 2005 paper)."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    head = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return head / (1 + odds)


def gamma_gamma_log_likelihood(params, x, zbar) -> float:
    p, q, gamma = params
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    px = p * x
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma) + (px - 1) * np.log(zbar)
          + px * np.log(x) - (px + q) * np.log(gamma + x * zbar))
    return float(np.sum(ll))


def gamma_gamma_fit(x, zbar) -> GammaGamma:
    """Fit on customers with repeat purchases (x > 0) and a positive mean spend."""
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    keep = (x > 0) & (zbar > 0)
    x, zbar = x[keep], zbar[keep]
    money = float(np.mean(zbar))  # fit in units of the mean spend (gamma scales with the money unit); rescale after

    def objective(log_params):
        value = -gamma_gamma_log_likelihood(np.exp(log_params), x, zbar / money)
        return value if np.isfinite(value) else 1e300

    p, q, gamma = _maximise(objective, 3)
    return GammaGamma(p=float(p), q=float(q), gamma=float(gamma * money))


def expected_spend(model: GammaGamma, x, zbar):
    """E[spend per purchase | x, zbar]; the population mean p*gamma/(q-1) for a customer without repeats."""
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    return model.p * (model.gamma + x * zbar) / (model.p * x + model.q - 1)
