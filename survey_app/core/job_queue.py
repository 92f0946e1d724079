"""Background jobs on Huey: SQLite storage by default, Redis when REDIS_URL is set.

A job is a row in `jobs` (kind, params, progress, result) plus one queued Huey task that runs
the function registered for its kind inside an application context. Pages poll the row.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
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


def run_job(job_id: int) -> None:
    """Run one job to its end, recording progress, result or error; never raise."""
    job = db.session.get(Job, job_id)
    if job is None or job.status != "queued":
        return
    job.status, job.started_dt = "running", utcnow()
    db.session.commit()

    def progress(fraction: float, message: str = "") -> None:
        job.progress, job.message = max(0.0, min(1.0, fraction)), message[:500]
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
