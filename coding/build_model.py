"""Rebuild the shipped cold-start model from coding/data/corpus.csv (`make model`).

Trains the full pipeline (``SHIPPED_CANDIDATE``, below) on the `train` split (grouped by
hand-written statement), saves the model into
coding/models/default/ and prints held-out figures (overall and per register), grouped
cross-validation and a learning curve (held-out figures when training on 25, 50 and 100% of
the training split's statements). The corpus is written for the project, not real interview,
report or paper text: the figures describe how the model does on that material only.

Run: .venv/bin/python -m coding.build_model [--out DIR] [--no-curve]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from coding.classifier import analyse_texts, make_candidate, without_analysis
from coding.codebook import default_codebook
from coding.model import (
    cross_validate,
    default_model_dir,
    indicator,
    keywords_for,
    metrics_report,
    parse_labels,
    save_model,
    train_model,
)

CORPUS = Path(__file__).resolve().parent / "data" / "corpus.csv"
CURVE_SHARES = (0.25, 0.5, 1.0)
SHIPPED_CANDIDATE = "full"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _summary(report: dict) -> dict:
    fam = {f: v["alpha"] for f, v in report["per_family"].items()}
    return {
        "n": report["n"],
        "macro_f1": round(report["macro_f1"], 3),
        "mean_family_alpha": report["mean_family_alpha"] and round(report["mean_family_alpha"], 3),
        "family_alpha": {f: (None if a is None else round(a, 3)) for f, a in fam.items()},
    }


def per_register(held: pd.DataFrame, HY: np.ndarray, P: np.ndarray, codes, cb) -> dict:
    """Held-out summary for each register of the corpus (when it has a `register` column)."""
    if "register" not in held.columns:
        return {}
    regs = held["register"].to_numpy()
    return {
        reg: _summary(metrics_report(HY[regs == reg], P[regs == reg], codes, cb))
        for reg in sorted(set(regs))
    }


def learning_curve(
    train: pd.DataFrame, held: pd.DataFrame, cb, candidate: str, seed: int = 0
) -> list[dict]:
    """Held-out figures of the chosen candidate trained on growing shares of the statements.

    Statements (the `group` column) are drawn, not rows, so every rendering of a drawn
    statement comes with it; each smaller draw is contained in the larger one.
    """
    codes = cb.codes
    ftr = analyse_texts(train["text"].tolist())
    fhe = analyse_texts(held["text"].tolist())
    HY = indicator(parse_labels(held["codes"], cb)[0], codes)
    Y = indicator(parse_labels(train["codes"], cb)[0], codes)
    groups = train["group"].to_numpy()
    order = np.random.default_rng(seed).permutation(sorted(set(groups)))
    out = []
    for share in CURVE_SHARES:
        chosen = set(order[: round(len(order) * share)])
        idx = np.flatnonzero([g in chosen for g in groups])
        pipe = without_analysis(make_candidate(candidate, keywords_for(cb, "code")))
        pipe.fit(ftr.iloc[idx], Y[idx], model__groups=groups[idx])
        P = pipe.predict(fhe)
        rep = metrics_report(HY, P, codes, cb)
        point = {"train_share": share, "train_statements": len(chosen), "train_size": len(idx)}
        point.update(_summary(rep))
        point["mean_family_alpha_per_register"] = {
            reg: v["mean_family_alpha"] for reg, v in per_register(held, HY, P, codes, cb).items()
        }
        out.append(point)
        _log(f"learning curve: {share:.0%} of the training statements done")
    return out


def main(argv: list[str] | None = None) -> dict:
    """Train, evaluate and save the default model; print the figures as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=default_model_dir())
    ap.add_argument("--no-curve", action="store_true", help="skip the learning curve")
    args = ap.parse_args(argv)
    cb = default_codebook()
    corpus = pd.read_csv(CORPUS, keep_default_na=False, dtype=str)
    train, held = corpus[corpus["split"] == "train"], corpus[corpus["split"] == "heldout"]
    sets, level = parse_labels(train["codes"], cb)
    # The shipped model is the full pipeline, not a selection: it is the only candidate with
    # calibrated scores and a threshold per code, which is what counts on text unlike the
    # corpus (cold start), and its scores are the +prior candidates' features. (On the corpus
    # tfidf+vectors scored .734 and full .716 in grouped CV; on the real-text check, trained on
    # the same corpus, tfidf+vectors read at 0.5 scored .17 and full .27.)
    names = [SHIPPED_CANDIDATE]
    _log(f"training {SHIPPED_CANDIDATE} on {len(train)} segments (grouped 5-fold CV first)")
    model = train_model(
        train["text"].tolist(),
        sets,
        cb,
        level,
        folds=5,
        groups=train["group"].tolist(),
        progress=_log,
        candidates=names,
    )
    hsets, _ = parse_labels(held["codes"], cb)
    P = (model.predict_proba(held["text"].tolist()) >= model.thresholds).astype(int)
    HY = indicator(hsets, model.codes)
    heldout = metrics_report(HY, P, model.codes, cb)
    all_sets, _ = parse_labels(corpus["codes"], cb)
    _log("grouped 5-fold CV on the whole corpus")
    cv_all = cross_validate(
        corpus["text"].tolist(),
        all_sets,
        cb,
        "code",
        5,
        groups=corpus["group"].tolist(),
        candidates=names,
    )
    figures = {
        "corpus": {
            "n": len(corpus),
            "train": len(train),
            "heldout": len(held),
            "note": "project-written corpus, not real text",
        },
        "heldout": _summary(heldout),
        "heldout_per_register": per_register(held, HY, P, model.codes, cb),
        "heldout_per_code_f1": {c: round(v["f1"], 3) for c, v in heldout["per_code"].items()},
        "candidate": model.candidate,
        "selection": {
            c["name"]: c["mean_family_alpha"] for c in model.meta["selection"]["candidates"]
        },
        "cv_train_grouped": _summary(model.meta["cv_metrics"]),
        "cv_corpus_grouped": _summary(cv_all),
    }
    if not args.no_curve:
        figures["learning_curve"] = learning_curve(train, held, cb, model.candidate)
    model.meta["heldout_metrics"] = heldout
    model.meta["figures"] = figures
    save_model(model, args.out)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    _log(f"saved model to {args.out}")
    return figures


if __name__ == "__main__":
    main()
