"""The read-only JSON API: the same permission rules as the pages, a token per user."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request, url_for

from survey_app.api import queries
from survey_app.api.auth import api_user, token_required
from survey_app.api.openapi import openapi_document
from survey_app.core.errors import json_error
from survey_app.core.job_queue import start_job
from survey_app.core.paging import MAX_PAGE
from survey_app.exports.downloads import export_status, send_export_file, visible_export_job
from survey_app.exports.operations import (
    FORMATS,
    ExportError,
    ExportOptions,
    check_options,
    default_filename,
    mime_type,
    visible_interview_count,
    write_export,
)
from survey_app.models import Organisation
from survey_app.models.fieldwork import INTERVIEW_STATUSES

MAX_PER_PAGE = 500
#: exports the API builds while the client waits; larger projects use the page or the CLI
DEFAULT_EXPORT_MAX_INTERVIEWS = 2000


def _paging() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 100))
    except ValueError:
        raise ExportError("page and per_page must be whole numbers") from None
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ExportError(f"page must be 1 to {MAX_PAGE} and per_page 1 to {MAX_PER_PAGE}")
    return page, per_page


def _paged(stmt: sa.Select, render) -> Response:
    """Answer one page of `stmt`; `render` turns the page's rows into dicts."""
    try:
        page, per_page = _paging()
    except ExportError as err:
        return json_error(400, str(err))
    rows, total = queries.page_of(stmt, page, per_page)
    return jsonify({"items": render(rows), "page": page, "per_page": per_page, "total": total})


def openapi():
    return jsonify(openapi_document())


@token_required()
def interviews():
    status = request.args.get("status") or None
    if status is not None and status not in INTERVIEW_STATUSES:
        return json_error(400, f"unknown status {status!r}")
    return _paged(queries.interviews_stmt(api_user(), status), queries.interview_dicts)


@token_required()
def interview(interview_id: int):
    item = queries.interview_or_404(api_user(), interview_id)
    return jsonify(queries.interview_dicts([item])[0])


@token_required()
def answers(interview_id: int):
    item = queries.interview_or_404(api_user(), interview_id)
    return jsonify({"interview_id": item.id, "answers": queries.answers_of(item)})


@token_required()
def codings(interview_id: int):
    item = queries.interview_or_404(api_user(), interview_id)
    version, rows = queries.codings_of(api_user(), item)
    return jsonify(
        {
            "interview_id": item.id,
            "transcript_version_id": version.id if version else None,
            "codings": rows,
        }
    )


@token_required()
def organisations():
    stmt = (
        sa.select(Organisation)
        .options(sa.orm.selectinload(Organisation.territory))
        .order_by(Organisation.id)
    )
    return _paged(stmt, lambda rows: [queries.organisation_dict(r) for r in rows])


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes", "on")


def _stream(path: Path, folder: Path) -> Iterator[bytes]:
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 16):
                yield chunk
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@token_required("researcher", "admin")
def export(fmt: str):
    user = api_user()
    if fmt not in FORMATS:
        return json_error(404, f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    tables = tuple(t for t in request.args.get("tables", "").split(",") if t) or None
    try:
        options = check_options(
            ExportOptions(
                fmt=fmt,
                tables=tables,
                pseudonymise=_flag("pseudonymise"),
                territory_level=request.args.get("territory_level", "commune"),
                coarsen_roles=_flag("coarsen_roles"),
            )
        )
    except ExportError as err:
        return json_error(400, str(err))
    if options.pseudonymise:
        # named-entity recognition takes seconds per interview: never inside the request
        job = start_job("export", options.params(), user)
        url = url_for("api.export_job", job_id=job.id)
        body = {"ok": True, "job": job.id, "status": job.status, "url": url}
        return jsonify(body), 202, {"Location": url, "Retry-After": "2"}
    limit = current_app.config.get("API_EXPORT_MAX_INTERVIEWS", DEFAULT_EXPORT_MAX_INTERVIEWS)
    if visible_interview_count(user) > limit:
        return json_error(
            413,
            f"more than {limit} interviews: export from the exports page or with `milieu export`",
        )
    folder = Path(tempfile.mkdtemp(prefix="milieu-api-export-"))
    try:
        paths = write_export(user, options, folder / default_filename(fmt))
        path = paths[0] if len(paths) == 1 else _bundle(paths, folder)
    except ExportError as err:
        shutil.rmtree(folder, ignore_errors=True)
        return json_error(400, str(err))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    response = Response(_stream(path, folder), mimetype=mime_type(path))
    response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    response.headers["Content-Length"] = str(path.stat().st_size)
    return response


@token_required("researcher", "admin")
def export_job(job_id: int):
    """A started export: its progress, then the URLs of its files."""
    return jsonify(export_status(visible_export_job(job_id, api_user()), "api.export_job_file"))


@token_required("researcher", "admin")
def export_job_file(job_id: int, name: str):
    return send_export_file(visible_export_job(job_id, api_user()), name)


def _bundle(paths: list[Path], folder: Path) -> Path:
    """Zip a file and its dictionary beside it into one download."""
    target = folder / f"{paths[0].stem}-{paths[0].suffix.lstrip('.')}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            archive.write(path, path.name)
    return target
