"""Job kinds for exports started from the web (registered with @job_kind)."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app

from survey_app.core.job_queue import JobError, job_kind
from survey_app.extensions import db
from survey_app.models import Job, User


def job_folder(job_id: int) -> Path:
    """Return the folder holding the files of export job `job_id`."""
    return Path(current_app.instance_path) / "exports" / str(int(job_id))


#: days an export's files stay downloadable (instance config EXPORT_RETENTION_DAYS)
DEFAULT_RETENTION_DAYS = 7


def prune_exports(now: float | None = None) -> list[Path]:
    """Delete export folders older than the retention period; return those deleted."""
    days = current_app.config.get("EXPORT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    root = Path(current_app.instance_path) / "exports"
    limit = (now or time.time()) - days * 86400
    old = [p for p in root.glob("*") if p.is_dir() and p.stat().st_mtime < limit]
    for folder in old:
        # exported data are personal data: they must not pile up on the server
        shutil.rmtree(folder, ignore_errors=True)
    return old


def import_folder(job_id: int) -> Path:
    """Return the folder holding the uploaded file of REFI-QDA import job `job_id`."""
    return Path(current_app.instance_path) / "imports" / str(int(job_id))


@job_kind("refi_import")
def run_refi_import(job: Job, progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Import the uploaded REFI-QDA file, all of it or nothing, then delete the upload.

    The import's own steps report no progress: each report commits the session, and a
    commit half-way would break all-or-nothing. run_job commits once, with the result.
    """
    from analysis.writers.refi import RefiError
    from survey_app.exports.refi_import import RefiImportError, import_refi

    folder = import_folder(job.id)
    try:
        user = db.session.get(User, job.created_by_id) if job.created_by_id else None
        if user is None or not user.has_role("admin"):
            raise JobError("only administrators may import REFI-QDA files")
        path = folder / job.params["file"]
        if not path.is_file():
            raise JobError("the uploaded file is no longer on the server: upload it again")
        progress(0.1, "reading, validating and importing the file")
        try:
            report = import_refi(
                path,
                create_interviews=bool(job.params.get("create_interviews")),
                user=user,
                position_unit=job.params.get("position_unit", "auto"),
                max_unpacked=current_app.config["REFI_IMPORT_MAX_UNPACKED"],
            )
        except (RefiError, RefiImportError) as err:
            # the server's folder is no business of the page: name the file alone
            raise JobError(str(err).replace(str(path), path.name)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the upload is personal data too
    return {"report": dataclasses.asdict(report)}


@job_kind("export")
def run_export(job: Job, progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Write the export the job's parameters describe, as its creator may see it."""
    from survey_app.exports.operations import (
        ExportError,
        ExportOptions,
        default_filename,
        write_export,
    )

    user = db.session.get(User, job.created_by_id) if job.created_by_id else None
    if user is None or not user.has_role("researcher", "admin"):
        raise JobError("only researchers and admins may export")
    prune_exports()
    try:
        options = ExportOptions.from_params(job.params)
        stem = f"milieu-{job.created_dt:%Y%m%d}-{job.id}"
        target = job_folder(job.id) / default_filename(options.fmt, stem)
        paths = write_export(user, options, target, progress)
    except ExportError as err:
        raise JobError(str(err)) from None
    return {
        "files": [p.name for p in paths],
        "main": paths[0].name,
        "size": paths[0].stat().st_size,
    }
