"""Exports pages: start an export job, follow it, download it; the key (admins); REFI import."""

from __future__ import annotations

from flask import (
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from survey_app.auth.decorators import admin_required, researcher_required
from survey_app.core.job_queue import job_or_404, recent_jobs, start_job
from survey_app.exports.downloads import export_status, send_export_file, visible_export_job
from survey_app.exports.forms import ExportForm, RefiImportForm
from survey_app.exports.operations import (
    ExportError,
    ExportOptions,
    check_options,
    key_entries,
)
from survey_app.exports.uploads import UploadError, check_refi_upload, store_refi_upload
from survey_app.models import Job

#: an export job's progress messages (see operations.write_export) as the page shows them
PROGRESS_LABELS = {
    "reading the database": _l("reading the database"),
    "pseudonymising transcripts and answers": _l("pseudonymising transcripts and answers"),
    "writing the file": _l("writing the file"),
    "done": _l("done"),
}


def _visible_jobs() -> list[Job]:
    mine = None if current_user.has_role("admin") else current_user.id
    return recent_jobs("export", created_by=mine)


@researcher_required
def index():
    form = ExportForm()
    if form.validate_on_submit():
        try:
            options = check_options(
                ExportOptions(
                    fmt=form.fmt.data,
                    tables=tuple(form.tables.data) or None,
                    pseudonymise=form.pseudonymise.data,
                    territory_level=form.territory_level.data,
                    coarsen_roles=form.coarsen_roles.data,
                )
            )
        except ExportError as err:
            flash(str(err), "error")
            return render_template("exports/index.html", form=form, jobs=_visible_jobs()), 400
        job = start_job("export", options.params(), current_user)
        return redirect(url_for("exports.job", job_id=job.id))
    status = 400 if form.is_submitted() else 200
    return render_template("exports/index.html", form=form, jobs=_visible_jobs()), status


@researcher_required
def job(job_id: int):
    item = visible_export_job(job_id, current_user)
    messages = {message: str(label) for message, label in PROGRESS_LABELS.items()}
    status = export_status(item, "exports.download")
    return render_template("exports/job.html", job=item, status=status, messages=messages)


@researcher_required
def job_json(job_id: int):
    return jsonify(export_status(visible_export_job(job_id, current_user), "exports.download"))


@researcher_required
def download(job_id: int, name: str):
    return send_export_file(visible_export_job(job_id, current_user), name)


@admin_required
def pseudonyms():
    return render_template("exports/pseudonyms.html", entries=key_entries())


# --- REFI-QDA import (administrators: it may add a codebook version and coder accounts) ------


@admin_required
def refi_import():
    form = RefiImportForm()
    if form.validate_on_submit():
        upload = request.files["file"]
        with upload.stream:  # large uploads spool to a temporary file: close it
            data = upload.read()  # at most MAX_CONTENT_LENGTH: Flask refused larger requests
        try:
            name = check_refi_upload(upload.filename or "", data)
        except UploadError as err:
            flash(str(err), "danger")
            return _import_page(form, 400)
        params = {
            "file": name,
            "create_interviews": bool(form.create_interviews.data),
            "position_unit": form.position_unit.data,
        }
        job = start_job("refi_import", params, current_user)
        store_refi_upload(job.id, name, data)
        return redirect(url_for("exports.refi_import_job", job_id=job.id))
    return _import_page(form, 400 if form.is_submitted() else 200)


def _import_page(form: RefiImportForm, status: int):
    page = render_template("exports/import.html", form=form, jobs=recent_jobs("refi_import"))
    return page, status


@admin_required
def refi_import_job(job_id: int):
    return render_template("exports/import_job.html", job=job_or_404(job_id, "refi_import"))
