"""Background jobs on Huey: SQLite storage by default, Redis when REDIS_URL is set.

A job is a row in `jobs` (kind, params, progress, result) plus one queued Huey task that runs
the function registered for its kind inside an application context. Pages poll the row.
"""

from __future__ import annotations

import os
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, current_app
from huey import Huey, RedisHuey, SqliteHuey

from survey_app.core.labels import JOB_STATUS_LABELS
from survey_app.extensions import db
from survey_app.models import Job, utcnow

#: job kind -> function(job, progress) -> result dict
JOB_KINDS: dict[str, Callable[[Job, Callable[[float, str], None]], dict[str, Any]]] = {}
_PENDING = "milieu_pending_jobs"
#: a job whose worker died is started again this many times in all, then failed
MAX_ATTEMPTS = 2
WORKER_DIED = (
    "The worker stopped while running this job (it was restarted once already): "
    "start it again; if it stops again, tell the administrator."
)


class JobError(Exception):
    """A user-facing reason why a job failed; its message is shown as is."""


def job_kind(name: str) -> Callable:
    """Register the function that runs jobs of kind `name`."""

    def decorator(fn: Callable) -> Callable:
        JOB_KINDS[name] = fn
        return fn

    return decorator


def make_huey(app: Flask) -> Huey:
    cfg = app.config
    if cfg.get("REDIS_URL"):
        return RedisHuey("milieu", url=cfg["REDIS_URL"], immediate=cfg["HUEY_IMMEDIATE"])
    filename = str(Path(app.instance_path) / "jobs.sqlite")
    return SqliteHuey("milieu", filename=filename, immediate=cfg["HUEY_IMMEDIATE"])


def init_jobs(app: Flask) -> None:
    huey = make_huey(app)

    @huey.task(name="milieu.run_job")
    def run_job_task(job_id: int) -> None:
        with app.app_context():
            run_job(job_id)

    app.extensions["huey"] = huey
    app.extensions["huey_run_job"] = run_job_task
    if not sa.event.contains(db.session, "after_soft_rollback", _drop_pending):
        sa.event.listen(db.session, "after_soft_rollback", _drop_pending)


def start_job(kind: str, params: dict[str, Any], user: Any = None) -> Job:
    """Create a queued job; enqueue_pending() hands it to the queue after the commit."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, params=params, created_by_id=getattr(user, "id", None))
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(job.id)
    return job


def enqueue_pending() -> None:
    """Queue the jobs started in the transaction just committed (the worker must see them)."""
    pending = db.session.info.pop(_PENDING, [])
    task = current_app.extensions["huey_run_job"]
    for job_id in pending:
        task(job_id)


def _drop_pending(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _heartbeat(engine: sa.Engine, job_id: int, every: float, stop: threading.Event) -> None:
    """Renew the job's lease until `stop` is set (runs in its own thread and connection)."""
    jobs = Job.__table__
    while not stop.wait(every):
        try:
            with engine.begin() as conn:
                conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, jobs.c.status == "running")
                    .values(heartbeat_dt=utcnow())
                )
        except sa.exc.SQLAlchemyError:  # a busy database: the next beat will do
            continue


def run_job(job_id: int) -> None:
    """Run one job to its end, recording progress, result or error; never raise."""
    job = db.session.get(Job, job_id)
    if job is None or job.status != "queued":
        return
    job.status, job.started_dt = "running", utcnow()
    job.attempts, job.worker, job.heartbeat_dt = (job.attempts or 0) + 1, worker_name(), utcnow()
    db.session.commit()
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat,
        args=(db.engine, job_id, current_app.config["JOB_HEARTBEAT_SECONDS"], stop),
        name=f"milieu-job-{job_id}-heartbeat",
        daemon=True,
    )
    beat.start()
    try:
        _run_started_job(job_id, job)
    finally:
        stop.set()
        beat.join()


def _run_started_job(job_id: int, job: Job) -> None:
    def progress(fraction: float, message: str = "") -> None:
        job.progress, job.message = max(0.0, min(1.0, fraction)), message[:500]
        job.heartbeat_dt = utcnow()
        db.session.commit()

    try:
        result = JOB_KINDS[job.kind](job, progress)
    except Exception as err:  # the job's failure is data for the page, not a crash
        db.session.rollback()
        job = db.session.get(Job, job_id)
        job.status, job.finished_dt = "failed", utcnow()
        job.error = str(err) if isinstance(err, JobError) else "internal error"
        job.message = job.error
        if not isinstance(err, JobError):
            current_app.logger.error("job %s failed:\n%s", job_id, traceback.format_exc())
        db.session.commit()
        return
    job.status, job.progress, job.result, job.finished_dt = "done", 1.0, result, utcnow()
    db.session.commit()


