"""Territory profile pages: start a computation, follow it, read the result."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, jsonify, redirect, render_template, send_from_directory, url_for
from flask_login import current_user

from survey_app.auth.decorators import researcher_required
from survey_app.extensions import db
from survey_app.jobs import job_status, start_job
from survey_app.models import Job
from survey_app.profiles import operations as ops
from survey_app.profiles.forms import LEVEL_LABELS, ProfileForm


def _profile_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.kind != "profile":
        abort(404)
    return job


@researcher_required
def index():
    form = ProfileForm()
    if form.validate_on_submit():
        job = start_job(
            "profile", {"level": form.level.data, "n_boot": form.n_boot.data}, current_user
        )
        return redirect(url_for("profiles.show", job_id=job.id))
    jobs = db.session.scalars(
        sa.select(Job).where(Job.kind == "profile").order_by(Job.id.desc()).limit(20)
    ).all()
    return render_template(
        "profiles/index.html",
        form=form,
        jobs=jobs,
        demo_registry=ops.uses_demo_registry(),
        level_labels=LEVEL_LABELS,
    )


@researcher_required
def show(job_id: int):
    job = _profile_job(job_id)
    from analysis.plots import safe_name  # matplotlib: only for a page that shows charts

    result = ops.read_result(job) if job.status == "done" else None
    table = None
    if result is not None:
        table = result.profile.to_dict("records")
    return render_template(
        "profiles/show.html",
        job=job,
        result=result,
        table=table,
        safe_name=safe_name,
        level_labels=LEVEL_LABELS,
    )


@researcher_required
def status(job_id: int):
    return jsonify(job_status(_profile_job(job_id)))


@researcher_required
def chart(job_id: int, name: str):
    job = _profile_job(job_id)
    if job.status != "done" or not name.endswith((".svg", ".png")):
        abort(404)
    return send_from_directory(ops.profile_folder(job.id) / "charts", name)


@researcher_required
def report(job_id: int):
    job = _profile_job(job_id)
    if job.status != "done":
        abort(404)
    return send_from_directory(
        ops.profile_folder(job.id),
        "report.html",
        as_attachment=True,
        download_name=f"milieu-profile-{job.id}.html",
    )
