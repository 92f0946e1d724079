"""Rebuild the shipped cold-start model from coding/data/corpus.csv (`make model`).

Trains on the `train` split (grouped by hand-written statement), saves the model into
coding/models/default/ and prints held-out figures, grouped cross-validation and a learning
curve. The corpus is written for the project, not real interview data: the figures describe
how the model does on that material only.

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
CURVE_SIZES = (50, 100, 200, 400)


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


def learning_curve(
    train: pd.DataFrame, held: pd.DataFrame, cb, candidate: str, seed: int = 0
) -> list[dict]:
    """Held-out figures of one candidate trained on growing random subsets of the train split."""
    codes = cb.codes
    ftr = analyse_texts(train["text"].tolist())
    fhe = analyse_texts(held["text"].tolist())
    HY = indicator(parse_labels(held["codes"], cb)[0], codes)
    Y = indicator(parse_labels(train["codes"], cb)[0], codes)
    rng = np.random.default_rng(seed)
    out = []
    for size in [s for s in CURVE_SIZES if s <= len(train)]:
        idx = np.sort(rng.choice(len(train), size=size, replace=False))
        pipe = without_analysis(make_candidate(candidate, keywords_for(cb, "code")))
        pipe.fit(ftr.iloc[idx], Y[idx], model__groups=train["group"].to_numpy()[idx])
        rep = metrics_report(HY, pipe.predict(fhe), codes, cb)
        out.append({"train_size": size, **_summary(rep)})
        _log(f"learning curve: {size} segments done")
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
    _log(f"training on {len(train)} segments (model selection by grouped 5-fold CV first)")
    model = train_model(
        train["text"].tolist(),
        sets,
        cb,
        level,
        folds=5,
        groups=train["group"].tolist(),
        progress=_log,
    )
    hsets, _ = parse_labels(held["codes"], cb)
    P = (model.predict_proba(held["text"].tolist()) >= model.thresholds).astype(int)
    heldout = metrics_report(indicator(hsets, model.codes), P, model.codes, cb)
    all_sets, _ = parse_labels(corpus["codes"], cb)
    _log("grouped 5-fold CV on the whole corpus")
    cv_all = cross_validate(
        corpus["text"].tolist(), all_sets, cb, "code", 5, groups=corpus["group"].tolist()
    )
    figures = {
        "corpus": {
            "n": len(corpus),
            "train": len(train),
            "heldout": len(held),
            "note": "project-written corpus, not real interviews",
        },
        "heldout": _summary(heldout),
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
