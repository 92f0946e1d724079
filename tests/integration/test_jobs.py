"""Background jobs: queued after the commit, run by the worker, progress and errors recorded."""

import os

import pytest
import sqlalchemy as sa
from milieu_testing import IN_CI, make_app

from survey_app.core import job_queue as jobs
from survey_app.extensions import db
from survey_app.models import Job


@jobs.job_kind("test.count")
def _count_job(job, progress):
    total = job.params["n"]
    for i in range(total):
        progress((i + 1) / total, f"{i + 1}/{total}")
    return {"counted": total}


@jobs.job_kind("test.fail")
def _failing_job(job, progress):
    progress(0.5, "half way")
    if job.params.get("user_error"):
        raise jobs.JobError("the model folder is missing")
    raise KeyError("bug")


def test_job_runs_after_commit_and_records_result(app):
    with app.app_context():
        job_id = jobs.start_job("test.count", {"n": 4}).id
        db.session.commit()
        jobs.enqueue_pending()  # immediate mode in tests: runs now
        job = db.session.get(Job, job_id)
        assert (job.status, job.progress, job.result) == ("done", 1.0, {"counted": 4})
        assert job.finished_dt >= job.started_dt


def test_rolled_back_job_is_never_queued(app):
    with app.app_context():
        jobs.start_job("test.count", {"n": 1})
        db.session.rollback()
        jobs.enqueue_pending()
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_failures_are_recorded_with_a_readable_reason(app):
    with app.app_context():
        user_error = jobs.start_job("test.fail", {"user_error": True}).id
        bug = jobs.start_job("test.fail", {}).id
        db.session.commit()
        jobs.enqueue_pending()
        assert db.session.get(Job, user_error).error == "the model folder is missing"
        assert db.session.get(Job, bug).error == "internal error"
        assert db.session.get(Job, bug).status == "failed"


def _queued_then_worked(app):
    huey = app.extensions["huey"]
    with app.app_context():
        job_id = jobs.start_job("test.count", {"n": 2}).id
        db.session.commit()
        jobs.enqueue_pending()
        assert db.session.get(Job, job_id).status == "queued"  # nothing ran in the web process
        task = huey.dequeue()
        huey.execute(task)  # what `milieu worker` does for each task
        db.session.expire_all()
        assert db.session.get(Job, job_id).status == "done"


def test_sqlite_queue_hands_jobs_to_the_worker(sqlite_database, tmp_path):
    url, _instance = sqlite_database
    app = make_app(url, tmp_path, HUEY_IMMEDIATE=False)
    try:
        _queued_then_worked(app)
    finally:
        with app.app_context():
            db.session.execute(sa.delete(Job))
            db.session.commit()


def test_redis_queue_hands_jobs_to_the_worker(sqlite_database, tmp_path):
    redis_url = os.environ.get("MILIEU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    import redis

    try:
        redis.Redis.from_url(redis_url).ping()
    except redis.exceptions.ConnectionError as err:
        if IN_CI:
            pytest.fail(f"Redis at {redis_url} is not reachable: {err}")
        pytest.skip(f"Redis at {redis_url} is not reachable (skipped outside CI only)")
    url, _instance = sqlite_database
    app = make_app(url, tmp_path, HUEY_IMMEDIATE=False, REDIS_URL=redis_url)
    app.extensions["huey"].flush()
    try:
        _queued_then_worked(app)
    finally:
        with app.app_context():
            db.session.execute(sa.delete(Job))
            db.session.commit()
        app.extensions["huey"].flush()
