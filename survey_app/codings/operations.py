"""Codings: create, change, delete (kept), and who may see which (blind double coding)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from survey_app.core.audit import record
from survey_app.core.refusals import UserError
from survey_app.extensions import db
from survey_app.models import (
    Code,
    Coding,
    CodingRound,
    Segment,
    TranscriptVersion,
    User,
    round_coders,
    round_transcripts,
)

#: codings a reader sees as codings (suggestions and deleted ones are apart)
LIVE_STATUSES = ("active", "accepted")


class CodingError(UserError):
    """A user-facing refusal of a coding operation (French and English)."""


def open_rounds_of(user: User, transcript_version_id: int) -> list[CodingRound]:
    """Return the open blind rounds on this transcript version that `user` codes in."""
    stmt = (
        sa.select(CodingRound)
        .join(round_transcripts, round_transcripts.c.round_id == CodingRound.id)
        .join(round_coders, round_coders.c.round_id == CodingRound.id)
        .where(
            CodingRound.status == "open",
            round_transcripts.c.transcript_version_id == transcript_version_id,
            round_coders.c.user_id == user.id,
        )
    )
    return list(db.session.scalars(stmt))


def blind_transcript_ids(user: User) -> set[int]:
    """Transcript versions on which `user` is a coder of an open round (and so sees only theirs)."""
    stmt = (
        sa.select(round_transcripts.c.transcript_version_id)
        .join(CodingRound, CodingRound.id == round_transcripts.c.round_id)
        .join(round_coders, round_coders.c.round_id == CodingRound.id)
        .where(CodingRound.status == "open", round_coders.c.user_id == user.id)
    )
    return set(db.session.scalars(stmt))


def visible_codings_query(
    user: User, transcript_version_id: int, statuses: tuple[str, ...] = LIVE_STATUSES
) -> sa.Select:
    """The one rule for reading codings: a coder in an open round sees only their own.

    Every page and JSON endpoint that shows codings must build on this query (or on
    `visible_codings_across`, which holds the rule).
    """
    return visible_codings_across(user, [transcript_version_id], statuses)


def visible_codings_across(
    user: User, transcript_version_ids: list[int], statuses: tuple[str, ...] = LIVE_STATUSES
) -> sa.Select:
    """`visible_codings_query` over many transcript versions at once, in one query.

    The same rule: on the transcripts of an open round the user codes in, only their own.
    """
    stmt = sa.select(Coding).where(
        Coding.transcript_version_id.in_(transcript_version_ids), Coding.status.in_(statuses)
    )
    if user.role == "fieldworker":
        return stmt.where(sa.false())
    blind = blind_transcript_ids(user)
    if blind:
        stmt = stmt.where(
            sa.or_(Coding.transcript_version_id.not_in(blind), Coding.coder_id == user.id)
        )
    return stmt.order_by(Coding.transcript_version_id, Coding.start, Coding.end, Coding.id)


def _check_span(version: TranscriptVersion, start: int, end: int) -> None:
    if not (0 <= start < end <= len(version.text)):
        raise CodingError(
            "La sélection sort du texte de la transcription.",
            "The selection lies outside the transcript text.",
        )
    if not version.text[start:end].strip():
        raise CodingError("La sélection est vide.", "The selection is empty.")


def _check_values(valence: int | None, intensity: int | None) -> None:
    if valence not in (None, -1, 0, 1):
        raise CodingError("Valence : −1, 0 ou +1.", "Valence must be -1, 0 or +1.")
    if intensity not in (None, 0, 1, 2, 3):
        raise CodingError("Intensité : de 0 à 3.", "Intensity must be 0 to 3.")


def create_coding(
    version: TranscriptVersion,
    start: int,
    end: int,
    code: Code,
    coder: User,
    *,
    valence: int | None = None,
    intensity: int | None = None,
    memo: str = "",
    source: str = "human",
    suggestion: Coding | None = None,
) -> Coding:
    """Code [start, end) of a transcript version; the coder's open round (if any) is recorded."""
    _check_span(version, start, end)
    _check_values(valence, intensity)
    if not code.codebook_version.is_current or code.retired:
        raise CodingError(
            "Ce code n’est pas dans le livre de codes en vigueur.",
            "This code is not in the current codebook.",
        )
    rounds = open_rounds_of(coder, version.id)
    coding = Coding(
        transcript_version_id=version.id,
        start=start,
        end=end,
        code=code,
        coder=coder,
        source=source,
        status="active",
        valence=valence,
        intensity=intensity,
        memo=memo,
        round_id=rounds[0].id if rounds else None,
        suggestion_id=suggestion.id if suggestion else None,
        segment_id=_turn_at(version, start),
    )
    db.session.add(coding)
    db.session.flush()
    record("coding.create", coding, _payload(coding), user=coder)
    return coding