def _worker_is_dead(worker: str | None) -> bool:
    """True when `worker` ran on this machine and its process is gone."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, run by another user
        return False
    return False


def lease_expired(job: Job, now=None) -> bool:
    """A running job whose worker has given no sign of life for the lease."""
    if job.status != "running":
        return False
    lease = timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    last = job.heartbeat_dt or job.started_dt or job.created_dt
    return last < (now or utcnow()) - lease


def fail_if_worker_died(job: Job) -> bool:
    """Fail a running job whose lease expired, now, whatever its attempts (for a page that
    must not wait on a dead worker); the same conditional update as recover_stale_jobs, so
    a worker that is in fact alive, or a recovery running at once, wins instead."""
    if not lease_expired(job):
        return False
    jobs = Job.__table__
    taken = db.session.execute(
        jobs.update()
        .where(jobs.c.id == job.id, jobs.c.status == "running", jobs.c.attempts == job.attempts)
        .values(status="failed", error=WORKER_DIED, message=WORKER_DIED, finished_dt=utcnow())
    )
    db.session.refresh(job)
    return taken.rowcount == 1


def recover_stale_jobs(check_processes: bool = True) -> dict[str, list[int]]:
    """Take back running jobs whose worker died: queue them again once, then fail them.

    A worker is dead when its lease expired, or (check_processes, on the worker's machine)
    when its process is gone. Each job is taken back by a conditional update, so two
    workers recovering at once never both queue it. Returns the ids requeued and failed.
    """
    now = utcnow()
    outcome: dict[str, list[int]] = {"requeued": [], "failed": []}
    running = db.session.scalars(sa.select(Job).where(Job.status == "running")).all()
    jobs = Job.__table__
    for job in running:
        if not (lease_expired(job, now) or (check_processes and _worker_is_dead(job.worker))):
            continue
        again = (job.attempts or 0) < MAX_ATTEMPTS
        values = (
            {"status": "queued", "message": "restarted after its worker stopped"}
            if again
            else {"status": "failed", "error": WORKER_DIED, "message": WORKER_DIED}
        )
        if not again:
            values["finished_dt"] = now
        taken = db.session.execute(
            jobs.update()
            .where(
                jobs.c.id == job.id,
                jobs.c.status == "running",
                jobs.c.attempts == job.attempts,
            )
            .values(**values)
        )
        if taken.rowcount == 1:
            outcome["requeued" if again else "failed"].append(job.id)
            if again:
                db.session.info.setdefault(_PENDING, []).append(job.id)
            current_app.logger.warning(
                "job %s (%s) lost its worker %s: %s",
                job.id,
                job.kind,
                job.worker,
                "queued again" if again else "failed",
            )
    db.session.commit()
    enqueue_pending()
    db.session.expire_all()
    return outcome


def watch_stale_jobs(app: Flask, stop: threading.Event) -> threading.Thread:
    """In the worker: recover stale jobs now, then every half lease until `stop` is set."""

    def loop() -> None:
        every = max(1.0, app.config["JOB_LEASE_SECONDS"] / 2)
        while True:
            with app.app_context():
                try:
                    recover_stale_jobs()
                except sa.exc.SQLAlchemyError:
                    app.logger.exception("could not check for stale jobs")
                finally:
                    db.session.remove()
            if stop.wait(every):
                return

    thread = threading.Thread(target=loop, name="milieu-stale-jobs", daemon=True)
    thread.start()
    return thread


def job_or_404(job_id: int, kind: str) -> Job:
    """The job of that kind, or a 404 (an id of another kind of job is not found either)."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != kind:
        abort(404)
    return job


def recent_jobs(kind: str, created_by: int | None = None, limit: int = 20) -> list[Job]:
    """The newest jobs of a kind, of one creator when created_by is given (list pages)."""
    stmt = sa.select(Job).where(Job.kind == kind).order_by(Job.id.desc()).limit(limit)
    if created_by is not None:
        stmt = stmt.where(Job.created_by_id == created_by)
    return list(db.session.scalars(stmt))


def job_status(job: Job) -> dict[str, Any]:
    """The part of a job a page may show."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "status_label": str(JOB_STATUS_LABELS.get(job.status, job.status)),
        "progress": job.progress,
        "message": job.message,
        "result": job.result if job.status == "done" else None,
        "error": job.error,
    }
