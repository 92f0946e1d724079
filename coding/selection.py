"""Model selection: cross-validate a few candidate pipelines on the data given, keep the best.

The texts are analysed by spaCy once (lemmas, surface, mean word vectors); every candidate and
every fold reuses that frame, so only the cheap scikit-learn steps are fitted per fold. All
candidates see the same folds (grouped by document when a group is given), and the winner is
the candidate with the highest mean family alpha (GOVERNANCE, STRATEGY, DYNAMICS) over the
pooled out-of-fold predictions, on one condition: it replaces the plain model only when it
beats it in at least 95% of the paired bootstrap draws (documents resampled, the same draws
for both); otherwise the plain model is kept. The plain model is ``vectors+prior`` (mean word
vectors and the shipped cold-start model's scores + class-balanced logistic regression), or
``encoder+prior`` (the sentence embedding instead of the vectors) where the optional encoder is
installed; without the ``+prior`` candidates (``coding.model.candidates_for``), ``vectors`` or
``encoder``. On a few dozen segments the best of several candidates is mostly the luckiest
one, and on held-out real text it did worse than the plain model. Ties go to the simpler
candidate (the order of ``coding.classifier.CANDIDATES``; the sentence encoder competes only
where its optional package is installed).

Folds run on two threads: the logistic regressions release the GIL, and results come back in
order so that ``progress`` is only ever called from the calling thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from coding.classifier import (
    CANDIDATES,
    available_candidates,
    candidate_parts,
    check_candidates,
    embed_texts,
    make_candidate,
    without_analysis,
)
from coding.codebook import Codebook

THEMED_FAMILIES = ("GOVERNANCE", "STRATEGY", "DYNAMICS")
N_BOOT = 1000
#: the plain models another candidate must beat (the first one competing), and how surely
#: (share of bootstrap draws): the sentence encoder + logistic regression where the optional
#: encoder competes, the mean word vectors + logistic regression otherwise; each with the
#: shipped cold-start model's scores beside it where that model knows the project's codes
#: (on held-out real text they did better on small training sets and no worse on larger ones)
REFERENCES = ("encoder+prior", "encoder", "vectors+prior", "vectors")
CONFIDENCE = 0.95
RULE = (
    "highest mean family alpha (G/S/D) over grouped out-of-fold predictions, replacing the "
    "plain model ({reference}) only when it beats it in at least "
    f"{CONFIDENCE:.0%} of paired bootstrap draws; ties go to the simpler candidate"
)


def reference_of(names) -> str | None:
    """Return the plain model the others must beat among these candidates (None: none)."""
    return next((r for r in REFERENCES if r in names), None)


@dataclass
class CandidateResult:
    """Out-of-fold scores, decisions and metrics of one candidate."""

    name: str
    scores: np.ndarray
    predictions: np.ndarray
    report: dict
    seconds: float
    #: the mean family alpha of each bootstrap draw (the same draws for every candidate)
    draws: np.ndarray | None = None

    @property
    def mean_family_alpha(self) -> float:
        value = self.report.get("mean_family_alpha")
        return -np.inf if value is None else float(value)


@dataclass
class Selection:
    """The outcome of model selection: every candidate's results and the chosen name."""

    chosen: str
    results: dict[str, CandidateResult]
    folds: int
    grouped: bool
    seed: int

    @property
    def best(self) -> CandidateResult:
        return self.results[self.chosen]

    def summary(self) -> dict:
        """Return the JSON-ready record kept in meta.json and printed by the commands."""
        return {
            "chosen": self.chosen,
            "rule": RULE.format(reference=reference_of(self.results)),
            "folds": self.folds,
            "grouped": self.grouped,
            "seed": self.seed,
            "candidates": [
                {
                    "name": r.name,
                    "description": CANDIDATES[r.name],
                    "seconds": round(r.seconds, 2),
                    **family_alpha_summary(r.report),
                }
                for r in self.results.values()
            ],
        }


