"""Inter-coder agreement: Krippendorff's alpha, Cohen's kappa, percent agreement, prevalence.

One implementation used by the CLI, the web page and the tests. Alpha follows the
coincidence-matrix formulation (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"),
with optional unit weights so that character-level agreement over elementary intervals equals
the per-character computation.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

LEVELS = ("nominal", "ordinal", "interval")
RELIABLE, TENTATIVE = 0.800, 0.667
TABLE_COLUMNS = [
    "code",
    "n_units",
    "n_coders",
    "prevalence",
    "percent_agreement",
    "kappa",
    "alpha",
    "alpha_lo",
    "alpha_hi",
    "band",
]


def alpha_band(value: float) -> str:
    """Return "reliable" (>= 0.800), "tentative" (0.667-0.800), "revise" (below) or "n/a"."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if value >= RELIABLE:
        return "reliable"
    return "tentative" if value >= TENTATIVE else "revise"


# --- Krippendorff's alpha -----------------------------------------------------------------


def _value_counts(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (sorted values, units x values count matrix) from a coders x units array."""
    values = np.unique(data[~np.isnan(data)])
    counts = np.zeros((data.shape[1], len(values)))
    for j, v in enumerate(values):
        counts[:, j] = (data == v).sum(axis=0)
    return values, counts


def _coincidences(counts: np.ndarray, unit_weights: np.ndarray) -> np.ndarray:
    """Sum the per-unit coincidence matrices of pairable units, weighted per unit."""
    m = counts.sum(axis=1)
    keep = m >= 2
    w = np.where(keep, unit_weights / np.where(keep, m - 1, 1), 0.0)
    o = counts.T @ (counts * w[:, None])
    o -= np.diag((counts * w[:, None]).sum(axis=0))
    return o


def _delta(values: np.ndarray, marginals: np.ndarray, level: str) -> np.ndarray:
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if level == "ordinal":
        cum = np.cumsum(marginals)
        # sum of n_g for g between c and k inclusive, minus half of the two end marginals
        lo = np.minimum.outer(np.arange(len(values)), np.arange(len(values)))
        hi = np.maximum.outer(np.arange(len(values)), np.arange(len(values)))
        between = cum[hi] - np.where(lo > 0, cum[lo - 1], 0.0)
        return (between - (marginals[:, None] + marginals[None, :]) / 2) ** 2
    raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")


def _alpha_from_o(o: np.ndarray, values: np.ndarray, level: str) -> float:
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return float("nan")
    delta = _delta(values, n_c, level)
    d_o = (o * delta).sum()
    d_e = (np.outer(n_c, n_c) * delta).sum() / (n - 1)
    if d_e <= 0:
        return float("nan")
    return float(1.0 - d_o / d_e)


def _as_matrix(reliability: object) -> np.ndarray:
    data = np.asarray(reliability, dtype=float)
    if data.ndim != 2:
        raise ValueError("reliability data must be a coders x units 2-D array")
    return data


def krippendorff_alpha(
    reliability: object, level: str = "nominal", unit_weights: Iterable[float] | None = None
) -> float:
    """Return alpha for a coders x units array (NaN = missing), optionally weighting units."""
    data = _as_matrix(reliability)
    values, counts = _value_counts(data)
    w = np.ones(data.shape[1]) if unit_weights is None else np.asarray(unit_weights, float)
    return _alpha_from_o(_coincidences(counts, w), values, level)


def bootstrap_alpha(
    reliability: object,
    level: str = "nominal",
    unit_weights: Iterable[float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    clusters: Iterable[object] | None = None,
) -> tuple[float, float]:
    """Return a percentile bootstrap interval for alpha, resampling units (seeded).

    With `clusters` (one label per unit, e.g. the document a segment comes from), whole
    clusters are resampled so that units of one document stay together.
    """
    return _interval(alpha_draws(reliability, level, unit_weights, n_boot, seed, clusters), ci)


def alpha_draws(
    reliability: object,
    level: str = "nominal",
    unit_weights: Iterable[float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    clusters: Iterable[object] | None = None,
) -> np.ndarray:
    """Return alpha for each of `n_boot` seeded resamples of the units (or of their clusters).

    The same seed and number of clusters give the same draws, so draws of several codes over
    the same units can be combined draw by draw (e.g. a mean over families).
    """
    data = _as_matrix(reliability)
    values, counts = _value_counts(data)
    w = np.ones(data.shape[1]) if unit_weights is None else np.asarray(unit_weights, float)
    index = None
    if clusters is not None:
        index = pd.factorize(pd.Series(list(clusters), dtype=object))[0]
        if len(index) != data.shape[1]:
            raise ValueError("clusters must give one label per unit")
    return _boot_alphas([counts], [w], values, level, n_boot, seed, index)


def _boot_alphas(
    counts: list[np.ndarray],
    weights: list[np.ndarray],
    values: np.ndarray,
    level: str,
    n_boot: int,
    seed: int,
    cluster_index: np.ndarray | None = None,
) -> np.ndarray:
    """Alpha for each bootstrap draw; the same unit draw is applied to every matrix (pooled).

    `cluster_index` (0..k-1 per unit) resamples k clusters; a unit weighs its cluster's count.
    """
    n_units = counts[0].shape[0]
    if n_units == 0 or n_boot <= 0:
        return np.array([])
    index = np.arange(n_units) if cluster_index is None else np.asarray(cluster_index)
    n_draw = int(index.max()) + 1
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n_draw, np.full(n_draw, 1.0 / n_draw), size=n_boot)[:, index]
    # o is linear in the unit weights: o_b = sum over units of (w * draw_b) * (unit's matrix)
    per_unit = sum(_unit_coincidences(c, w) for c, w in zip(counts, weights, strict=True))
    k = len(values)
    o = (draws @ per_unit).reshape(n_boot, k, k)
    return np.array([_alpha_from_o(o[b], values, level) for b in range(n_boot)])


def _unit_coincidences(counts: np.ndarray, unit_weights: np.ndarray) -> np.ndarray:
    """Return each unit's weighted coincidence matrix, flattened: (n_units, n_values**2)."""
    m = counts.sum(axis=1)
    keep = m >= 2
    w = np.where(keep, unit_weights / np.where(keep, m - 1, 1), 0.0)
    outer = counts[:, :, None] * counts[:, None, :]
    outer -= counts[:, :, None] * np.eye(counts.shape[1])[None, :, :]
    return (outer * w[:, None, None]).reshape(len(counts), -1)


def _interval(boots: np.ndarray, ci: float) -> tuple[float, float]:
    boots = boots[np.isfinite(boots)]
    if boots.size == 0:
        return float("nan"), float("nan")
    tail = (1 - ci) / 2 * 100
    lo, hi = np.percentile(boots, [tail, 100 - tail])
    return float(lo), float(hi)


# --- Cohen's kappa and percent agreement ---------------------------------------------------


def cohen_kappa(
    a: Iterable[float], b: Iterable[float], weights: Iterable[float] | None = None
) -> float:
    """Return Cohen's kappa of two coders over the units both coded (NaN = missing)."""
    x, y = np.asarray(list(a), float), np.asarray(list(b), float)
    w = np.ones(len(x)) if weights is None else np.asarray(list(weights), float)
    ok = ~np.isnan(x) & ~np.isnan(y)
    x, y, w = x[ok], y[ok], w[ok]
    if w.sum() == 0:
        return float("nan")
    cats = np.unique(np.concatenate([x, y]))
    total = w.sum()
    p_o = w[x == y].sum() / total
    p_e = sum((w[x == c].sum() / total) * (w[y == c].sum() / total) for c in cats)
    if p_e >= 1:
        return float("nan")
    return float((p_o - p_e) / (1 - p_e))


def mean_pairwise_kappa(data: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Return Cohen's kappa for two coders, the mean over coder pairs (Light's) for more."""
    ks = [
        cohen_kappa(data[i], data[j], weights)
        for i in range(len(data))
        for j in range(i + 1, len(data))
    ]
    ks = [k for k in ks if np.isfinite(k)]
    return float(np.mean(ks)) if ks else float("nan")


def percent_agreement(data: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Return the share of agreeing coder pairs within units (pairable values only)."""
    values, counts = _value_counts(_as_matrix(data))
    w = np.ones(counts.shape[0]) if weights is None else np.asarray(weights, float)
    m = counts.sum(axis=1)
    pairs = m * (m - 1) / 2
    agree = (counts * (counts - 1) / 2).sum(axis=1)
    keep = pairs > 0
    if not keep.any() or (w[keep] * pairs[keep]).sum() == 0:
        return float("nan")
    # Each unit counts once (share of agreeing pairs), so units with more coders weigh the same.
    return float((w[keep] * agree[keep] / pairs[keep]).sum() / w[keep].sum())


def prevalence(data: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Return the weighted share of present (1) values among all non-missing values."""
    w = np.ones(data.shape[1]) if weights is None else np.asarray(weights, float)
    ww = np.broadcast_to(w, data.shape)
    ok = ~np.isnan(data)
    if ww[ok].sum() == 0:
        return float("nan")
    return float((ww[ok] * (data[ok] == 1)).sum() / ww[ok].sum())


# --- Tables over coded units ---------------------------------------------------------------


def split_codes(value: object) -> frozenset[str]:
    """Parse a ';'-separated code list (or an iterable) into a set; blanks give the empty set."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return frozenset()
    if isinstance(value, str):
        return frozenset(c.strip() for c in value.split(";") if c.strip())
    return frozenset(str(c).strip() for c in value if str(c).strip())


def _prepare(units_df: pd.DataFrame, level: str, family_of: object) -> pd.DataFrame:
    missing = {"unit", "coder", "codes"} - set(units_df.columns)
    if missing:
        raise ValueError(f"missing column(s): {', '.join(sorted(missing))}")
    df = units_df.copy()
    df["codes"] = df["codes"].map(split_codes)
    if level == "family":
        if family_of is None:
            raise ValueError("level='family' needs a family_of mapping (e.g. Codebook.family_of)")
        df["codes"] = df["codes"].map(lambda cs: frozenset(family_of(c) for c in cs))
    if "weight" not in df.columns:
        df["weight"] = 1.0
    return df.drop_duplicates(subset=["unit", "coder"], keep="last")


def presence_matrices(
    units_df: pd.DataFrame, codes: list[str]
) -> tuple[dict[str, np.ndarray], np.ndarray, list[object], list[object]]:
    """Return {code: coders x units 0/1/NaN matrix}, unit weights, coders and units."""
    coders = sorted(units_df["coder"].unique(), key=str)
    units = list(dict.fromkeys(units_df["unit"]))
    ci = {c: i for i, c in enumerate(coders)}
    ui = {u: i for i, u in enumerate(units)}
    weights = units_df.groupby("unit", sort=False)["weight"].first().reindex(units).to_numpy(float)
    mats = {code: np.full((len(coders), len(units)), np.nan) for code in codes}
    rows = [ci[c] for c in units_df["coder"]]
    cols = [ui[u] for u in units_df["unit"]]
    for code, mat in mats.items():
        mat[rows, cols] = [1.0 if code in cs else 0.0 for cs in units_df["codes"]]
    return mats, weights, coders, units


def _row(
    code: str, mat: np.ndarray, w: np.ndarray, lo_hi: tuple[float, float], alpha: float
) -> dict:
    pairable = (~np.isnan(mat)).sum(axis=0) >= 2
    return {
        "code": code,
        "n_units": int(pairable.sum()),
        "n_coders": int((~np.isnan(mat)).any(axis=1).sum()),
        "prevalence": prevalence(mat, w),
        "percent_agreement": percent_agreement(mat, w),
        "kappa": mean_pairwise_kappa(mat, w),
        "alpha": alpha,
        "alpha_lo": lo_hi[0],
        "alpha_hi": lo_hi[1],
        "band": alpha_band(alpha),
    }


def agreement_table(
    units_df: pd.DataFrame,
    level: str = "code",
    exclude_uncoded: bool = False,
    codes: list[str] | None = None,
    family_of: object = None,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Per-code (or per-family) agreement table plus a pooled "ALL" row.

    `units_df` has one row per (unit, coder): `unit`, `coder`, `codes` (';'-separated or a
    set; empty = coded, nothing applied; no row = missing) and optionally `weight` (e.g. the
    number of characters of an elementary interval). With `exclude_uncoded`, units where no
    coder applied any code are dropped. Presence is compared with nominal alpha.
    """
    df = _prepare(units_df, level, family_of)
    if exclude_uncoded:
        coded = df.groupby("unit")["codes"].apply(lambda s: any(len(c) for c in s))
        df = df[df["unit"].isin(coded[coded].index)]
    if codes is None:
        codes = sorted({c for cs in df["codes"] for c in cs})
    elif level == "family" and family_of is not None:
        codes = list(dict.fromkeys(family_of(c) for c in codes))
    if df.empty or not codes:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    mats, w, _, _ = presence_matrices(df, codes)
    values = np.array([0.0, 1.0])
    counts = {c: _binary_counts(m) for c, m in mats.items()}
    rows = []
    for code in codes:
        boots = _boot_alphas([counts[code]], [w], values, "nominal", n_boot, seed)
        a = _alpha_from_o(_coincidences(counts[code], w), values, "nominal")
        rows.append(_row(code, mats[code], w, _interval(boots, ci), a))
    rows.append(_pooled_row(mats, counts, w, values, n_boot, seed, ci))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _binary_counts(mat: np.ndarray) -> np.ndarray:
    return np.stack([(mat == 0).sum(axis=0), (mat == 1).sum(axis=0)], axis=1).astype(float)


def _pooled_row(mats, counts, w, values, n_boot, seed, ci) -> dict:
    """Pool every (unit, code) pair as one binary unit: coincidence matrices add up."""
    allc = list(counts.values())
    a = _alpha_from_o(sum(_coincidences(c, w) for c in allc), values, "nominal")
    boots = _boot_alphas(allc, [w] * len(allc), values, "nominal", n_boot, seed)
    stacked = np.concatenate(list(mats.values()), axis=1)
    row = _row("ALL", stacked, np.tile(w, len(mats)), _interval(boots, ci), a)
    row["n_units"] = int(((~np.isnan(next(iter(mats.values())))).sum(axis=0) >= 2).sum())
    return row


# --- Character and document level from spans -----------------------------------------------


def _assignments(codings: pd.DataFrame, assignments: pd.DataFrame | None) -> pd.DataFrame:
    if assignments is not None:
        return assignments[["doc", "coder"]].drop_duplicates()
    return codings[["doc", "coder"]].drop_duplicates()


def spans_to_units(
    codings: pd.DataFrame,
    text_lengths: dict[object, int],
    assignments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Turn span codings (doc, coder, start, end, code) into weighted character units.

    Each document is cut at every span boundary; each elementary interval becomes a unit whose
    weight is its length, which gives exactly the per-character figures. Coders listed in
    `assignments` (doc, coder; default: coders with a coding in the doc) count as having coded
    the whole document.
    """
    _require(codings, {"doc", "coder", "start", "end", "code"})
    assigned = _assignments(codings, assignments)
    rows = []
    for doc, coders in assigned.groupby("doc")["coder"]:
        spans = codings[codings["doc"] == doc]
        length = int(text_lengths[doc])
        cuts = sorted({0, length, *spans["start"].clip(0, length), *spans["end"].clip(0, length)})
        for a, b in zip(cuts, cuts[1:], strict=False):
            if b <= a:
                continue
            inside = spans[(spans["start"] <= a) & (spans["end"] >= b)]
            for coder in coders:
                codes = frozenset(inside.loc[inside["coder"] == coder, "code"])
                rows.append({"unit": (doc, a, b), "coder": coder, "codes": codes, "weight": b - a})
    return pd.DataFrame(rows, columns=["unit", "coder", "codes", "weight"])


def spans_to_documents(
    codings: pd.DataFrame, assignments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Turn span codings into document units: a code is present if applied anywhere."""
    _require(codings, {"doc", "coder", "code"})
    assigned = _assignments(codings, assignments)
    got = codings.groupby(["doc", "coder"])["code"].apply(frozenset)
    rows = [
        {"unit": d, "coder": c, "codes": got.get((d, c), frozenset())}
        for d, c in assigned.itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=["unit", "coder", "codes"])


def _require(df: pd.DataFrame, cols: set[str]) -> None:
    missing = cols - set(df.columns)
    if missing:
        raise ValueError(f"missing column(s): {', '.join(sorted(missing))}")


def intensity_alpha(
    ratings: pd.DataFrame, level: str = "ordinal", n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Per-code alpha on intensity (0-3) over (unit, coder, code, intensity) rows.

    Only units where a coder applied the code carry an intensity; others are missing.
    """
    _require(ratings, {"unit", "coder", "code", "intensity"})
    rows = []
    for code, sub in ratings.dropna(subset=["intensity"]).groupby("code"):
        wide = sub.pivot_table(index="coder", columns="unit", values="intensity", aggfunc="last")
        data = wide.to_numpy(float)
        a = krippendorff_alpha(data, level)
        lo, hi = bootstrap_alpha(data, level, n_boot=n_boot, seed=seed)
        rows.append(
            {
                "code": code,
                "n_units": int(((~np.isnan(data)).sum(0) >= 2).sum()),
                "alpha": a,
                "alpha_lo": lo,
                "alpha_hi": hi,
                "band": alpha_band(a),
            }
        )
    return pd.DataFrame(rows, columns=["code", "n_units", "alpha", "alpha_lo", "alpha_hi", "band"])
