"""Density and diversity indices of relay actors, vectorised over territories.

Every function takes arrays with one entry (or one row) per territory and returns
`Indicator` objects: value, interval and a note per territory. Undefined values are NaN
with a note giving the reason, never zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaincinv

DENSITY_INDICATORS = (
    "n_relay",
    "n_firms",
    "density_per_10k_firms",
    "density_per_100k_inhabitants",
    "density_per_km2",
    "location_quotient",
)
DIVERSITY_INDICATORS = (
    "richness",
    "relative_richness",
    "shannon",
    "shannon_miller_madow",
    "evenness_observed",
    "evenness_all",
    "effective_number",
    "simpson",
    "gini_simpson",
    "inverse_simpson",
    "hhi",
    "hhi_normalised",
    "unrelated_variety",
    "related_variety",
)
NO_ACTOR = "no relay actor in territory"


@dataclass
class Indicator:
    """Values of one indicator for several territories, with intervals and notes."""

    value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    note: np.ndarray  # object array of str ("" when nothing to say)


def _notes(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def _plain(value: np.ndarray, note: np.ndarray | None = None) -> Indicator:
    """Wrap values without an interval."""
    nan = np.full(value.shape, np.nan)
    return Indicator(value, nan, nan.copy(), _notes(len(value)) if note is None else note)


def _set_note(ind: Indicator, mask: np.ndarray, reason: str) -> None:
    """Make values under mask NaN with the reason (keeps an earlier reason)."""
    ind.value = np.where(mask, np.nan, ind.value)
    ind.ci_low = np.where(mask, np.nan, ind.ci_low)
    ind.ci_high = np.where(mask, np.nan, ind.ci_high)
    ind.note = np.where(mask & (ind.note == ""), reason, ind.note)


def garwood_interval(counts: np.ndarray, conf: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Return the exact (Garwood) Poisson interval for observed counts.

    chi2.ppf(q, 2k) / 2 is the Gamma(k) quantile, so the light scipy.special gives the same
    bounds as scipy.stats without its second of import time on every command.
    """
    k = np.asarray(counts, dtype=float)
    alpha = 1.0 - conf
    low = np.where(k > 0, gammaincinv(np.maximum(k, 1e-300), alpha / 2), 0.0)
    high = gammaincinv(k + 1, 1 - alpha / 2)
    return low, high


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _rate(
    n: np.ndarray, low: np.ndarray, high: np.ndarray, den: np.ndarray, scale: float
) -> Indicator:
    """Scale a Poisson count and its interval by a fixed denominator."""
    return Indicator(
        scale * _safe_div(n, den),
        scale * _safe_div(low, den),
        scale * _safe_div(high, den),
        _notes(len(n)),
    )


def density_indicators(
    n_relay: Sequence[float],
    n_firms: Sequence[float],
    population: Sequence[float] | None = None,
    area_km2: Sequence[float] | None = None,
    reference_rate: float | None = None,
    conf: float = 0.95,
) -> dict[str, Indicator]:
    """Compute counts, densities and the location quotient with Garwood intervals.

    reference_rate is N/E over the whole file; densities treat the denominators as fixed
    and the relay count as Poisson.
    """
    n = np.asarray(n_relay, dtype=float)
    e = np.asarray(n_firms, dtype=float)
    low, high = garwood_interval(n, conf)
    out = {
        "n_relay": Indicator(n, low, high, _notes(len(n))),
        "n_firms": _plain(e),
        "density_per_10k_firms": _rate(n, low, high, e, 1e4),
    }
    _set_note(out["density_per_10k_firms"], ~(e > 0), "firm base is zero")
    out["density_per_100k_inhabitants"] = _denominated(n, low, high, population, 1e5, "population")
    out["density_per_km2"] = _denominated(n, low, high, area_km2, 1.0, "area")
    lq = _rate(n, low, high, e, 1.0)
    if reference_rate is None or not reference_rate > 0:
        _set_note(lq, np.ones(len(n), bool), "reference rate undefined (no relay actor in file)")
    else:
        lq = Indicator(
            lq.value / reference_rate,
            lq.ci_low / reference_rate,
            lq.ci_high / reference_rate,
            lq.note,
        )
        _set_note(lq, ~(e > 0), "firm base is zero")
    out["location_quotient"] = lq
    return out


