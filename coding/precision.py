"""Measured precision of suggestions: how often, out of fold, a score like this one was right.

For each output column (a code, or a family) training records a precision curve over a grid of
scores from the out-of-fold training scores: at each grid score ``t``, the precision of a
suggestion scoring ``t`` (an isotonic, i.e. non-decreasing, fit of "the code was there" on the
score), how many segments scored at least ``t``, and the precision over all of them. A
researcher's precision floor (default 0.6) gives the lowest grid score from which suggestions
are right at least that often, with at least ``MIN_HITS`` segments at or above it, right more
often than the code's base rate beyond chance (``floor_threshold``); a code whose
precision never reaches the floor has no threshold and is not suggested at that floor. A
suggestion's measured precision is the curve's value at the highest grid score not above its
own score. Since the curve never decreases, every suggestion shown at a floor measures at least
the floor (not only their average).
"""

from __future__ import annotations

import numpy as np

DEFAULT_FLOOR = 0.6
#: A threshold must rest on at least this many out-of-fold segments scoring above it.
MIN_HITS = 5
#: z of the one-sided 95% bound a threshold's precision must clear above the base rate.
Z_ONE_SIDED = 1.645
GRID = np.round(np.arange(0.05, 0.976, 0.025), 3)


def check_floor(floor: float) -> float:
    """Return the floor as a float, refusing values outside (0, 1]."""
    try:
        value = float(floor)
    except (TypeError, ValueError):
        raise ValueError(f"precision floor must be a number in (0, 1], got {floor!r}") from None
    if not 0.0 < value <= 1.0:
        raise ValueError(f"precision floor must be in (0, 1], got {floor!r}")
    return value


def precision_curve(y: np.ndarray, scores: np.ndarray, grid: np.ndarray = GRID) -> list[list]:
    """Return [[score, precision at that score or None, hits at or above, precision of them]]."""
    from sklearn.isotonic import IsotonicRegression  # the web app reads curves without sklearn

    y = np.asarray(y, dtype=float)
    s = np.asarray(scores, dtype=float)
    if len(y) and 0 < y.sum() < len(y):
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y)
        local = iso.predict(grid)
    else:  # no positive (or no negative) example: precision is the same everywhere
        local = np.full(len(grid), y.mean() if len(y) else np.nan)
    out = []
    for t, here in zip(grid, local, strict=True):
        above = s >= t
        hits = int(above.sum())
        prec = None if not hits or not np.isfinite(here) else round(float(here), 4)
        mean = round(float(y[above].mean()), 4) if hits else None
        out.append([float(t), prec, hits, mean])
    return out


def wilson_lower(p: float, n: int, z: float = Z_ONE_SIDED) -> float:
    """Return the lower Wilson score bound of a proportion p observed on n trials."""
    if n <= 0:
        return 0.0
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return float((centre - margin) / (1 + z2 / n))


def floor_threshold(
    curve: list[list],
    floor: float,
    min_hits: int = MIN_HITS,
    base_rate: float | None = None,
) -> tuple[float | None, float | None]:
    """Return (threshold, precision there) for a floor, or (None, None) if never reached.

    With the code's ``base_rate`` (its share of the training segments), a threshold also needs
    the segments scoring at least that high to be right more often than the base rate beyond
    chance (the lower one-sided 95% Wilson bound of their precision above it): on a code the
    model cannot predict, an isotonic fit on a few dozen segments otherwise finds a stretch of
    scores that looks 60% precise by luck. Models saved without a base rate skip that test.
    """
    floor = check_floor(floor)
    for t, prec, hits, mean in curve:
        if prec is None or hits < min_hits or prec < floor - 1e-9:
            continue
        if base_rate is not None and (mean is None or wilson_lower(mean, hits) <= base_rate):
            continue
        return float(t), float(prec)
    return None, None


def precision_at(curve: list[list], score: float) -> float | None:
    """Return the measured precision of a score: the curve at the highest threshold <= score."""
    found = None
    for t, prec, *_rest in curve:
        if t > score + 1e-12:
            break
        if prec is not None:  # no segment scored that high out of fold: keep the last measure
            found = prec
    return found


def column_table(y: np.ndarray, scores: np.ndarray, floor: float = DEFAULT_FLOOR) -> dict:
    """Return one column's entry: the curve, the threshold at the floor, the precision there
    and over every segment scoring at least that (``precision_above``)."""
    curve = precision_curve(y, scores)
    base = round(float(np.mean(y)), 4) if len(y) else None
    t, prec = floor_threshold(curve, floor, base_rate=base)
    above = next((row[3] for row in curve if row[0] == t), None)
    return {
        "threshold": t,
        "precision": prec,
        "precision_above": above,
        "support": int(np.sum(y)),
        "base_rate": base,
        "curve": curve,
    }


def precision_tables(
    Y: np.ndarray,
    S: np.ndarray,
    codes: list[str],
    family_of,
    families: list[str],
    level: str,
    floor: float = DEFAULT_FLOOR,
) -> dict:
    """Return the ``precision`` block of meta.json from out-of-fold labels and scores.

    A code-level model also gets one table per family: a family's score is its strongest
    code's score and it is right when any of its codes is present.
    """
    floor = check_floor(floor)
    table = {
        "floor": floor,
        "min_hits": MIN_HITS,
        "source": "out-of-fold scores of the chosen candidate",
        "codes": {c: column_table(Y[:, j], S[:, j], floor) for j, c in enumerate(codes)},
    }
    if level == "code":
        fams = {}
        for f in families:
            cols = [j for j, c in enumerate(codes) if family_of(c) == f]
            if not cols:
                continue
            fy = Y[:, cols].max(axis=1)
            fs = S[:, cols].max(axis=1)
            fams[f] = column_table(fy, fs, floor)
        table["families"] = fams
    return table
