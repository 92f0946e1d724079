"""Run every benchmark in bench/ at a size that fits a developer machine; print their ratios.

python bench/run_all.py            quick sizes (minutes)
python bench/run_all.py --full     the sizes the issues' targets name (tens of minutes)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: script -> (quick arguments, full arguments)
BENCHES = {
    "coding_throughput.py": (["--words", "200000"], []),
    "coding_training.py": (["--segments", "2000"], []),
    "registry.py": (["--rows", "3000000"], []),
    "export.py": (["--interviews", "500", "--codings", "25000"], []),
    "cli_startup.py": (["--rounds", "10"], []),
}


def main() -> int:
    full = "--full" in sys.argv
    failed = []
    for script, (quick, complete) in BENCHES.items():
        args = complete if full else quick
        print(f"== {script} {' '.join(args)}", flush=True)
        done = subprocess.run([sys.executable, str(HERE / script), *args])
        if done.returncode != 0:
            failed.append(script)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
