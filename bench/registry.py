"""Benchmark: registry counts and indices vs a bare DuckDB GROUP BY, with a pandas baseline.

On a generated SIRENE-format CSV (default 30 million rows, with the national stock's 61%
of closed establishments), times in the same run:
  1. bare DuckDB: SELECT commune, count(*) ... GROUP BY commune over the file (the
     target's baseline), and GROUP BY commune, NAF, state (raw counts one would start
     from by hand);
  2. Milieu: analysis.registry.compute_registry for every département and zone d'emploi
     (one scan; classification, malformed-row accounting, all indicators);
  3. pandas: chunked read_csv of the needed columns, count by commune x NAF (no
     classification, no indices: a lower bound for a pandas implementation).
Each runs in a fresh child process; its peak memory is its own ru_maxrss (os.wait4). Targets:
Milieu / bare DuckDB <= 1.3, Milieu peak memory < 2 GB.

Wall-clock ratios move with whatever else a shared machine runs. --instructions N adds a
reading that does not: the first N and 2N rows, one DuckDB thread, each side counted in
machine instructions under valgrind's callgrind, minus a child that only imports (Python
start-up and imports cancel out). The two sizes split each side into a fixed part (for
Milieu: typology, geography, indices) and a part per row; the ratio per row is what the
30M-row target turns on. Instructions are not seconds (cache misses cost time, not
instructions), so this is a repeatable check of the work each side does, beside the
timed target, not instead of it.

--operators adds where the time goes: DuckDB's own profile of the bare query and of
Milieu's scan (the whole of Milieu's time but a fraction of a second), operator by operator,
in CPU seconds summed over threads.

    python bench/registry.py [--rows 30000000] [--workdir DIR] [--repeat 3] [--no-pandas]
                             [--instructions 600000] [--operators]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The file size the issue's speed target is set at.
TARGET_ROWS = 30_000_000
#: The target's baseline, read by the timed child and the instruction-counting one.
BARE_QUERY = "SELECT codeCommuneEtablissement, count(*) FROM {src} GROUP BY 1"
#: Every child's code starts with these names defined.
PRELUDE = f"BARE_QUERY = {BARE_QUERY!r}\nLEVELS = ['departement', 'zone_emploi']\n"

# Each entry: (setup, timed work). Imports stay out of the timed part.
CHILD = {
    "duckdb": (
        "import duckdb\nfrom analysis.registry import register_source",
        """
src, _ = register_source(PATH)
con = duckdb.connect()
con.execute("SET memory_limit = '1GB'")
con.execute("SET enable_progress_bar = false")
rows = con.execute(BARE_QUERY.format(src=src)).fetchall()
RESULT = len(rows)
""",
    ),
    "duckdb_naf": (
        "import duckdb\nfrom analysis.registry import register_source",
        """
src, _ = register_source(PATH)
con = duckdb.connect()
con.execute("SET memory_limit = '1GB'")
con.execute("SET enable_progress_bar = false")
rows = con.execute(f"SELECT codeCommuneEtablissement, activitePrincipaleEtablissement, "
                   f"etatAdministratifEtablissement, count(*) FROM {src} GROUP BY ALL").fetchall()
RESULT = len(rows)
""",
    ),
    "milieu": (
        "from analysis.registry import compute_registry",
        """
res = compute_registry(PATH, GEO, LEVELS)
RESULT = len(res.table)
""",
    ),
    "pandas": (
        "import pandas as pd",
        """
cols = ["codeCommuneEtablissement", "activitePrincipaleEtablissement",
        "etatAdministratifEtablissement"]
total = None
for chunk in pd.read_csv(PATH, usecols=cols, dtype=str, chunksize=2_000_000):
    active = chunk[chunk["etatAdministratifEtablissement"] == "A"]
    counts = active.groupby(["codeCommuneEtablissement",
                             "activitePrincipaleEtablissement"]).size()
    total = counts if total is None else total.add(counts, fill_value=0)
RESULT = len(total)
""",
    ),
}


#: Children counted under callgrind: one thread each, same imports, so only the work differs.
INSTRUCTION_CHILD = {
    "imports": "",
    "duckdb": """
src, _ = register_source(PATH)
con = duckdb.connect()
con.execute("SET threads = 1")
con.execute(BARE_QUERY.format(src=src)).fetchall()
""",
    "milieu": """
compute_registry(PATH, GEO, LEVELS, threads=1)
""",
}


def count_instructions(path: Path, geo: Path) -> dict[str, int]:
    """Return the instructions each INSTRUCTION_CHILD executes (all three run at once: the
    counts do not depend on what else runs)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    setup = "import duckdb\nfrom analysis.registry import compute_registry, register_source\n"
    procs = {}
    for kind, work in INSTRUCTION_CHILD.items():
        code = f"{setup}{PRELUDE}PATH = {str(path)!r}\nGEO = {str(geo)!r}\n{work}"
        procs[kind] = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                "-c",
                code,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    counts = {}
    for kind, proc in procs.items():
        _out, err = proc.communicate()
        found = re.search(r"Collected : (\d+)", err)
        if proc.returncode != 0 or not found:
            raise SystemExit(f"{kind} failed under valgrind:\n{err[-2000:]}")
        counts[kind] = int(found.group(1))
    return counts


