"""Measure `milieu coding train` + `predict --level family` on your own adjudicated sentences.

Give it a local CSV with columns id, text, families (';'-separated GOVERNANCE / STRATEGY /
DYNAMICS / OTHER, empty for none). The rows are cut into 5 folds (KFold, shuffled, seed 0); for
each fold a family-level model is trained with the command on the other four and predicts the
fifth with `predict --level family`. The script prints Krippendorff's alpha between the
adjudicated families and the predictions, per family and their mean over GOVERNANCE,
STRATEGY and DYNAMICS, pooled over the five held-out folds (each row is predicted once), the
mean of the per-fold figures, and the candidate each fold's model selection kept. With
--sizes it also trains on that many rows drawn from each fold's training part (a learning
curve). --repeats N runs the folds again with seeds 1..N-1 and averages (the cold start
runs once): one draw of folds moves the curve by several hundredths. The first line is the
cold start: the shipped model (`predict --model default`), trained on nothing from the file.
How the project's own set was built, its figures and its list of sources: docs/REAL_TEXT_CHECK.md.

The data stay where they are: everything is written to a temporary folder removed at the end.

Run: .venv/bin/python scripts/realtext_check.py PATH [--sizes 50 100 200] [--candidate NAME]
     [--repeats N] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coding.agreement import krippendorff_alpha  # noqa: E402
from coding.commands import coding_group  # noqa: E402

FAMILIES = ("GOVERNANCE", "STRATEGY", "DYNAMICS")
ALL_FAMILIES = (*FAMILIES, "OTHER")


class InputError(Exception):
    """The CSV cannot be used."""


def read_adjudicated(path: Path) -> pd.DataFrame:
    """Read and check id, text, families; return rows with normalised family cells."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc
    missing = [c for c in ("id", "text", "families") if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column {', '.join(repr(c) for c in missing)}")
    frame = frame[frame["text"].str.strip() != ""].reset_index(drop=True)
    cells = []
    for i, cell in enumerate(frame["families"], 1):
        fams = [f.strip().upper() for f in cell.split(";") if f.strip()]
        unknown = [f for f in fams if f not in ALL_FAMILIES]
        if unknown:
            raise InputError(f"{path}: unknown family {unknown[0]!r} in data row {i}")
        cells.append(";".join(dict.fromkeys(fams)))
    frame["families"] = cells
    if len(frame) < 10:
        raise InputError(f"{path}: {len(frame)} non-blank rows, too few for 5 folds")
    return frame


def _run(args: list[str]) -> str:
    """Run one `milieu coding` command in this process; return its standard output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            coding_group.main(args=[str(a) for a in args], standalone_mode=False)
        except Exception as exc:
            raise RuntimeError(f"milieu coding {args[0]} failed: {exc}\n{err.getvalue()}") from exc
    return out.getvalue()


def predict_families(model: str | Path, rows: pd.DataFrame, work: Path) -> dict[str, str]:
    """Predict `rows` at family level with the command; return {id: ';'-joined families}."""
    data, out = work / "test.csv", work / "pred.csv"
    rows[["id", "text"]].to_csv(data, index=False)
    args = ["predict", "--model", model, "--data", data, "--out", out, "--level", "family"]
    _run([*args, "--workers", "1"])
    pred = pd.read_csv(out, dtype=str, keep_default_na=False)
    return dict(zip(pred["id"], pred["codes"], strict=True))


def train_and_predict(
    train: pd.DataFrame, test: pd.DataFrame, work: Path, candidates: list[str]
) -> tuple[dict[str, str], dict]:
    """Train on `train` with the command, predict `test`; return predictions and summary."""
    work.mkdir(parents=True, exist_ok=True)
    train_csv = work / "train.csv"
    train.rename(columns={"families": "codes"})[["text", "codes"]].to_csv(train_csv, index=False)
    extra = [x for name in candidates for x in ("--candidate", name)]
    out = _run(["train", "--data", train_csv, "--out", work / "model", "--level", "family", *extra])
    summary = json.loads(out.strip().splitlines()[-1])
    return predict_families(work / "model", test, work), summary


def cold_start(frame: pd.DataFrame, work: Path) -> dict:
    """Alphas of the shipped model, trained on nothing from the file (`--model default`)."""
    work.mkdir(parents=True, exist_ok=True)
    got = predict_families("default", frame, work)
    return family_alphas(frame["families"].tolist(), [got.get(i, "") for i in frame["id"]])


def family_alphas(gold: list[str], pred: list[str]) -> dict:
    """Alpha per family (gold vs predicted presence) and the mean over G/S/D."""
    out = {}
    for fam in FAMILIES:
        g = [fam in cell.split(";") for cell in gold]
        p = [fam in cell.split(";") for cell in pred]
        a = krippendorff_alpha(np.array([g, p], dtype=float), "nominal")
        out[fam] = None if not np.isfinite(a) else round(float(a), 3)
    vals = [v for v in out.values() if v is not None]
    out["mean"] = round(float(np.mean(vals)), 3) if vals else None
    return out


def run_folds(
    frame: pd.DataFrame, work: Path, size: int | None, candidates: list[str], seed: int = 0
) -> dict:
    """5-fold train/predict; pooled and per-fold alphas, chosen candidates."""
    pred_codes = pd.Series("", index=frame.index, dtype=object)
    per_fold, chosen = [], []
    folds = KFold(5, shuffle=True, random_state=seed).split(np.zeros(len(frame)))
    for k, (tr, te) in enumerate(folds):
        if size is not None:
            rng = np.random.default_rng(seed + k)
            tr = np.sort(rng.choice(tr, size=min(size, len(tr)), replace=False))
        train, test = frame.iloc[tr], frame.iloc[te]
        got, summary = train_and_predict(train, test, work / f"{size}-{k}", candidates)
        pred_codes.iloc[te] = [got.get(i, "") for i in test["id"]]
        per_fold.append(family_alphas(test["families"].tolist(), pred_codes.iloc[te].tolist()))
        chosen.append(summary.get("candidate"))
        print(
            f"  fold {k + 1}/5: {len(train)} training rows, candidate {chosen[-1]}, "
            f"held-out mean family alpha {per_fold[-1]['mean']}",
            file=sys.stderr,
            flush=True,
        )
    pooled = family_alphas(frame["families"].tolist(), pred_codes.tolist())
    fold_means = [f["mean"] for f in per_fold if f["mean"] is not None]
    return {
        "train_size": "all" if size is None else size,
        "pooled": pooled,
        "fold_mean": round(float(np.mean(fold_means)), 3) if fold_means else None,
        "candidates": chosen,
    }


def average_repeats(results: list[dict]) -> list[dict]:
    """Per training size: the pooled alphas averaged over repeats, and the lowest and highest
    repeat's mean."""
    sizes = list(dict.fromkeys(r["train_size"] for r in results))
    out = []
    for size in sizes:
        runs = [r["pooled"] for r in results if r["train_size"] == size]
        row = {"train_size": size, "repeats": len(runs)}
        for key in (*FAMILIES, "mean"):
            vals = [p[key] for p in runs if p[key] is not None]
            row[key] = round(float(np.mean(vals)), 3) if vals else None
        means = [p["mean"] for p in runs if p["mean"] is not None]
        row["low"] = min(means) if means else None
        row["high"] = max(means) if means else None
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the figures; return a process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path, help="your adjudicated CSV (id, text, families)")
    ap.add_argument("--sizes", type=int, nargs="*", default=[50, 100, 200])
    ap.add_argument("--candidate", action="append", default=[], help="restrict selection")
    ap.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="repeat the five folds with seeds 0..N-1 and average (the curve is noisy)",
    )
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    try:
        frame = read_adjudicated(args.path)
    except InputError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory(prefix="milieu-realtext-") as tmp:
        print("cold start: the shipped model", file=sys.stderr, flush=True)
        cold = cold_start(frame, Path(tmp) / "cold")
        for seed in range(args.repeats):
            for size in [None, *args.sizes]:
                print(
                    f"training on {size or 'all'} rows per fold, seed {seed}",
                    file=sys.stderr,
                    flush=True,
                )
                run = run_folds(frame, Path(tmp), size, args.candidate, seed=seed)
                results.append({**run, "seed": seed})
    averages = average_repeats(results)
    if args.json:
        figures = {"n": len(frame), "cold_start": cold, "results": results}
        if args.repeats > 1:
            figures["averages"] = averages
        print(json.dumps(figures, indent=2))
        return 0
    seeds = "seed 0" if args.repeats == 1 else f"seeds 0 to {args.repeats - 1}"
    print(f"{len(frame)} adjudicated rows, 5 folds (KFold, shuffled, {seeds})")
    print("train size   mean    G      S      D      fold-mean  candidates")
    print(
        f"{'none':<12} {cold['mean']!s:<7} {cold['GOVERNANCE']!s:<6} "
        f"{cold['STRATEGY']!s:<6} {cold['DYNAMICS']!s:<6} {'':<10} shipped model (cold start)"
    )
    for r in results:
        p = r["pooled"]
        print(
            f"{r['train_size']!s:<12} {p['mean']!s:<7} {p['GOVERNANCE']!s:<6} "
            f"{p['STRATEGY']!s:<6} {p['DYNAMICS']!s:<6} {r['fold_mean']!s:<10} "
            f"{','.join(str(c) for c in r['candidates'])}"
            + (f" (seed {r['seed']})" if args.repeats > 1 else "")
        )
    if args.repeats > 1:
        print(f"mean over {args.repeats} repeats (lowest to highest repeat)")
        for a in averages:
            print(
                f"{a['train_size']!s:<12} {a['mean']!s:<7} {a['GOVERNANCE']!s:<6} "
                f"{a['STRATEGY']!s:<6} {a['DYNAMICS']!s:<6} {a['low']}-{a['high']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
