"""Benchmark every export format on a generated project (default 2,000 interviews and
100,000 codings).

Each format runs in its own child process, which builds the deterministic synthetic project
(analysis.synthetic_project) then times only the export. The parent reads the child's peak
resident memory from the kernel's rusage of that child (os.wait4, the per-child form of
getrusage(RUSAGE_CHILDREN)). A `baseline` child builds the project and writes nothing: its
peak memory is what the data alone costs, and the `x base` column divides each format's
time by a plain pandas CSV dump of the codings table measured in the same run. `cpu s` is
the export's own CPU time, steadier than wall time on a shared machine.

    python bench/export.py [--interviews 2000] [--codings 100000] [--text-length 8000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FORMATS = ["csv", "xlsx", "parquet", "sav", "dta", "qdpx", "qdc"]
TARGETS = {
    "csv": "export.zip",
    "xlsx": "export.xlsx",
    "parquet": "export_parquet.zip",
    "sav": "export.sav",
    "dta": "export.dta",
    "qdpx": "export.qdpx",
    "qdc": "export.qdc",
}
TARGET_SECONDS, TARGET_MB = 10.0, 1024.0


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def child(fmt: str, args: argparse.Namespace) -> None:
    """Build the project, export it in `fmt`, print timing as JSON on stdout."""
    from analysis.synthetic_project import synthetic_dataset
    from analysis.writers import WRITERS

    ds = synthetic_dataset(
        args.interviews, args.codings, seed=args.seed, text_length=args.text_length
    )
    out = Path(args.out)
    start, cpu = time.perf_counter(), time.process_time()
    if fmt == "baseline":
        ds.codings.to_csv(out / "baseline_codings.csv", index=False)
        written = [out / "baseline_codings.csv"]
    else:
        written = WRITERS[fmt](ds, out / TARGETS[fmt])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        json.dumps(
            {
                "format": fmt,
                "seconds": seconds,
                "cpu": cpu,
                "bytes": sum(_size(Path(p)) for p in written),
            }
        )
    )


def measure(fmt: str, args: argparse.Namespace) -> dict:
    """Run one format in a child process; return its timing and peak memory (MB)."""
    command = [
        sys.executable,
        __file__,
        "--child",
        fmt,
        "--out",
        args.out,
        "--interviews",
        str(args.interviews),
        "--codings",
        str(args.codings),
        "--text-length",
        str(args.text_length),
        "--seed",
        str(args.seed),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"Error: export to {fmt} failed (exit {process.returncode})")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return result


def main() -> None:
    """Parse arguments, run every format, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interviews", type=int, default=2000)
    parser.add_argument("--codings", type=int, default=100_000)
    parser.add_argument(
        "--text-length",
        type=int,
        default=8000,
        help="characters per transcript (default 8000, ~1,300 words)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--out", default=None, help="folder for the files (default: temp)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    with tempfile.TemporaryDirectory(prefix="milieu-bench-") as tmp:
        args.out = args.out or tmp
        Path(args.out).mkdir(parents=True, exist_ok=True)
        run(args)


def run(args: argparse.Namespace) -> None:
    """Measure the baseline then each requested format, printing one line each."""
    print(
        f"{args.interviews} interviews, {args.codings} codings, "
        f"{args.text_length} characters per transcript",
        file=sys.stderr,
    )
    base = measure("baseline", args)
    print(
        f"{'format':<9}{'seconds':>9}{'cpu s':>7}{'x base':>8}{'peak MB':>9}{'over data':>11}"
        f"{'size MB':>9}  target"
    )
    print(
        f"{'baseline':<9}{base['seconds']:>9.2f}{base['cpu']:>7.2f}{1:>8.1f}"
        f"{base['peak_mb']:>9.0f}{0:>11.0f}{base['bytes'] / 1e6:>9.1f}  (codings.to_csv)"
    )
    failed = []
    for fmt in args.formats.split(","):
        r = measure(fmt, args)
        ok = r["seconds"] < TARGET_SECONDS and r["peak_mb"] < TARGET_MB
        failed += [] if ok else [fmt]
        print(
            f"{fmt:<9}{r['seconds']:>9.2f}{r['cpu']:>7.2f}{r['seconds'] / base['seconds']:>8.1f}"
            f"{r['peak_mb']:>9.0f}{r['peak_mb'] - base['peak_mb']:>11.0f}"
            f"{r['bytes'] / 1e6:>9.1f}  {'ok' if ok else 'MISSED'}",
            flush=True,
        )
    if failed:
        print(
            f"targets (< {TARGET_SECONDS:.0f} s, < {TARGET_MB:.0f} MB) missed: {', '.join(failed)}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