OPERATOR_CHILD = """
import json, sys
import duckdb
from analysis.registry import register_source, scan_sql
from analysis.typology import load_typology
src, names = register_source(PATH)
out = {}
for kind, query in (("duckdb", BARE_QUERY.format(src=src)),
                    ("milieu", scan_sql(src, names, load_typology(), employers_only=False))):
    con = duckdb.connect()
    con.execute("SET memory_limit = '1GB'")
    plan = json.loads(con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query).fetchall()[0][1])
    out[kind] = plan
    con.close()
print("BENCH", json.dumps(out))
"""


def _items(op: dict) -> list[str]:
    found = op.get("extra_info", {}).get("Projections") or []
    return [found] if isinstance(found, str) else list(found)


def operator_rows(node: dict) -> list[tuple[str, str, float]]:
    """Flatten a DuckDB JSON profile into (operator, what it adds, seconds), top down: a
    projection is named by the columns it adds to its input's, a scan by its column count."""
    rows = []
    for op in node.get("operator", []) + node.get("children", []):
        kind, info = op.get("type", "?"), op.get("extra_info", {})
        below = {c for child in op.get("children", []) for c in _items(child)}
        if kind == "TABLE_SCAN":
            what = f"{info.get('Function', '')} ({len(_items(op))} columns)"
        elif kind == "PROJECTION":
            what = ", ".join(c for c in _items(op) if c not in below) or "(same columns)"
        else:
            groups = info.get("Groups", "")
            what = ", ".join(groups) if isinstance(groups, list) else str(groups)
        if kind not in ("RESULT_COLLECTOR", "EXPLAIN_ANALYZE"):
            rows.append((kind, " ".join(what.split())[:60], float(op.get("timing", 0.0))))
        rows += operator_rows({"children": op.get("children", [])})
    return rows


def report_operators(path: Path) -> None:
    """Print DuckDB's profile of the bare query and of Milieu's scan, operator by operator."""
    code = f"{PRELUDE}PATH = {str(path)!r}\n{OPERATOR_CHILD}"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"profile failed:\n{done.stderr[-2000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    plans = json.loads(line.removeprefix("BENCH "))
    print("where the time goes (DuckDB profile, CPU seconds summed over threads):")
    for kind, label in (("duckdb", "bare DuckDB GROUP BY commune"), ("milieu", "Milieu scan")):
        rows = operator_rows(plans[kind])
        print(f"  {label}: {sum(r[2] for r in rows):.2f} s")
        for op, what, seconds in rows:
            print(f"    {seconds:6.2f} s  {op:22s} {what}")


def head_file(path: Path, rows: int) -> Path:
    """Write (or reuse) the header and first rows of path beside it."""
    out = path.with_name(f"{path.stem}_head{rows}.csv")
    if not out.is_file():
        tmp = out.with_suffix(".tmp")
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            for _ in range(rows + 1):
                line = src.readline()
                if not line:
                    break
                dst.write(line)
        tmp.replace(out)
    return out


def report_instructions(
    rows: int, sizes: tuple[int, int], counts: tuple[dict[str, int], dict[str, int]]
) -> None:
    """Print each side's instructions at two sizes, split into a fixed part and a part per
    row (a straight line through both), and the ratio that line gives at the bench's size."""
    (n1, n2), (c1, c2) = sizes, counts
    print(f"instructions (callgrind, 1 thread, imports subtracted) at {n1:,} and {n2:,} rows:")
    line = {}
    for kind, label in (("duckdb", "bare DuckDB GROUP BY commune"), ("milieu", "Milieu registry")):
        a, b = c1[kind] - c1["imports"], c2[kind] - c2["imports"]
        per_row = (b - a) / (n2 - n1)
        line[kind] = (a - per_row * n1, per_row)
        print(
            f"  {label:30s} {a / 1e9:6.2f} G, {b / 1e9:6.2f} G"
            f"  (fixed {line[kind][0] / 1e9:5.2f} G + {per_row:5.0f} per row)"
        )
    print(
        f"  ratio Milieu / bare DuckDB per row (instructions): "
        f"{line['milieu'][1] / line['duckdb'][1]:.2f}"
    )
    at = {k: fixed + per_row * rows for k, (fixed, per_row) in line.items()}
    print(f"  ratio at {rows:,} rows by that line: {at['milieu'] / at['duckdb']:.2f}")


