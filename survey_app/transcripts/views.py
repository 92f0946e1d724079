"""Search in transcripts: across every transcript one may read, or within one."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_login import current_user

from survey_app.auth.decorators import staff_required
from survey_app.core.paging import bounded_int
from survey_app.extensions import db
from survey_app.models import TranscriptVersion
from survey_app.transcripts import search as fts


@staff_required
def search():
    query = request.args.get("q", "").strip()[: fts.MAX_QUERY]
    version_id = request.args.get("version_id", type=bounded_int)
    version = None
    if version_id is not None:
        readable = fts.readable_versions(current_user).where(TranscriptVersion.id == version_id)
        if db.session.scalar(sa.select(readable.exists())) is not True:
            abort(404)
        version = db.session.get(TranscriptVersion, version_id)
    hits, empty = [], False
    if query:
        try:
            hits = fts.search(current_user, query, version_id)
        except fts.SearchError:
            empty = True
    return render_template(
        "transcripts/search.html",
        query=query,
        hits=hits,
        empty=empty,
        version=version,
        limit=fts.MAX_HITS,
        researcher=current_user.role in ("researcher", "admin"),
    )
