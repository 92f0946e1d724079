"""Many fieldworkers autosaving at once against `milieu serve --workers N` on PostgreSQL.

Loopback only and bounded in time. It makes a scratch database beside the given PostgreSQL
URL, loads the guides, makes one fieldworker and one draft interview per simulated user,
starts `milieu serve` on 127.0.0.1 with N web processes, then each simulated fieldworker
logs in, opens a section and autosaves a new answer every INTERVAL seconds (jittered) for
DURATION seconds. It reports the latency percentiles, the errors, and checks that the
database holds exactly the last answer each fieldworker saw acknowledged. The scratch
database is dropped at the end.

    python bench/load_autosave.py [--users 200] [--workers 2] [--duration 60] [--interval 2]

PostgreSQL: MILIEU_BENCH_POSTGRES_URL, else MILIEU_TEST_POSTGRES_URL, else
postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import requests
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
MAX_DURATION = 600  # seconds: the benchmark never runs longer than this
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"')
PASSWORD = "bench-password"
CONSENT = {"consent_data": "yes", "consent_participation": "yes"}
HASH = "pbkdf2:sha256:1000"  # cheap: the benchmark measures autosaves, not password hashing


@dataclass
class Fieldworker:
    number: int
    interview: int
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    acknowledged: str | None = None
    #: a value sent whose answer never came back (it may or may not be stored)
    unanswered: set[str] = field(default_factory=set)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def postgres_url() -> str:
    return (
        os.environ.get("MILIEU_BENCH_POSTGRES_URL")
        or os.environ.get("MILIEU_TEST_POSTGRES_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )


def psycopg_url(url: str) -> sa.engine.URL:
    parsed = sa.engine.make_url(url)
    return parsed.set(drivername="postgresql+psycopg")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(url: str, instance: Path, users: int) -> list[int]:
    """Migrate the scratch database and make `users` fieldworkers with a draft interview."""
    os.environ["MILIEU_INSTANCE_PATH"] = str(instance)
    from flask_migrate import upgrade

    from survey_app import create_app
    from survey_app.auth.operations import create_user
    from survey_app.demo.loader import instruments_dir
    from survey_app.extensions import db
    from survey_app.fieldwork import operations as ops

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "PASSWORD_HASH_METHOD": HASH}
    )
    interviews = []
    with app.app_context():
        upgrade()
        version, _ = ops.load_instrument_file(instruments_dir() / "sme_manager.yaml")
        for n in range(users):
            user = create_user(f"fw{n:03d}", "fieldworker", PASSWORD)
            org = ops.create_organisation(None, kind="sme", name=f"Bench firm {n:03d}")
            item = ops.create_interview(user, version, org, date(2026, 11, 2))
            ops.save_answers(item, CONSENT, item.version, user)
            db.session.flush()
            interviews.append(item.id)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return interviews


def start_server(url: str, instance: Path, port: int, workers: int, threads: int):
    env = {
        **os.environ,
        "MILIEU_INSTANCE_PATH": str(instance),
        "MILIEU_SQLALCHEMY_DATABASE_URI": url,
        "MILIEU_SECRET_KEY": "bench",
        "MILIEU_PASSWORD_HASH_METHOD": HASH,
    }
    milieu = Path(sys.executable).parent / "milieu"
    command = [str(milieu), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--threads", str(threads)]
    log = open(instance / "serve.log", "w")  # noqa: SIM115 - closed by stop_server
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/login", timeout=2).status_code == 200:
                return server, log, base
        except requests.RequestException:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"the server did not start; see {instance / 'serve.log'}")


def stop_server(server, log) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()


def run_fieldworker(
    worker: Fieldworker, base: str, start: threading.Barrier, end: dict, interval: float
) -> None:
    """Log in, open a section, then autosave until end["at"] (set once everyone is in)."""
    session = requests.Session()
    url = f"{base}/interviews/{worker.interview}/sections/parcours"
    token = version = None
    for _attempt in range(3):  # the server may still be warming up
        try:
            page = session.get(base + "/login", timeout=60).text
            login = {
                "username": f"fw{worker.number:03d}",
                "password": PASSWORD,
                "csrf_token": CSRF.search(page).group(1),
            }
            session.post(base + "/login", data=login, timeout=60)  # redirects to the home page
            page = session.get(url, timeout=60).text
            token, version = CSRF.search(page).group(1), VERSION.search(page).group(1)
            break
        except (requests.RequestException, AttributeError):
            time.sleep(1)
    try:
        start.wait()
    except threading.BrokenBarrierError:
        return
    if token is None:
        worker.error("could not log in")
        return
    time.sleep(random.uniform(0, interval))  # fieldworkers do not type in step
    k = 0
    while time.monotonic() < end["at"]:
        k += 1
        value = f"fw{worker.number:03d} save {k}"
        began = time.perf_counter()
        try:
            response = session.post(
                url + "/autosave",
                data={"csrf_token": token, "version": version, "a1": value},
                timeout=30,
            )
        except requests.RequestException as err:
            worker.unanswered.add(value)
            worker.error(f"no answer ({type(err).__name__})")
            version = _reload(session, url, version)  # as the page does after an error
        else:
            worker.latencies.append(time.perf_counter() - began)
            if response.status_code == 200:
                version = str(response.json()["version"])
                worker.acknowledged = value
                worker.unanswered.clear()  # a later save replaced anything unanswered
            else:
                worker.error(f"HTTP {response.status_code}")
                version = _reload(session, url, version)
        time.sleep(max(0.0, random.uniform(0.5 * interval, 1.5 * interval)))
    session.close()


def _reload(session: requests.Session, url: str, version: str) -> str:
    """The section's current version, as a fieldworker reloading the page would see it."""
    try:
        found = VERSION.search(session.get(url, timeout=60).text)
    except requests.RequestException:
        return version
    return found.group(1) if found else version


