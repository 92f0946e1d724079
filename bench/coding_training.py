"""Time `milieu coding train` on 2,000 segments (target: under 60 s on 2 cores).

Takes --segments rows of the project corpus (code level, grouped by statement, 5 folds: what
`milieu coding train` does with a group column) and times, in this process:
1. baseline: the spaCy analysis of those texts alone (`analyse_texts`, the part no model
   choice can avoid);
2. training: `coding.model.train_model` with every candidate this installation runs (model
   selection by grouped cross-validation, the bootstrap intervals, the measured precision,
   the final fit).
It prints both times, their ratio, and the seconds each candidate's cross-validation took.
The spaCy model is loaded before either is timed.

Run: .venv/bin/python bench/coding_training.py [--segments 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coding.classifier import analyse_texts  # noqa: E402
from coding.codebook import default_codebook  # noqa: E402
from coding.model import parse_labels, train_model  # noqa: E402
from coding.nlp import load_nlp  # noqa: E402

TARGET_SECONDS = 60.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=2000)
    args = ap.parse_args(argv)
    corpus = pd.read_csv(ROOT / "coding" / "data" / "corpus.csv", dtype=str, keep_default_na=False)
    rows = corpus.sample(n=min(args.segments, len(corpus)), random_state=0)
    texts, groups = rows["text"].tolist(), rows["group"].tolist()
    cb = default_codebook()
    sets, level = parse_labels(rows["codes"], cb)
    load_nlp("tag")
    start = time.perf_counter()
    analyse_texts(texts)
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    model = train_model(texts, sets, cb, level, folds=5, groups=groups)
    spent = time.perf_counter() - start
    names = [c["name"] for c in model.meta["selection"]["candidates"]]
    print(f"{len(texts)} segments, candidates: {', '.join(names)}")
    print(f"spaCy analysis alone: {baseline:.1f} s")
    print(f"train_model:          {spent:.1f} s (target < {TARGET_SECONDS:.0f} s)")
    print(f"ratio train / analysis: {spent / baseline:.1f}")
    for c in model.meta["selection"]["candidates"]:
        print(f"  {c['name']:<14} cross-validation {c['seconds']:.1f} s")
    print(f"kept: {model.candidate}")
    return 0 if spent < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
