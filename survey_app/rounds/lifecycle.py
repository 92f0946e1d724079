"""Blind double-coding rounds: reading them, creating them, marking them done, closing them.

A round's agreement is in `survey_app.rounds.agreement`, its reconciliation in
`survey_app.rounds.reconciliation`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from survey_app.codings.operations import LIVE_STATUSES, blind_transcript_ids
from survey_app.core.audit import record
from survey_app.core.refusals import UserError
from survey_app.extensions import db
from survey_app.models import (
    AuditEvent,
    CodebookVersion,
    Coding,
    CodingRound,
    Transcript,
    TranscriptVersion,
    User,
    round_coders,
    round_transcripts,
    utcnow,
)

CODER_ROLES = ("researcher", "admin")
#: DOMAIN: blind double coding of at least 20% of transcripts
DOUBLE_CODED_TARGET = 0.20


class RoundError(UserError):
    """A user-facing refusal of a round operation (French and English)."""


class StaleRound(RoundError):
    """The round changed since the page was loaded."""

    def __init__(self) -> None:
        super().__init__(
            "Ce tour de codage a été modifié entre-temps (par vous ou par quelqu’un d’autre) : "
            "rien n’a été enregistré. Rechargez la page et recommencez.",
            "This coding round changed in the meantime (by you or someone else): nothing was "
            "saved. Reload the page and try again.",
        )


# --- reading rounds ------------------------------------------------------------------------


def is_coder(rnd: CodingRound, user: User) -> bool:
    return any(c.id == user.id for c in rnd.coders)


def done_dates(rnd: CodingRound) -> dict[int, Any]:
    """Return {coder id: done_dt or None} for the round."""
    rows = db.session.execute(
        sa.select(round_coders.c.user_id, round_coders.c.done_dt).where(
            round_coders.c.round_id == rnd.id
        )
    )
    return {user_id: done for user_id, done in rows}


def all_rounds() -> list[CodingRound]:
    return list(db.session.scalars(sa.select(CodingRound).order_by(CodingRound.created_dt.desc())))


def current_transcript_versions() -> list[TranscriptVersion]:
    """Return the newest version of every transcript (what a new round codes)."""
    newest = (
        sa.select(TranscriptVersion.transcript_id, sa.func.max(TranscriptVersion.number).label("n"))
        .group_by(TranscriptVersion.transcript_id)
        .subquery()
    )
    stmt = (
        sa.select(TranscriptVersion)
        .join(
            newest,
            sa.and_(
                newest.c.transcript_id == TranscriptVersion.transcript_id,
                newest.c.n == TranscriptVersion.number,
            ),
        )
        .order_by(TranscriptVersion.transcript_id)
        .options(defer(TranscriptVersion.text))  # lists must not pull whole corpora in
    )
    return list(db.session.scalars(stmt))


def text_lengths(ids: Iterable[int]) -> dict[int, int]:
    """Characters of each transcript version, counted by the database."""
    rows = db.session.execute(
        sa.select(TranscriptVersion.id, sa.func.length(TranscriptVersion.text)).where(
            TranscriptVersion.id.in_(list(ids))
        )
    )
    return {i: int(n or 0) for i, n in rows}


def double_coded_share() -> tuple[int, int]:
    """Return (transcripts with a version in a round of two or more coders, all transcripts)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Transcript)) or 0
    many = (
        sa.select(round_coders.c.round_id)
        .group_by(round_coders.c.round_id)
        .having(sa.func.count() >= 2)
    )
    covered = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(TranscriptVersion.transcript_id)))
        .join(round_transcripts, round_transcripts.c.transcript_version_id == TranscriptVersion.id)
        .where(round_transcripts.c.round_id.in_(many))
    )
    return int(covered or 0), int(total)


def rounds_of_transcripts() -> dict[int, list[CodingRound]]:
    """Return {transcript version id: rounds it is in}."""
    out: dict[int, list[CodingRound]] = {}
    for rnd in all_rounds():
        for tv in rnd.transcript_versions:
            out.setdefault(tv.id, []).append(rnd)
    return out


def original_codings(rnd: CodingRound, coder: User | None = None) -> list[Coding]:
    """The coders' own live codings made in this round (consensus codings excluded)."""
    stmt = sa.select(Coding).where(
        Coding.round_id == rnd.id,
        Coding.source != "consensus",
        Coding.status.in_(LIVE_STATUSES),
        Coding.coder_id.in_([c.id for c in rnd.coders]),
        Coding.transcript_version_id.in_([tv.id for tv in rnd.transcript_versions]),
    )
    if coder is not None:
        stmt = stmt.where(Coding.coder_id == coder.id)
    return list(db.session.scalars(stmt.order_by(Coding.start, Coding.id)))


