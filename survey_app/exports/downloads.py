"""Export jobs seen from outside: who may see one, its status, its files (pages and API)."""

from __future__ import annotations

from flask import abort, send_file, url_for

from survey_app.core.job_queue import job_or_404, job_status
from survey_app.exports.jobs import job_folder
from survey_app.exports.operations import mime_type
from survey_app.models import Job, User


def visible_export_job(job_id: int, user: User) -> Job:
    """The export job its creator (or an admin) may see; 404 otherwise."""
    job = job_or_404(job_id, "export")
    if job.created_by_id != user.id and not user.has_role("admin"):
        abort(404)
    return job


def export_status(job: Job, file_endpoint: str) -> dict:
    """The job's status, with the download URL of each file once it is done."""
    data = job_status(job)
    files = (job.result or {}).get("files", []) if job.status == "done" else []
    data["downloads"] = [
        {"name": name, "url": url_for(file_endpoint, job_id=job.id, name=name)} for name in files
    ]
    return data


def send_export_file(job: Job, name: str):
    """Send one file of a finished export job; 404 for any other name."""
    if job.status != "done" or name not in (job.result or {}).get("files", []):
        abort(404)
    path = job_folder(job.id) / name
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=mime_type(path), as_attachment=True, download_name=name)
