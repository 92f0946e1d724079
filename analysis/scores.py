"""D3 and D4 scores per respondent, from Likert items and from coded transcripts.

Likert (and frequency) items: reverse items recoded (x -> lo + hi - x), the respondent's
mean over the items of a D rescaled to [0,1] with the fixed anchors of the scale (1..5 by
default, or the numeric choice values of the item), so scores do not depend on the sample.

Coded transcripts, per coder and family (GOVERNANCE -> D4_GOV, STRATEGY -> D4_STRAT,
DYNAMICS -> D3):
    weight w_i = (intensity_i + 1) / 4          (intensity 0..3; missing counts as 1)
    balance B  = sum(valence_i * w_i) / sum(w_i) in [-1, 1]  (missing valence counts 0)
    presence P = min(1, n / 3)                  (three coded turns give full presence)
    score      = 0.5 + 0.5 * P * B              in [0, 1]
so 0.5 is "mixed or neutral", a few strongly negative turns pull towards 0, and a single
passing mention moves the score only a third as far as three. A family never coded for a
respondent gives NaN ("not discussed"), not 0.5.

Both scores are shown side by side; |likert - coding| > 0.2 raises the triangulation flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

DIMENSIONS = ("D3", "D4_GOV", "D4_STRAT")
FAMILY_TO_D = {"GOVERNANCE": "D4_GOV", "STRATEGY": "D4_STRAT", "DYNAMICS": "D3"}
PREFIX_TO_FAMILY = {"GOV": "GOVERNANCE", "STR": "STRATEGY", "DYN": "DYNAMICS", "OTH": "OTHER"}
SCALE_TYPES = ("likert", "frequency")
DEFAULT_ANCHORS = (1.0, 5.0)
TRIANGULATION_GAP = 0.2
#: the project's saturation threshold: interviews (per stratum in the coding workspace, per
#: territory in the profile) below which a score is shown without an interval, as fragile
SATURATION_MIN = 10
PRESENCE_SATURATION = 3
HUMAN_SOURCES = ("human", "consensus")
CODING_COLUMNS = ("interview_id", "code", "family", "coder", "source", "valence", "intensity")


def questions_from_instrument(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Turn an instrument YAML mapping (sections/questions) into question metadata."""
    if "sections" not in data:
        return {str(k): dict(v) for k, v in data.items() if isinstance(v, Mapping)}
    lists = data.get("choice_lists") or {}
    out: dict[str, dict[str, Any]] = {}
    for section in data["sections"]:
        for q in section.get("questions") or ():
            choices = q.get("choices")
            out[str(q["key"])] = {
                "type": q.get("type"),
                "d": q.get("d"),
                "reverse": bool(q.get("reverse")),
                "codes": list(q.get("codes") or ()),
                "choices": list(lists.get(choices, ()))
                if isinstance(choices, str)
                else list(choices or ()),
                "label": dict(q.get("label") or {}),
            }
    return out


def scale_items(questions: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """List the scored scale items: question_key, dimension, reverse, lo, hi."""
    rows = []
    for key, meta in questions.items():
        if meta.get("type") in SCALE_TYPES and meta.get("d") in DIMENSIONS:
            lo, hi = _anchors(meta.get("choices") or ())
            rows.append((key, meta["d"], bool(meta.get("reverse")), lo, hi))
    return pd.DataFrame(rows, columns=["question_key", "dimension", "reverse", "lo", "hi"])


def _anchors(choices: Any) -> tuple[float, float]:
    """Return the fixed scale ends from numeric choice values, else 1..5."""
    values = pd.to_numeric(
        pd.Series([c.get("value") for c in choices], dtype=object), errors="coerce"
    ).dropna()
    if len(values) >= 2 and values.max() > values.min():
        return float(values.min()), float(values.max())
    return DEFAULT_ANCHORS


def item_scores(answers: pd.DataFrame, questions: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Return recoded item scores in [0,1]: interview_id, question_key, dimension, score."""
    items = scale_items(questions)
    cols = ["interview_id", "question_key", "dimension", "score"]
    if items.empty or answers.empty:
        return pd.DataFrame(columns=cols)
    ans = answers[answers["missing"].isna()] if "missing" in answers else answers
    merged = ans.merge(items, on="question_key", how="inner")
    raw = pd.to_numeric(merged["value"], errors="coerce")
    valid = raw.between(merged["lo"], merged["hi"])
    merged = merged[valid].assign(raw=raw[valid])
    recoded = np.where(
        merged["reverse"], merged["lo"] + merged["hi"] - merged["raw"], merged["raw"]
    )
    merged["score"] = (recoded - merged["lo"]) / (merged["hi"] - merged["lo"])
    return merged[cols].reset_index(drop=True)


def likert_scores(
    answers: pd.DataFrame, questions: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """Return per interview and dimension the mean item score and item count."""
    items = item_scores(answers, questions)
    grouped = items.groupby(["interview_id", "dimension"])["score"]
    out = grouped.agg(likert="mean", n_items="count").reset_index()
    return out


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Return Cronbach's alpha of a respondents x items table (complete rows only)."""
    complete = items.dropna()
    k = complete.shape[1]
    if k < 2 or len(complete) < 2:
        return float("nan")
    item_var = complete.var(axis=0, ddof=1).sum()
    total_var = complete.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - item_var / total_var))