def counts_by_coder(rnd: CodingRound) -> dict[tuple[int, str], int]:
    """{(transcript version id, coder username): original codings} of a closed round."""
    if rnd.status == "open":
        return {}
    frame = _coding_frame(rnd)
    return {
        (int(d), str(c)): int(n) for (d, c), n in frame.groupby(["doc", "coder"]).size().items()
    }


def own_progress(rnd: CodingRound, user: User) -> dict[int, int]:
    """Return {transcript version id: number of the user's own codings in this round}."""
    counts = {tv.id: 0 for tv in rnd.transcript_versions}
    for coding in original_codings(rnd, user):
        counts[coding.transcript_version_id] += 1
    return counts


# --- creating a round and marking it done --------------------------------------------------


def create_round(
    creator: User,
    name: str,
    transcript_versions: Iterable[TranscriptVersion],
    coders: Iterable[User],
    codebook_version: CodebookVersion | None,
) -> CodingRound:
    """Open a blind round on these transcript versions for two or more researchers."""
    name = (name or "").strip()
    versions = _unique(transcript_versions)
    people = _unique(coders)
    _check_new_round(creator, name, versions, people, codebook_version)
    rnd = CodingRound(
        name=name,
        status="open",
        codebook_version_id=codebook_version.id,
        created_by_id=creator.id,
        coders=people,
        transcript_versions=versions,
    )
    db.session.add(rnd)
    db.session.flush()
    record(
        "round.create",
        rnd,
        {
            "name": name,
            "coders": [u.username for u in people],
            "transcript_versions": [tv.id for tv in versions],
            "codebook_version": codebook_version.version,
        },
        user=creator,
    )
    return rnd


def earlier_codings(rnd: CodingRound) -> dict[str, int]:
    """Coders' live codings on the round's texts made outside it (they will not count in it)."""
    rows = db.session.execute(
        sa.select(User.username, sa.func.count(Coding.id))
        .join(User, User.id == Coding.coder_id)
        .where(
            Coding.transcript_version_id.in_([tv.id for tv in rnd.transcript_versions]),
            Coding.coder_id.in_([u.id for u in rnd.coders]),
            Coding.status.in_(LIVE_STATUSES),
            sa.or_(Coding.round_id.is_(None), Coding.round_id != rnd.id),
        )
        .group_by(User.username)
    )
    return {name: int(n) for name, n in rows}


def _unique(items: Iterable[Any]) -> list[Any]:
    return list({item.id: item for item in items if item is not None}.values())


def _check_new_round(creator, name, versions, people, codebook_version) -> None:
    if creator.role not in CODER_ROLES:
        raise RoundError(
            "Seuls les chercheurs créent des tours.", "Only researchers create rounds."
        )
    if not name:
        raise RoundError("Donnez un nom au tour.", "Give the round a name.")
    if len(people) < 2:
        raise RoundError(
            "Un double codage en aveugle demande au moins deux codeurs.",
            "Blind double coding needs at least two coders.",
        )
    if any(u.role not in CODER_ROLES or not u.is_enabled for u in people):
        raise RoundError(
            "Les codeurs doivent être des chercheurs ou des administrateurs actifs.",
            "Coders must be active researchers or administrators.",
        )
    if not versions:
        raise RoundError(
            "Choisissez au moins une transcription.", "Choose at least one transcript."
        )
    if codebook_version is None:
        raise RoundError("Aucun livre de codes n’est chargé.", "No codebook is loaded yet.")
    _check_current_versions(versions)
    _check_not_in_open_round(versions, people)


def _check_not_in_open_round(versions: list[TranscriptVersion], people: list[User]) -> None:
    """A coder's new codings go to one open round: two open rounds may not share a cell."""
    for user in people:
        busy = blind_transcript_ids(user) & {tv.id for tv in versions}
        if busy:
            raise RoundError(
                f"{user.username} code déjà une de ces transcriptions dans un tour ouvert.",
                f"{user.username} already codes one of these transcripts in an open round.",
            )


