"""What the API returns: interviews, answers, codings and organisations as plain dicts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort

from survey_app.codings.operations import visible_codings_query
from survey_app.extensions import db
from survey_app.fieldwork.queries import can_see
from survey_app.models import (
    Answer,
    Coding,
    Interview,
    Organisation,
    Transcript,
    TranscriptVersion,
    User,
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def page_of(stmt: sa.Select, page: int, per_page: int) -> tuple[list[Any], int]:
    """Return one page of a select and the total row count."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    )
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), int(total or 0)


def interviews_stmt(user: User, status: str | None = None) -> sa.Select:
    stmt = (
        sa.select(Interview)
        .options(
            sa.orm.selectinload(Interview.organisation),
            sa.orm.selectinload(Interview.instrument_version),
            sa.orm.selectinload(Interview.fieldworker),
        )
        .order_by(Interview.id)
    )
    if user.role == "fieldworker":
        stmt = stmt.where(Interview.fieldworker_id == user.id)
    if status:
        stmt = stmt.where(Interview.status == status)
    return stmt


def interview_or_404(user: User, interview_id: int) -> Interview:
    """Load an interview the user may see; 404 otherwise (ids do not leak)."""
    item = db.session.get(Interview, interview_id)
    if item is None or not can_see(user, item):
        abort(404)
    return item


def current_version(item: Interview) -> TranscriptVersion | None:
    return item.transcripts[0].current if item.transcripts else None


def transcript_summaries(interview_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Return the newest transcript version of each interview, without loading its text."""
    newest = (
        sa.select(TranscriptVersion.transcript_id, sa.func.max(TranscriptVersion.number).label("n"))
        .group_by(TranscriptVersion.transcript_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Transcript.interview_id,
            TranscriptVersion.id,
            TranscriptVersion.number,
            TranscriptVersion.sha256,
            sa.func.length(TranscriptVersion.text),
        )
        .join(Transcript, Transcript.id == TranscriptVersion.transcript_id)
        .join(
            newest,
            sa.and_(
                newest.c.transcript_id == TranscriptVersion.transcript_id,
                newest.c.n == TranscriptVersion.number,
            ),
        )
        .where(Transcript.interview_id.in_(interview_ids))
    ).all()
    return {
        r[0]: {"version_id": r[1], "number": r[2], "sha256": r[3], "characters": r[4]} for r in rows
    }


def interview_dicts(items: list[Interview]) -> list[dict[str, Any]]:
    """Render interviews, reading their transcripts' summaries in one query."""
    summaries = transcript_summaries([i.id for i in items])
    return [interview_dict(i, summaries.get(i.id)) for i in items]


def interview_dict(item: Interview, transcript: dict[str, Any] | None) -> dict[str, Any]:
    instrument = item.instrument_version
    return {
        "id": item.id,
        "status": item.status,
        "interview_date": _iso(item.interview_date),
        "organisation": {
            "id": item.organisation_id,
            "pseudonym": item.organisation.pseudonym,
            "kind": item.organisation.kind,
        },
        "instrument": {
            "key": instrument.instrument_key,
            "version": instrument.version,
            "respondent_type": instrument.respondent_type,
        },
        "fieldworker": item.fieldworker.username,
        "created_dt": _iso(item.created_dt),
        "updated_dt": _iso(item.updated_dt),
        "submitted_dt": _iso(item.submitted_dt),
        "transcript": transcript,
    }


def answers_of(item: Interview) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Answer).where(Answer.interview_id == item.id).order_by(Answer.id)
    )
    return [{"question_key": a.question_key, "value": a.value, "missing": a.missing} for a in rows]


def codings_of(user: User, item: Interview) -> tuple[TranscriptVersion | None, list[dict]]:
    """Return the current transcript version and the codings `user` may see on it."""
    version = current_version(item)
    if version is None:
        return None, []
    codings: list[Coding] = list(db.session.scalars(visible_codings_query(user, version.id)))
    return version, [
        {
            "id": c.id,
            "start": c.start,
            "end": c.end,
            "text": version.text[c.start : c.end],
            "code": c.code.key,
            "family": c.code.family,
            "coder": c.coder.username if c.coder else None,
            "source": c.source,
            "status": c.status,
            "confidence": c.confidence,
            "valence": c.valence,
            "intensity": c.intensity,
            "round_id": c.round_id,
            "created_dt": _iso(c.created_dt),
            "memo": c.memo or "",
        }
        for c in codings
    ]


def organisation_dict(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "pseudonym": org.pseudonym,
        "kind": org.kind,
        "name": org.name,
        "naf_code": org.naf_code,
        "size_band": org.size_band,
        "export_share": org.export_share,
        "relay_category": org.relay_category,
        "territory_code": org.territory.code if org.territory else None,
    }