def family_alpha_summary(report: dict) -> dict:
    """Return mean family alpha and per-family alpha with their intervals, rounded."""

    def rnd(x):
        return None if x is None else round(float(x), 4)

    fam = report.get("per_family", {})
    return {
        "mean_family_alpha": rnd(report.get("mean_family_alpha")),
        "mean_family_alpha_ci": [rnd(x) for x in report.get("mean_family_alpha_ci", [])],
        "family_alpha": {
            f: {
                "alpha": rnd(fam[f]["alpha"]),
                "ci": [rnd(x) for x in fam[f].get("alpha_ci", [])],
            }
            for f in THEMED_FAMILIES
            if f in fam
        },
    }


def _jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _fold_task(pipe, frame: pd.DataFrame, Y: np.ndarray, tr, te, groups) -> tuple:
    model = clone(pipe)
    fit_params = {} if groups is None else {"model__groups": groups[tr]}
    model.fit(frame.iloc[tr], Y[tr], **fit_params)
    scores = model.predict_proba(frame.iloc[te])
    return scores, (scores >= model[-1].thresholds_).astype(int)


def select_model(
    frame: pd.DataFrame,
    Y: np.ndarray,
    codes: list[str],
    codebook: Codebook,
    keywords: dict[str, list[str]],
    splits: list[tuple[np.ndarray, np.ndarray]],
    groups: np.ndarray | None = None,
    candidates: Sequence[str] | None = None,
    seed: int = 0,
    n_boot: int = N_BOOT,
    progress: Callable[[str], None] | None = None,
) -> Selection:
    """Cross-validate each candidate on the same splits of an analysed frame; pick the best.

    `progress` gets one message per fold, once every candidate has finished that fold.
    """
    from coding.model import metrics_report  # model imports this module

    names = available_candidates() if candidates is None else list(candidates)
    check_candidates(names)
    if any("encoder" in candidate_parts(n) for n in names):
        embed_texts(list(frame["text"]))  # once, before the folds run side by side
    protos = {n: without_analysis(make_candidate(n, keywords, random_state=seed)) for n in names}
    tasks = [(k, n) for k in range(len(splits)) for n in names]  # fold-major: progress per fold
    run = Parallel(n_jobs=_jobs(), backend="threading", return_as="generator")
    outputs = run(
        delayed(_timed)(_fold_task, protos[n], frame, Y, *splits[k], groups) for k, n in tasks
    )
    S = {n: np.zeros(Y.shape, dtype=float) for n in names}
    P = {n: np.zeros(Y.shape, dtype=int) for n in names}
    seconds = dict.fromkeys(names, 0.0)
    for (k, n), (out, spent) in zip(tasks, outputs, strict=True):
        te = splits[k][1]
        S[n][te], P[n][te] = out[0], out[1]
        seconds[n] += spent
        if progress and n == names[-1]:
            progress(f"fold {k + 1}/{len(splits)} done")
    clusters = groups if groups is not None else np.arange(len(Y))
    results = {}
    for n in names:
        report = metrics_report(
            Y, P[n], codes, codebook, clusters=clusters, n_boot=n_boot, seed=seed, keep_draws=True
        )
        draws = report.pop("mean_family_alpha_draws", None)
        results[n] = CandidateResult(n, S[n], P[n], report, seconds[n], draws)
    best = max(names, key=lambda n: (results[n].mean_family_alpha, -names.index(n)))
    chosen = best if beats_reference(results, best) else reference_of(results)
    return Selection(chosen, results, len(splits), is_grouped(groups, len(splits)), seed)


def is_grouped(groups, folds: int) -> bool:
    """Tell whether folds can keep groups together (at least one group per fold)."""
    return groups is not None and len(set(groups)) >= folds


def beats_reference(results: dict[str, CandidateResult], name: str) -> bool:
    """Tell whether a candidate may replace the plain model: it is the plain model, no plain
    model competed, or it beats it in at least CONFIDENCE of the paired draws."""
    reference = reference_of(results)
    if reference is None or name == reference:
        return True
    ours, theirs = results[name].draws, results[reference].draws
    if ours is None or theirs is None or not len(ours):
        return results[name].mean_family_alpha > results[reference].mean_family_alpha
    with np.errstate(invalid="ignore"):
        diff = ours - theirs
    diff = diff[np.isfinite(diff)]
    return bool(diff.size) and float((diff > 0).mean()) >= CONFIDENCE


def _timed(fn, *args) -> tuple:
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start
