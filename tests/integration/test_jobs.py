"""Background jobs: queued after the commit, run by the worker, progress and errors recorded."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from milieu_testing import IN_CI, make_app

from survey_app.core import job_queue as jobs
from survey_app.extensions import db
from survey_app.models import Job, User


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


def _make_stale(app, job_id, attempts):
    from datetime import timedelta

    with app.app_context():
        job = db.session.get(Job, job_id)
        job.status, job.attempts, job.worker = "running", attempts, "elsewhere:1"
        job.heartbeat_dt = jobs.utcnow() - timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 1)
        db.session.commit()


def test_a_job_past_its_lease_is_retried_once_then_failed(app):
    with app.app_context():
        first = jobs.start_job("test.count", {"n": 2}).id
        second = jobs.start_job("test.count", {"n": 2}).id
        db.session.commit()
    _make_stale(app, first, attempts=1)
    _make_stale(app, second, attempts=2)
    with app.app_context():
        outcome = jobs.recover_stale_jobs()
        assert outcome == {"requeued": [first], "failed": [second]}
        assert db.session.get(Job, first).status == "done"  # queued again, run (immediate mode)
        assert db.session.get(Job, first).attempts == 2
        lost = db.session.get(Job, second)
        assert lost.status == "failed" and lost.error == jobs.WORKER_DIED
        assert jobs.recover_stale_jobs() == {"requeued": [], "failed": []}


def test_a_running_job_renews_its_lease(app):
    app.config["JOB_HEARTBEAT_SECONDS"] = 0.05
    seen = []

    @jobs.job_kind("test.slow")
    def _slow(job, progress):
        import time

        time.sleep(0.5)  # no progress report: only the heartbeat keeps the lease
        with db.engine.connect() as conn:
            seen.append(conn.scalar(sa.select(Job.heartbeat_dt).where(Job.id == job.id)))
        return {}

    with app.app_context():
        job_id = jobs.start_job("test.slow", {}).id
        db.session.commit()
        jobs.enqueue_pending()
        job = db.session.get(Job, job_id)
        assert job.status == "done"
        assert seen[0] > job.started_dt


def _milieu_worker(url, instance, lease):
    env = {
        **os.environ,
        "MILIEU_INSTANCE_PATH": str(instance),
        "MILIEU_SQLALCHEMY_DATABASE_URI": url,
        "MILIEU_SECRET_KEY": "test-secret",
        "MILIEU_JOB_LEASE_SECONDS": str(lease),
    }
    milieu = Path(sys.executable).parent / "milieu"
    return subprocess.Popen(
        [str(milieu), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wait_for(app, job_id, predicate, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.app_context():
            job = db.session.get(Job, job_id)
            if predicate(job):
                return job
            db.session.remove()
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never got there")


@pytest.mark.postgres
def test_killed_worker_job_is_retried_once_then_failed(postgres_database, tmp_path):
    """kill -9 of a real `milieu worker` mid-export: retried once on restart, then failed."""
    from survey_app.auth.operations import create_user

    url, _instance = postgres_database
    app = make_app(url, tmp_path, HUEY_IMMEDIATE=False)
    with app.app_context():
        user = create_user("rita", "researcher", "correct horse")
        db.session.commit()
        user_id = user.id
    blocker_engine = sa.create_engine(url)
    blocker = blocker_engine.connect()
    workers = []

    def start_export():
        with app.app_context():
            job = jobs.start_job("export", {"format": "csv"}, db.session.get(User, user_id))
            db.session.commit()
            jobs.enqueue_pending()
            return job.id

    def lock():  # the export blocks on this lock: the job is mid-run while the worker dies
        blocker.execute(sa.text("LOCK TABLE interviews IN ACCESS EXCLUSIVE MODE"))

    def kill_when_running(job_id, attempt):
        worker = workers[-1]
        _wait_for(app, job_id, lambda j: j.status == "running" and j.attempts == attempt)
        time.sleep(0.5)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()

    try:
        lock()
        retried = start_export()
        workers.append(_milieu_worker(url, tmp_path, lease=600))
        kill_when_running(retried, attempt=1)
        with app.app_context():
            assert db.session.get(Job, retried).status == "running"  # what the probe saw
        blocker.rollback()
        workers.append(_milieu_worker(url, tmp_path, lease=600))  # restart: dead pid seen
        done = _wait_for(app, retried, lambda j: j.status in ("done", "failed"))
        assert (done.status, done.attempts) == ("done", 2)

        lock()
        lost = start_export()
        kill_when_running(lost, attempt=1)
        workers.append(_milieu_worker(url, tmp_path, lease=600))
        kill_when_running(lost, attempt=2)
        workers.append(_milieu_worker(url, tmp_path, lease=600))
        failed = _wait_for(app, lost, lambda j: j.status != "running" and j.attempts == 2)
        assert failed.status == "failed"
        assert "worker stopped" in failed.error and "start it again" in failed.error
    finally:
        blocker.rollback()
        blocker.close()
        blocker_engine.dispose()
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(30)
        with app.app_context(), db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
