"""Loading what the workspace shows, through the permission and visibility rules."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort

from survey_app.codings.codebook_versions import current_codebook
from survey_app.codings.operations import visible_codings_query
from survey_app.core.labels import lang
from survey_app.core.paging import bounded_int
from survey_app.extensions import db
from survey_app.models import Code, Coding, TranscriptVersion, User
from survey_app.workspace.suggestions import measured_precision, visible_suggestions_query

#: family colours: text on white and light highlight backgrounds
FAMILY_COLOURS = {
    "GOVERNANCE": ("#1f5f99", "#d5e6f7"),
    "STRATEGY": ("#9a4d00", "#fde3c8"),
    "DYNAMICS": ("#2c6e2f", "#d8efd9"),
    "OTHER": ("#5b6770", "#e6e9ec"),
    "IMPORTED": ("#5e3c99", "#ebe4f5"),
}


def version_or_404(version_id: int) -> TranscriptVersion:
    version = db.session.get(TranscriptVersion, version_id)
    if version is None:
        abort(404)
    return version


def label(code: Code) -> str:
    return code.label_en if lang() == "en" else code.label_fr


def code_json(code: Code) -> dict[str, Any]:
    return {
        "id": code.id,
        "key": code.key,
        "family": code.family,
        "label": label(code),
        "definition": code.definition,
        "colour": FAMILY_COLOURS[code.family][0],
        "background": FAMILY_COLOURS[code.family][1],
    }


def usable_codes() -> list[Code]:
    """Codes of the current codebook that new codings may use."""
    book = current_codebook()
    return [c for c in book.codes if not c.retired] if book else []


def coding_json(coding: Coding, user: User) -> dict[str, Any]:
    return {
        "id": coding.id,
        "start": coding.start,
        "end": coding.end,
        "code_id": coding.code_id,
        "code": coding.code.key,
        "family": coding.code.family,
        "label": label(coding.code),
        "retired": coding.code.retired,
        "coder": coding.coder.username if coding.coder else None,
        "mine": coding.coder_id == user.id,
        "source": coding.source,
        "status": coding.status,
        "valence": coding.valence,
        "intensity": coding.intensity,
        "memo": coding.memo,
        "confidence": coding.confidence,
        "precision": measured_precision(coding),
        "version": coding.version,
        "created": coding.created_dt.isoformat(timespec="seconds"),
    }


def visible_codings(user: User, version_id: int) -> list[Coding]:
    """Human and consensus codings the user may see (model suggestions are apart)."""
    stmt = visible_codings_query(user, version_id).where(Coding.source != "model")
    return list(db.session.scalars(stmt))


def visible_suggestions(user: User, version_id: int) -> list[Coding]:
    return list(db.session.scalars(visible_suggestions_query(user, version_id)))


def visible_coding_or_404(
    user: User, coding_id: int, statuses: tuple[str, ...] | None = None
) -> Coding:
    """Load a coding through the visibility rule: what the user may not see does not exist."""
    coding = db.session.get(Coding, coding_id)
    if coding is None:
        abort(404)
    args = (statuses,) if statuses else ()
    stmt = visible_codings_query(user, coding.transcript_version_id, *args).where(
        Coding.id == coding_id, Coding.source != "model"
    )
    found = db.session.scalar(stmt)
    if found is None:
        abort(404)
    return found


def code_or_none(code_id: Any) -> Code | None:
    try:
        return db.session.get(Code, bounded_int(code_id))
    except (TypeError, ValueError):
        return None


def turn_segments(version: TranscriptVersion) -> list[Any]:
    from survey_app.models import Segment

    return list(
        db.session.scalars(
            sa.select(Segment)
            .where(Segment.transcript_version_id == version.id, Segment.kind == "turn")
            .order_by(Segment.start)
        )
    )
