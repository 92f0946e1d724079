"""Queries and permission checks: a fieldworker sees only their own interviews."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from survey_app.extensions import db
from survey_app.fieldwork.operations import EDITABLE_BY_FIELDWORKER
from survey_app.models import Interview, Organisation, Territory, User


def interviews_visible_to(user: User) -> sa.Select:
    stmt = sa.select(Interview).order_by(Interview.updated_dt.desc())
    if user.role == "fieldworker":
        stmt = stmt.where(Interview.fieldworker_id == user.id)
    return stmt


def can_see(user: User, interview: Interview) -> bool:
    return user.role in ("researcher", "admin") or interview.fieldworker_id == user.id


def can_edit(user: User, interview: Interview) -> bool:
    """Fieldworkers edit their own drafts; researchers and admins edit anything (audited)."""
    if user.role in ("researcher", "admin"):
        return True
    return interview.fieldworker_id == user.id and interview.status in EDITABLE_BY_FIELDWORKER


def can_edit_transcript(user: User, interview: Interview) -> bool:
    """Transcripts often arrive after the interview: its fieldworker may add a new version
    (audited) at any status, without reopening the answers."""
    return user.role in ("researcher", "admin") or interview.fieldworker_id == user.id


def interview_for(user: User, interview_id: int, *, edit: bool = False) -> Interview:
    """Load an interview the user may see (404 otherwise, so ids do not leak) or edit (403)."""
    interview = db.session.get(Interview, interview_id)
    if interview is None or not can_see(user, interview):
        abort(404)
    if edit and not can_edit(user, interview):
        abort(403)
    return interview


def organisations_for_choice(kind: str | None = None, query: str = "") -> list[Organisation]:
    """Organisations by name, of one kind, matching `query` (name, code, commune or SIRET)."""
    stmt = (
        sa.select(Organisation)
        .outerjoin(Territory, Organisation.territory_id == Territory.id)
        .order_by(Organisation.name)
    )
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    if query:
        pattern = "%" + query.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Organisation.name).like(pattern),
                sa.func.lower(Organisation.pseudonym).like(pattern),
                sa.func.lower(Territory.name).like(pattern),
                Territory.code.like(pattern),
                Organisation.siret.like(pattern),
            )
        )
    return list(db.session.scalars(stmt))


def communes() -> list[Territory]:
    return list(
        db.session.scalars(
            sa.select(Territory).where(Territory.level == "commune").order_by(Territory.name)
        )
    )
