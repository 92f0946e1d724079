"""Throughput of `milieu coding predict` against a bare spaCy `nlp.pipe`, in the same run.

Generates an interview-like CSV of about --words words from the project corpus, then
1. baseline: bare `nlp.pipe` over the texts with the same spaCy components the model runs
   (tok2vec, morphologizer, attribute_ruler, lemmatizer), one process;
2. predict: the command's own code path (`coding.commands.predict_file`: streaming CSV in/out,
   spaCy, features, classifier) in a child process, with --workers processes;
and prints words/s of both, their ratio (target >= 0.8) and peak memory of the predict run
at a tenth of the size and at full size (flat memory = streaming works).

The speed ratio is measured in alternating rounds (baseline, predict, baseline, predict) on
--ratio-words words and the median taken, because other work on a shared machine changes
the speed from one minute to the next; CPU-time throughput is printed beside wall time.

Run: .venv/bin/python bench/coding_throughput.py [--words 1000000] [--ratio-words 200000]
     [--rounds 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_input(path: Path, words: int, seed: int = 0) -> int:
    """Write an id,text CSV of about `words` words built from corpus segments."""
    with (ROOT / "coding" / "data" / "corpus.csv").open(encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    rng = random.Random(seed)
    total = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text"])
        i = 0
        while total < words:
            text = " ".join(rng.sample(texts, rng.randint(1, 3)))
            writer.writerow([i, text])
            total += len(text.split())
            i += 1
    return total


def iter_texts(path: Path):
    """Stream the text column."""
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            yield row["text"]


def baseline(path: Path) -> dict:
    """Time a bare nlp.pipe with the model's components over the same texts."""
    from coding.nlp import load_nlp

    nlp = load_nlp("tag")
    start, cpu = time.perf_counter(), time.process_time()
    words = 0
    for text, _doc in zip(
        iter_texts(path), nlp.pipe(iter_texts(path), batch_size=256), strict=True
    ):
        words += len(text.split())
    seconds = time.perf_counter() - start
    return {
        "words": words,
        "seconds": seconds,
        "words_per_s": words / seconds,
        "words_per_cpu_s": words / (time.process_time() - cpu),
        "components": nlp.pipe_names,
    }


def child_predict(path: Path, out: Path, workers: int) -> None:
    """Run the predict code path once and print timing and peak memory as JSON."""
    from coding.codebook import default_codebook
    from coding.commands import predict_file
    from coding.model import default_model_dir, load_model

    cb = default_codebook()
    t0 = time.perf_counter()
    model = load_model(default_model_dir(), cb)
    model.predict_proba(["Bonjour."])  # load spaCy before the clock starts, like the baseline
    t1 = time.perf_counter()
    cpu0 = _cpu()
    n, _ = predict_file(model, cb, path, out, "code", workers)
    t2 = time.perf_counter()
    cpu = _cpu() - cpu0
    words = sum(len(t.split()) for t in iter_texts(path))
    print(
        json.dumps(
            {
                "rows": n,
                "words": words,
                "load_seconds": t1 - t0,
                "seconds": t2 - t1,
                "words_per_s": words / (t2 - t1),
                "words_per_cpu_s": words / cpu,
                "peak_rss_mib_main": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "peak_rss_mib_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                / 1024,
            }
        )
    )


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_predict(path: Path, workers: int) -> dict:
    """Run child_predict in a fresh interpreter so its peak memory is its own."""
    out = path.with_suffix(".out.csv")
    cmd = [sys.executable, __file__, "--child", str(path), str(out), str(workers)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate input, run both measurements and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=1_000_000, help="size of the memory run")
    ap.add_argument("--ratio-words", type=int, default=200_000, help="size of each speed round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="milieu-bench-") as tmp:
        small, big, mid = (Path(tmp) / f"{n}.csv" for n in ("small", "big", "ratio"))
        make_input(small, max(args.words // 10, 1000))
        n_words = make_input(big, args.words)
        make_input(mid, args.ratio_words, seed=1)
        rounds = []
        for r in range(args.rounds):
            base = baseline(mid)
            pred = run_predict(mid, args.workers)
            rounds.append(
                {
                    "baseline": base,
                    "predict": pred,
                    "ratio": pred["words_per_s"] / base["words_per_s"],
                }
            )
            print(f"round {r + 1}: ratio {rounds[-1]['ratio']:.2f}", file=sys.stderr)
        pred_small = run_predict(small, args.workers)
        pred_big = run_predict(big, args.workers)
    ratios = sorted(x["ratio"] for x in rounds)
    last = rounds[-1]
    report = {
        "ratio_rounds": [round(x, 2) for x in (r["ratio"] for r in rounds)],
        "ratio_median": round(
            float(
                ratios[len(ratios) // 2]
                if len(ratios) % 2
                else (ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
            ),
            2,
        ),
        "target_ratio": 0.8,
        "baseline_words_per_s": [round(r["baseline"]["words_per_s"]) for r in rounds],
        "predict_words_per_s": [round(r["predict"]["words_per_s"]) for r in rounds],
        "baseline_words_per_cpu_s": round(last["baseline"]["words_per_cpu_s"]),
        "predict_words_per_cpu_s": round(last["predict"]["words_per_cpu_s"]),
        "baseline_components": last["baseline"]["components"],
        "predict_workers": args.workers,
        "memory_run_words": n_words,
        "memory_run_predict_words_per_s": round(pred_big["words_per_s"]),
        "peak_rss_mib": {
            "tenth_input_main": round(pred_small["peak_rss_mib_main"]),
            "tenth_input_worker": round(pred_small["peak_rss_mib_worker"]),
            "full_input_main": round(pred_big["peak_rss_mib_main"]),
            "full_input_worker": round(pred_big["peak_rss_mib_worker"]),
        },
        "model_load_seconds": round(pred_big["load_seconds"], 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child_predict(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