def _turn_at(version: TranscriptVersion, start: int) -> int | None:
    # one indexed query: loading every segment of a long transcript costs ~0.6 s per coding
    return db.session.scalar(
        sa.select(Segment.id)
        .where(
            Segment.transcript_version_id == version.id,
            Segment.kind == "turn",
            Segment.start <= start,
            Segment.end > start,
        )
        .order_by(Segment.start.desc())
        .limit(1)
    )


def _payload(coding: Coding) -> dict[str, Any]:
    return {
        "transcript_version": coding.transcript_version_id,
        "start": coding.start,
        "end": coding.end,
        "code": coding.code.key,
        "valence": coding.valence,
        "intensity": coding.intensity,
        "memo": coding.memo,
        "round": coding.round_id,
        "source": coding.source,
        "status": coding.status,
    }


def _own(coding: Coding, user: User) -> None:
    if coding.coder_id != user.id:
        raise CodingError(
            "Vous ne pouvez modifier que vos propres codages.",
            "You can only change your own codings.",
        )


def _check_version(coding: Coding, expected_version: int | None) -> None:
    if expected_version is not None and coding.version != expected_version:
        raise CodingError(
            "Ce codage a été modifié entre-temps ; rechargez la page.",
            "This coding changed in the meantime; reload the page.",
        )


def update_coding(
    coding: Coding, user: User, expected_version: int, *, undo: bool = False, **changes: Any
) -> Coding:
    """Change code, valence, intensity, memo or span of one's own coding (optimistic lock).

    `undo` marks the change in the audit trail as the undoing of the user's previous one.
    """
    _own(coding, user)
    _check_version(coding, expected_version)
    before = _payload(coding)
    if "start" in changes or "end" in changes:
        _check_span(
            db.session.get(TranscriptVersion, coding.transcript_version_id),
            changes.get("start", coding.start),
            changes.get("end", coding.end),
        )
    _check_values(
        changes.get("valence", coding.valence), changes.get("intensity", coding.intensity)
    )
    for field in ("code", "valence", "intensity", "memo", "start", "end"):
        if field in changes:
            setattr(coding, field, changes[field])
    db.session.flush()
    payload = {"before": before, "after": _payload(coding)}
    record("coding.update", coding, _undo_flag(payload, undo), user=user)
    return coding


def _undo_flag(payload: dict[str, Any], undo: bool) -> dict[str, Any]:
    return {**payload, "undo": True} if undo else payload


def delete_coding(
    coding: Coding, user: User, expected_version: int | None = None, *, undo: bool = False
) -> None:
    """Delete one's own coding: it is marked deleted, kept for the audit trail."""
    _own(coding, user)
    _check_version(coding, expected_version)
    coding.status = "deleted"
    db.session.flush()
    record("coding.delete", coding, _undo_flag(_payload(coding), undo), user=user)


def restore_coding(coding: Coding, user: User, expected_version: int) -> Coding:
    """Bring back one's own deleted coding (the undoing of a delete), if its code is current."""
    _own(coding, user)
    _check_version(coding, expected_version)
    if coding.status != "deleted":
        raise CodingError("Ce codage n’est pas supprimé.", "This coding is not deleted.")
    if not coding.code.codebook_version.is_current or coding.code.retired:
        raise CodingError(
            "Ce code n’est plus dans le livre de codes en vigueur : le codage reste supprimé.",
            "This code is no longer in the current codebook: the coding stays deleted.",
        )
    coding.status = "active"
    db.session.flush()
    record("coding.restore", coding, _undo_flag(_payload(coding), True), user=user)
    return coding
