"""Active learning: pick the next segments to code, most uncertain first, spread out."""

from __future__ import annotations

import numpy as np
import pandas as pd


def threshold_uncertainty(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Return, per row, how close the most borderline code is to its threshold (1 = on it)."""
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    t = np.asarray(thresholds, dtype=float)
    room = np.where(scores >= t, 1.0 - t, t)  # distance to the far end on that side
    closeness = 1.0 - np.abs(scores - t) / np.where(room > 0, room, 1.0)
    return closeness.max(axis=1) if scores.shape[1] else np.zeros(len(scores))


def mean_entropy(scores: np.ndarray) -> np.ndarray:
    """Return the mean binary entropy (bits) of the per-code scores of each row."""
    p = np.clip(np.atleast_2d(np.asarray(scores, dtype=float)), 1e-12, 1 - 1e-12)
    h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return h.mean(axis=1)


def next_to_code(
    segments: pd.DataFrame,
    scores: np.ndarray,
    thresholds: np.ndarray,
    k: int = 20,
    per_transcript: int = 3,
    method: str = "threshold",
) -> pd.DataFrame:
    """Return the k segments to code next, at most `per_transcript` from one transcript.

    `segments` needs `transcript_id` (and optionally `text`: exact repeats are skipped so
    one boilerplate sentence cannot fill the queue). Adds `uncertainty` and `rank`.
    """
    if "transcript_id" not in segments.columns:
        raise ValueError("segments need a transcript_id column")
    if len(segments) != len(scores):
        raise ValueError("segments and scores have different lengths")
    if method == "threshold":
        u = threshold_uncertainty(scores, thresholds)
    elif method == "entropy":
        u = mean_entropy(scores)
    else:
        raise ValueError(f"unknown method {method!r}; expected 'threshold' or 'entropy'")
    ranked = segments.assign(uncertainty=u).sort_values(
        "uncertainty", ascending=False, kind="stable"
    )
    taken: dict[object, int] = {}
    seen: set[str] = set()
    picks = []
    for idx, row in ranked.iterrows():
        key = " ".join(str(row["text"]).lower().split()) if "text" in ranked.columns else None
        if taken.get(row["transcript_id"], 0) >= per_transcript or (key and key in seen):
            continue
        taken[row["transcript_id"]] = taken.get(row["transcript_id"], 0) + 1
        if key:
            seen.add(key)
        picks.append(idx)
        if len(picks) == k:
            break
    out = ranked.loc[picks].copy()
    out["rank"] = np.arange(1, len(out) + 1)
    return out