def scale_alphas(
    interviews: pd.DataFrame, answers: pd.DataFrame, questions: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """Return Cronbach's alpha per respondent type and dimension (one scale each)."""
    items = item_scores(answers, questions).merge(
        interviews[["interview_id", "respondent_type"]], on="interview_id"
    )
    rows = []
    for (rtype, dim), part in items.groupby(["respondent_type", "dimension"]):
        wide = part.pivot_table(index="interview_id", columns="question_key", values="score")
        alpha = cronbach_alpha(wide)
        note = ""
        if wide.shape[1] < 2:
            note = "fewer than two items"
        elif len(wide.dropna()) < 2:
            note = "fewer than two complete respondents"
        elif np.isnan(alpha):
            note = "no variance in total score"
        rows.append((rtype, dim, alpha, wide.shape[1], len(wide.dropna()), note))
    return pd.DataFrame(
        rows, columns=["respondent_type", "dimension", "alpha", "n_items", "n_complete", "note"]
    )


def family_of(code: str) -> str | None:
    """Map a code like 'GOV.FRAG' to its family by prefix."""
    return PREFIX_TO_FAMILY.get(str(code).split(".", 1)[0])


def select_codings(codings: pd.DataFrame, sources: tuple[str, ...] = HUMAN_SOURCES) -> pd.DataFrame:
    """Keep the codings that score a transcript, with their dimension (NaN for OTHER).

    When an interview has consensus codings only those count (the reconciled version);
    otherwise each human coder is kept separately so the bootstrap can draw one.
    """
    if codings.empty:
        return pd.DataFrame(columns=[*CODING_COLUMNS, "dimension"])
    c = codings[codings["source"].isin(sources)].copy()
    by_code = c["code"].map(family_of)
    fam = c["family"].fillna(by_code) if "family" in c else by_code
    c["dimension"] = fam.map(FAMILY_TO_D)
    has_consensus = set(c.loc[c["source"] == "consensus", "interview_id"])
    return c[(c["source"] == "consensus") | ~c["interview_id"].isin(has_consensus)]


def coders_by_interview(codings: pd.DataFrame) -> dict[Any, list[str]]:
    """Return interview_id -> sorted coders whose codings score that transcript."""
    c = select_codings(codings)
    if c.empty:
        return {}
    return {k: sorted(map(str, v)) for k, v in c.groupby("interview_id")["coder"].unique().items()}


def coding_scores(codings: pd.DataFrame, sources: tuple[str, ...] = HUMAN_SOURCES) -> pd.DataFrame:
    """Return per interview, coder and dimension the transcript score (see module doc)."""
    cols = ["interview_id", "coder", "dimension", "coding", "n_codings"]
    c = select_codings(codings, sources)
    c = c.dropna(subset=["dimension"]) if not c.empty else c
    if c.empty:
        return pd.DataFrame(columns=cols)
    c["coder"] = c["coder"].astype(str)
    c["w"] = (pd.to_numeric(c["intensity"], errors="coerce").fillna(1.0) + 1) / 4
    c["vw"] = pd.to_numeric(c["valence"], errors="coerce").fillna(0.0) * c["w"]
    g = (
        c.groupby(["interview_id", "coder", "dimension"])
        .agg(vw=("vw", "sum"), w=("w", "sum"), n_codings=("code", "size"))
        .reset_index()
    )
    presence = np.minimum(1.0, g["n_codings"] / PRESENCE_SATURATION)
    g["coding"] = 0.5 + 0.5 * presence * g["vw"] / g["w"]
    return g[cols]


def respondent_scores(
    interviews: pd.DataFrame,
    answers: pd.DataFrame,
    codings: pd.DataFrame,
    questions: Mapping[str, Mapping[str, Any]],
) -> pd.DataFrame:
    """Return one row per interview and dimension with both scores side by side.

    `coding` is the mean over coders (the bootstrap draws one coder instead); `flag`
    marks |likert - coding| > 0.2.
    """
    base = interviews[["interview_id", "org_id", "respondent_type"]].merge(
        pd.DataFrame({"dimension": DIMENSIONS}), how="cross"
    )
    lik = likert_scores(answers, questions)
    cod = coding_scores(codings)
    cod_mean = (
        cod.groupby(["interview_id", "dimension"])
        .agg(coding=("coding", "mean"), n_coders=("coder", "nunique"))
        .reset_index()
    )
    out = base.merge(lik, on=["interview_id", "dimension"], how="left").merge(
        cod_mean, on=["interview_id", "dimension"], how="left"
    )
    out["n_items"] = out["n_items"].fillna(0).astype(int)
    out["n_coders"] = out["n_coders"].fillna(0).astype(int)
    out["diff"] = out["likert"] - out["coding"]
    out["flag"] = out["diff"].abs() > TRIANGULATION_GAP
    return out


def combine_groups(means: Mapping[str, float]) -> tuple[float, str]:
    """Weight SME and relay means equally; use the one present if the other is missing."""
    present = {k: v for k, v in means.items() if v is not None and not np.isnan(v)}
    if not present:
        return float("nan"), "no scored interview"
    if len(present) == 1:
        only = next(iter(present))
        return float(present[only]), f"only {only} respondents"
    return float(np.mean(list(present.values()))), ""