def _denominated(
    n: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    den: Sequence[float] | None,
    scale: float,
    what: str,
) -> Indicator:
    """Rate against population or area; NaN with a reason when missing or zero."""
    if den is None:
        ind = _rate(n, low, high, np.zeros(len(n)), scale)
        _set_note(ind, np.ones(len(n), bool), f"no {what} table given")
        return ind
    d = np.asarray(den, dtype=float)
    ind = _rate(n, low, high, np.nan_to_num(d, nan=0.0), scale)
    _set_note(ind, np.isnan(d), f"{what} unknown")
    _set_note(ind, d == 0, f"{what} is zero")
    return ind


def _xlogx(p: np.ndarray, log=np.log) -> np.ndarray:
    """Return p*log(p) with 0*log(0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * log(np.where(p > 0, p, 1.0)), 0.0)


def diversity_indicators(
    counts: np.ndarray, families: Sequence[str], s_max: int | None = None
) -> dict[str, Indicator]:
    """Compute diversity indices from a territories x categories count matrix.

    families gives the family of each column (for related/unrelated variety); s_max is
    the number of categories of the typology (defaults to the number of columns).
    """
    c = np.atleast_2d(np.asarray(counts, dtype=float))
    n_terr, n_cat = c.shape
    s_max = n_cat if s_max is None else s_max
    n = c.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n[:, None] > 0, c / np.where(n > 0, n, 1.0)[:, None], 0.0)
    s = (c > 0).sum(axis=1).astype(float)
    h = 0.0 - _xlogx(p).sum(axis=1)  # not -sum: one category would give -0.0, shown "-0"
    sum_p2 = (p**2).sum(axis=1)
    out: dict[str, Indicator] = {}
    out["richness"] = _plain(s)
    out["relative_richness"] = _plain(s / s_max)
    out["shannon"] = _plain(h)
    out["shannon_miller_madow"] = _plain(h + _safe_div(s - 1, 2 * n))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["evenness_observed"] = _plain(np.where(s > 1, h / np.log(np.maximum(s, 2)), np.nan))
        out["evenness_all"] = _plain(h / np.log(s_max) if s_max > 1 else np.full(n_terr, np.nan))
    _set_note(out["evenness_observed"], s == 1, "only one category observed")
    if s_max <= 1:
        _set_note(out["evenness_all"], np.ones(n_terr, bool), "typology has one category")
    out["effective_number"] = _plain(np.exp(h))
    out["simpson"] = _plain(sum_p2)
    out["gini_simpson"] = _plain(1 - sum_p2)
    out["inverse_simpson"] = _plain(_safe_div(np.ones(n_terr), sum_p2))
    # HHI on the antitrust 0-10,000 scale; normalised over all S_max categories so it does
    # not depend on what was observed.
    out["hhi"] = _plain(1e4 * sum_p2)
    norm = (sum_p2 - 1 / s_max) / (1 - 1 / s_max) if s_max > 1 else np.full(n_terr, np.nan)
    out["hhi_normalised"] = _plain(norm)
    if s_max <= 1:
        _set_note(out["hhi_normalised"], np.ones(n_terr, bool), "typology has one category")
    uv, rv = related_unrelated_variety(p, families)
    out["unrelated_variety"] = _plain(uv)
    out["related_variety"] = _plain(rv)
    check = -_xlogx(p, np.log2).sum(axis=1)
    if not np.allclose(check, uv + rv, atol=1e-9):
        raise ArithmeticError("entropy decomposition failed: H2 != UV + RV")
    out["related_variety"].note = np.where(n > 0, "base 2; UV + RV = Shannon in bits", "")
    for name in DIVERSITY_INDICATORS:
        if name not in ("richness", "relative_richness"):
            _set_note(out[name], n == 0, NO_ACTOR)
    return out


def related_unrelated_variety(
    shares: np.ndarray, families: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Return (UV, RV) in bits: entropy between families and weighted entropy within."""
    p = np.atleast_2d(shares)
    fam = np.asarray(families)
    uv = np.zeros(p.shape[0])
    rv = np.zeros(p.shape[0])
    for g in dict.fromkeys(fam):
        pg = p[:, fam == g]
        big_p = pg.sum(axis=1)
        uv -= _xlogx(big_p, np.log2)
        with np.errstate(divide="ignore", invalid="ignore"):
            within = np.where(big_p[:, None] > 0, pg / np.where(big_p > 0, big_p, 1)[:, None], 0)
        rv += big_p * -_xlogx(within, np.log2).sum(axis=1)
    return uv, rv
