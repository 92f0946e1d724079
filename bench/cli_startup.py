"""Start-up time of the `milieu` command, against a bare Python start in the same run.

    python bench/cli_startup.py [--rounds 15]

Prints the best and median wall time of each command and its ratio to `python -c pass`.
Target (issue 15): `milieu analyse registry --help` under 0.3 s on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "milieu --help": [sys.executable, "-m", "survey_app", "--help"],
    "milieu analyse registry --help": [
        sys.executable,
        "-m",
        "survey_app",
        "analyse",
        "registry",
        "--help",
    ],
    "milieu coding train --help": [sys.executable, "-m", "survey_app", "coding", "train", "--help"],
    "milieu users --help (loads Flask)": [sys.executable, "-m", "survey_app", "users", "--help"],
}
TARGET = ("milieu analyse registry --help", 0.3)


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.rounds):  # interleaved, so a burst of load hits every command alike
        for name, argv in COMMANDS.items():
            times[name].append(timed(argv))
    base = min(times["python -c pass"])
    for name, values in times.items():
        best = min(values)
        print(
            f"{name:36} best {best:.3f} s  median {statistics.median(values):.3f} s  "
            f"{best / base:5.1f} x bare python"
        )
    name, limit = TARGET
    best = min(times[name])
    verdict = "meets" if best < limit else "MISSES"
    print(f"target: {name} {best:.3f} s {verdict} the {limit} s target")
    return 0 if best < limit else 1


if __name__ == "__main__":
    sys.exit(main())