def stored_answers(url: str, interviews: list[int]) -> dict[int, str | None]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT interview_id, value FROM answers "
                "WHERE question_key = 'a1' AND interview_id = ANY(:ids)"
            ),
            {"ids": interviews},
        ).all()
    engine.dispose()
    return {row[0]: row[1] for row in rows}


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="web processes")
    parser.add_argument("--threads", type=int, default=16, help="threads per web process")
    parser.add_argument("--duration", type=float, default=60, help="seconds of autosaving")
    parser.add_argument("--interval", type=float, default=2, help="seconds between saves")
    args = parser.parse_args()
    if not 0 < args.duration <= MAX_DURATION:
        parser.error(f"--duration must be 1 to {MAX_DURATION} seconds")
    base_url = psycopg_url(postgres_url())
    name = f"milieu_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base_url.set(database=name).render_as_string(hide_password=False)
    server = log = None
    try:
        with tempfile.TemporaryDirectory(prefix="milieu-bench-") as folder:
            instance = Path(folder)
            print(f"preparing {args.users} fieldworkers in database {name}...", flush=True)
            interviews = prepare(url, instance, args.users)
            server, log, base = start_server(url, instance, free_port(), args.workers, args.threads)
            workers = [Fieldworker(n, i) for n, i in enumerate(interviews)]
            start = threading.Barrier(len(workers) + 1, timeout=600)
            end = {"at": 0.0}
            threads = [
                threading.Thread(
                    target=run_fieldworker, args=(w, base, start, end, args.interval), daemon=True
                )
                for w in workers
            ]
            for t in threads:  # everyone logs in first, then autosaves for --duration
                t.start()
                time.sleep(0.05)
            end["at"] = time.monotonic() + 10 * MAX_DURATION  # until the barrier below
            start.wait()
            began = time.monotonic()
            end["at"] = began + args.duration
            for t in threads:
                t.join(args.duration + 120)
            elapsed = time.monotonic() - began
            stored = stored_answers(url, interviews)
    finally:
        if server is not None:
            stop_server(server, log)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    latencies = [x for w in workers for x in w.latencies]
    errors: dict[str, int] = {}
    for w in workers:
        for kind, n in w.errors.items():
            errors[kind] = errors.get(kind, 0) + n
    wrong = [
        w.number
        for w in workers
        if stored.get(w.interview) != w.acknowledged and stored.get(w.interview) not in w.unanswered
    ]
    print(f"{args.users} fieldworkers, {args.workers} web processes x {args.threads} threads")
    print(f"{len(latencies)} autosaves in {elapsed:.0f} s: {len(latencies) / elapsed:.0f} req/s")
    if latencies:
        ms = [x * 1000 for x in latencies]
        print(
            f"latency p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
            f"p99 {percentile(ms, 99):.0f} ms, max {max(ms):.0f} ms"
        )
    print(f"errors: {errors or 'none'}")
    print(
        f"database holds the last acknowledged answer for "
        f"{len(workers) - len(wrong)}/{len(workers)} fieldworkers"
        + (f"; wrong: {wrong[:10]}" if wrong else "")
    )
    return 1 if wrong or errors else 0


if __name__ == "__main__":
    sys.exit(main())