def _check_current_versions(versions: list[TranscriptVersion]) -> None:
    current = {tv.id for tv in current_transcript_versions()}
    stale = [tv for tv in versions if tv.id not in current]
    if stale:
        raise RoundError(
            "Une transcription choisie n’est plus la version en vigueur ; rechargez la page.",
            "A chosen transcript is no longer the current version; reload the page.",
        )


def _check_version(rnd: CodingRound, expected_version: int | None) -> None:
    if expected_version is None or rnd.version != int(expected_version):
        raise StaleRound()


def _touch(rnd: CodingRound) -> None:
    """Bump the round's version (optimistic lock) even when only related rows change."""
    flag_modified(rnd, "name")
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleRound() from None


def _check_open_coder(rnd: CodingRound, user: User) -> None:
    if not is_coder(rnd, user):
        raise RoundError("Vous ne codez pas dans ce tour.", "You are not a coder of this round.")
    if rnd.status != "open":
        raise RoundError("Ce tour est déjà clos.", "This round is already closed.")


def _set_done(rnd: CodingRound, user: User, value: Any) -> None:
    db.session.execute(
        round_coders.update()
        .where(round_coders.c.round_id == rnd.id, round_coders.c.user_id == user.id)
        .values(done_dt=value)
    )


def mark_done(rnd: CodingRound, user: User) -> bool:
    """Mark the user's part done; close the round when every coder is done. Return closed.

    No stale-page check: another coder's "done" since the page loaded must not refuse this
    one; two at the same instant are still serialised by the round's version column.
    """
    _check_open_coder(rnd, user)
    if done_dates(rnd).get(user.id) is not None:
        raise RoundError("Vous avez déjà terminé ce tour.", "You already marked this round done.")
    _set_done(rnd, user, utcnow())
    _touch(rnd)
    record("round.coder_done", rnd, {"coder": user.username}, user=user)
    if all(done is not None for done in done_dates(rnd).values()):
        _close(rnd, user)
        return True
    return False


def undo_done(rnd: CodingRound, user: User) -> None:
    """Take back one's "done" while the round is still open."""
    _check_open_coder(rnd, user)
    if done_dates(rnd).get(user.id) is None:
        raise RoundError("Vous n’aviez pas terminé ce tour.", "You had not marked this round done.")
    _set_done(rnd, user, None)
    _touch(rnd)
    record("round.coder_undone", rnd, {"coder": user.username}, user=user)


def _close(rnd: CodingRound, user: User) -> None:
    """Close the round and freeze its original codings in the audit trail."""
    frame = _live_coding_frame(rnd)
    rnd.status = "closed"
    rnd.closed_dt = utcnow()
    db.session.flush()
    counts = {c.username: int((frame["coder"] == c.username).sum()) for c in rnd.coders}
    snapshot = [
        [int(r.id), int(r.doc), str(r.coder), int(r.start), int(r.end), str(r.code)]
        for r in frame.itertuples(index=False)
    ]
    record(
        "round.close",
        rnd,
        {"reason": "all coders done", "codings": counts, "snapshot": snapshot},
        user=user,
    )


# --- the round's codings as a table (live while open, frozen at closure) ---------------


FRAME_COLUMNS = ["doc", "coder", "start", "end", "code", "id"]


def _coding_frame(rnd: CodingRound) -> pd.DataFrame:
    """The round's original codings: frozen at closure, so later edits cannot move agreement."""
    if rnd.status != "open":
        frozen = _snapshot(rnd)
        if frozen is not None:
            return frozen
    return _live_coding_frame(rnd)


def _snapshot(rnd: CodingRound) -> pd.DataFrame | None:
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(
            AuditEvent.action == "round.close",
            AuditEvent.object_type == CodingRound.__tablename__,
            AuditEvent.object_id == str(rnd.id),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if event is None or "snapshot" not in (event.payload or {}):
        return None
    rows = [
        {"id": i, "doc": doc, "coder": coder, "start": start, "end": end, "code": code}
        for i, doc, coder, start, end, code in event.payload["snapshot"]
    ]
    return pd.DataFrame(rows, columns=FRAME_COLUMNS)


def _live_coding_frame(rnd: CodingRound) -> pd.DataFrame:
    rows = [
        {
            "doc": c.transcript_version_id,
            "coder": c.coder.username,
            "start": c.start,
            "end": c.end,
            "code": c.code.key,
            "id": c.id,
        }
        for c in original_codings(rnd)
    ]
    return pd.DataFrame(rows, columns=FRAME_COLUMNS)