def run_child(kind: str, path: Path, geo: Path) -> dict:
    """Run one measurement in a fresh interpreter; return seconds, peak MB, result size."""
    setup, work = CHILD[kind]
    code = (
        f"import time, json\n{setup}\n{PRELUDE}PATH = {str(path)!r}\nGEO = {str(geo)!r}\n"
        f"t0 = time.perf_counter()\n{work}\n"
        "print('BENCH', json.dumps({'seconds': time.perf_counter() - t0, 'result': RESULT}))"
    )
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, stdout=out_f, stderr=err_f, text=True
        )
        # wait4 reaps this child and gives its own rusage (RUSAGE_CHILDREN mixes children).
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read(), err_f.read()
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{stderr}")
    line = next(x for x in stdout.splitlines() if x.startswith("BENCH "))
    out = json.loads(line.removeprefix("BENCH "))
    out["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return out


def ensure_file(workdir: Path, rows: int) -> tuple[Path, Path]:
    """Generate (or reuse) the synthetic register and geography for this row count."""
    from analysis.synthetic_registry import CLOSED_PERCENT

    # The generator's mix is in the name, so a file from an older generator is not reused.
    path = workdir / f"sirene_synth_{rows}_closed{CLOSED_PERCENT}.csv"
    geo = workdir / "geography_synth.csv"
    if not (path.is_file() and geo.is_file()):
        print(f"generating {rows:,} rows into {path} ...", file=sys.stderr)
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "analysis.synthetic_registry",
                "--rows",
                str(rows),
                "--out",
                str(path),
                "--geography",
                str(geo),
            ],
            cwd=ROOT,
            check=True,
        )
        print(f"generated in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return path, geo


def warm_cache(path: Path) -> None:
    """Read the file once so every contender starts from the page cache."""
    with open(path, "rb") as fh:
        while fh.read(16 << 20):
            pass


def main() -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=TARGET_ROWS)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "milieu-bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument(
        "--instructions",
        type=int,
        metavar="N",
        default=0,
        help="also count instructions on the first N rows under callgrind",
    )
    ap.add_argument(
        "--operators",
        action="store_true",
        help="also print DuckDB's per-operator profile of both queries",
    )
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path, geo = ensure_file(args.workdir, args.rows)
    size_gb = path.stat().st_size / 1e9
    warm_cache(path)
    results: dict[str, list[dict]] = {"duckdb": [], "duckdb_naf": [], "milieu": []}
    for i in range(args.repeat):  # alternate so no side always gets a warmer machine
        # The two sides of the target run next to each other in every round.
        order = ("duckdb", "milieu", "duckdb_naf")
        for kind in order if i % 2 == 0 else order[::-1]:
            results[kind].append(run_child(kind, path, geo))
            print(f"  {kind:7s} run {i + 1}: {results[kind][-1]['seconds']:.1f} s", file=sys.stderr)
    if not args.no_pandas:
        results["pandas"] = [run_child("pandas", path, geo)]
    report(args.rows, size_gb, results)
    if args.operators:
        report_operators(path)
    if args.instructions:
        print(
            f"counting instructions on {args.instructions:,} rows under callgrind ...",
            file=sys.stderr,
        )
        sizes = (args.instructions, 2 * args.instructions)
        counts = tuple(count_instructions(head_file(path, n), geo) for n in sizes)
        report_instructions(args.rows, sizes, counts)
    return 0


def report(rows: int, size_gb: float, results: dict[str, list[dict]]) -> None:
    """Print best times, peak memory and the ratio to the bare GROUP BY."""
    best = {k: min(r["seconds"] for r in v) for k, v in results.items()}
    peak = {k: max(r["peak_mb"] for r in v) for k, v in results.items()}
    print(f"registry benchmark: {rows:,} rows, {size_gb:.2f} GB CSV, {os.cpu_count()} cores")
    labels = {
        "duckdb": "bare DuckDB GROUP BY commune",
        "duckdb_naf": "bare DuckDB GROUP BY commune, NAF, state",
        "milieu": "Milieu registry (departement + zone_emploi, all indices)",
        "pandas": "pandas chunked count commune x NAF",
    }
    for kind, seconds in best.items():
        mem = f"{peak[kind]:.0f} MB"
        print(
            f"  {labels[kind]:60s} {seconds:7.1f} s  peak {mem}  "
            f"({rows / seconds / 1e6:.2f} M rows/s)"
        )
    ratio = best["milieu"] / best["duckdb"]
    # Milieu's fixed part (typology, geography, indices) weighs more on a smaller file.
    target = (
        "target <= 1.3"
        if rows >= TARGET_ROWS
        else f"the target <= 1.3 is set at {TARGET_ROWS:,} rows"
    )
    print(f"  ratio Milieu / bare DuckDB, best of each: {ratio:.2f} ({target})")
    # Each round runs both back to back, so a burst of load elsewhere on a shared machine
    # lands on one round's pair rather than on one side: the median of the rounds' own
    # ratios is the reading least moved by it.
    pairs = zip(results["milieu"], results["duckdb"], strict=True)
    rounds = [m["seconds"] / d["seconds"] for m, d in pairs]
    print(
        f"  ratio Milieu / bare DuckDB, each round: {', '.join(f'{r:.2f}' for r in rounds)}"
        f" (median {statistics.median(rounds):.2f})"
    )
    print(
        f"  ratio Milieu / DuckDB GROUP BY commune, NAF, state: "
        f"{best['milieu'] / best['duckdb_naf']:.2f}"
    )
    if "pandas" in best:
        print(f"  ratio pandas / Milieu: {best['pandas'] / best['milieu']:.1f}")
    print(f"  Milieu peak memory: {peak['milieu']:.0f} MB (target < 2048 MB)")


if __name__ == "__main__":
    raise SystemExit(main())
