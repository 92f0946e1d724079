"""What the home page shows each role: where their work stands."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.models import Coding, CodingRound, Interview, Transcript, User, round_coders


def dashboard(user: User) -> dict[str, Any]:
    by_status = sa.select(Interview.status, sa.func.count(Interview.id)).group_by(Interview.status)
    if user.role == "fieldworker":
        by_status = by_status.where(Interview.fieldworker_id == user.id)
    data: dict[str, Any] = {"statuses": dict(db.session.execute(by_status).all())}
    if user.role == "fieldworker":
        return data
    data["transcripts"] = db.session.scalar(sa.select(sa.func.count(Transcript.id)))
    data["my_codings"] = db.session.scalar(
        sa.select(sa.func.count(Coding.id)).where(
            Coding.coder_id == user.id, Coding.status.in_(("active", "accepted"))
        )
    )
    data["suggestions"] = db.session.scalar(
        sa.select(sa.func.count(Coding.id)).where(Coding.status == "suggested")
    )
    data["my_open_rounds"] = db.session.scalars(
        sa.select(CodingRound)
        .join(round_coders, round_coders.c.round_id == CodingRound.id)
        .where(
            CodingRound.status == "open",
            round_coders.c.user_id == user.id,
            round_coders.c.done_dt.is_(None),
        )
    ).all()
    return data
