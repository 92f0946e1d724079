"""The one bridge from the database to the tidy tables every export and analysis consumes."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import sqlalchemy as sa

from analysis.datasets import TABLE_COLUMNS, Dataset
from survey_app.codings.operations import LIVE_STATUSES, blind_transcript_ids
from survey_app.extensions import db
from survey_app.fieldwork.operations import instrument_of
from survey_app.instruments.definitions import question_metadata
from survey_app.models import (
    Answer,
    Code,
    CodebookVersion,
    Coding,
    InstrumentVersion,
    Interview,
    Organisation,
    Segment,
    Territory,
    Transcript,
    TranscriptVersion,
    User,
)


def build_dataset(user: User | None = None, interview_ids: Iterable[int] | None = None) -> Dataset:
    """Read the project (what `user` may see; everything for None) into a Dataset."""
    interviews = _interviews(user, interview_ids)
    ids = interviews["interview_id"].tolist()
    versions = _current_transcript_versions(ids)
    codings = _codings(versions, user)
    return Dataset(
        organisations=_organisations(interviews["org_id"].unique().tolist(), user),
        interviews=interviews,
        answers_long=_answers(ids),
        segments=_segments(versions),
        codings=codings,
        transcripts=versions[list(TRANSCRIPT_COLUMNS)],
        users=_frame(
            "users",
            db.session.execute(sa.select(User.username, User.role).order_by(User.username)).all(),
        ),
        codebook=_codebook(codings),
        instruments=_instruments(interviews),
    )


def _frame(table: str, rows: list, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        [tuple(r) for r in rows], columns=list(columns or TABLE_COLUMNS[table]), dtype=object
    )


def _territory_codes() -> dict[int, dict[str, str | None]]:
    """For each commune id: its commune, département, région and zone d'emploi codes."""
    territories = {t.id: t for t in db.session.scalars(sa.select(Territory))}
    codes = {}
    for t in territories.values():
        if t.level == "commune":
            codes[t.id] = {
                level: getattr(t.ancestor(level), "code", None)
                for level in ("commune", "departement", "region", "zone_emploi")
            }
    return codes


def _interviews(user: User | None, interview_ids: Iterable[int] | None) -> pd.DataFrame:
    stmt = (
        sa.select(
            Interview.id,
            Interview.organisation_id,
            InstrumentVersion.respondent_type,
            InstrumentVersion.instrument_key,
            InstrumentVersion.version,
            User.username,
            Interview.interview_date,
            Interview.status,
            Organisation.territory_id,
        )
        .join(InstrumentVersion, InstrumentVersion.id == Interview.instrument_version_id)
        .join(User, User.id == Interview.fieldworker_id)
        .join(Organisation, Organisation.id == Interview.organisation_id)
        .order_by(Interview.id)
    )
    if user is not None and user.role == "fieldworker":
        stmt = stmt.where(Interview.fieldworker_id == user.id)
    if interview_ids is not None:
        stmt = stmt.where(Interview.id.in_(list(interview_ids)))
    places = _territory_codes()
    rows = []
    for r in db.session.execute(stmt):
        where = places.get(r.territory_id, {})
        rows.append(
            (
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                where.get("commune"),
                where.get("departement"),
                where.get("region"),
                where.get("zone_emploi"),
            )
        )
    return _frame("interviews", rows)


def _organisations(org_ids: list[int], user: User | None) -> pd.DataFrame:
    commune = sa.orm.aliased(Territory)
    stmt = (
        sa.select(
            Organisation.id,
            Organisation.pseudonym,
            Organisation.kind,
            Organisation.name,
            Organisation.relay_category,
            Organisation.naf_code,
            Organisation.size_band,
            Organisation.export_share,
            commune.code,
        )
        .outerjoin(commune, commune.id == Organisation.territory_id)
        .order_by(Organisation.id)
    )
    if user is not None and user.role == "fieldworker":
        stmt = stmt.where(Organisation.id.in_(org_ids))
    return _frame("organisations", db.session.execute(stmt).all())


def _answers(ids: list[int]) -> pd.DataFrame:
    stmt = (
        sa.select(Answer.interview_id, Answer.question_key, Answer.value, Answer.missing)
        .where(Answer.interview_id.in_(ids))
        .order_by(Answer.interview_id, Answer.id)
    )
    return _frame("answers_long", db.session.execute(stmt).all())


def _current_transcript_versions(ids: list[int]) -> pd.DataFrame:
    newest = (
        sa.select(
            TranscriptVersion.transcript_id, sa.func.max(TranscriptVersion.number).label("number")
        )
        .group_by(TranscriptVersion.transcript_id)
        .subquery()
    )
    stmt = (
        sa.select(
            TranscriptVersion.id,
            Transcript.interview_id,
            TranscriptVersion.number,
            TranscriptVersion.sha256,
            TranscriptVersion.text,
            Transcript.title,
            Transcript.memo,
        )
        .join(Transcript, Transcript.id == TranscriptVersion.transcript_id)
        .join(
            newest,
            sa.and_(
                newest.c.transcript_id == TranscriptVersion.transcript_id,
                newest.c.number == TranscriptVersion.number,
            ),
        )
        .where(Transcript.interview_id.in_(ids))
        .order_by(Transcript.interview_id, TranscriptVersion.id)
    )
    return _frame("transcripts", db.session.execute(stmt).all(), TRANSCRIPT_COLUMNS)


def _segments(versions: pd.DataFrame) -> pd.DataFrame:
    texts = dict(zip(versions["transcript_id"], versions["text"], strict=True))
    interview_of = dict(zip(versions["transcript_id"], versions["interview_id"], strict=True))
    stmt = (
        sa.select(
            Segment.id,
            Segment.transcript_version_id,
            Segment.start,
            Segment.end,
            Segment.speaker,
            Segment.kind,
        )
        .where(Segment.transcript_version_id.in_(list(texts)))
        .order_by(Segment.transcript_version_id, Segment.start, Segment.id)
    )
    rows = [
        (
            r.id,
            interview_of[r.transcript_version_id],
            r.transcript_version_id,
            r.start,
            r.end,
            r.speaker,
            r.kind,
            texts[r.transcript_version_id][r.start : r.end],
        )
        for r in db.session.execute(stmt)
    ]
    return _frame("segments", rows)


def _codings(versions: pd.DataFrame, user: User | None) -> pd.DataFrame:
    interview_of = dict(zip(versions["transcript_id"], versions["interview_id"], strict=True))
    coder = sa.orm.aliased(User)
    stmt = (
        sa.select(
            Coding.id,
            Coding.transcript_version_id,
            Coding.start,
            Coding.end,
            Code.key,
            Code.family,
            coder.username,
            Coding.coder_id,
            Coding.source,
            Coding.confidence,
            Coding.valence,
            Coding.intensity,
            Coding.round_id,
            Coding.created_dt,
            Coding.memo,
        )
        .join(Code, Code.id == Coding.code_id)
        .outerjoin(coder, coder.id == Coding.coder_id)
        .where(
            Coding.transcript_version_id.in_(list(interview_of)),
            Coding.status.in_(LIVE_STATUSES),
            # a suggestion is not a coding: an accepted one lives on as the human coding
            Coding.source != "model",
        )
        .order_by(Coding.transcript_version_id, Coding.start, Coding.id)
    )
    hidden = blind_transcript_ids(user) if user is not None else set()
    rows = []
    for r in db.session.execute(stmt):
        if r.transcript_version_id in hidden and r.coder_id != user.id:
            continue  # blind round still open: other coders' work stays out of this user's export
        rows.append(
            (
                r.id,
                interview_of[r.transcript_version_id],
                r.transcript_version_id,
                r.start,
                r.end,
                r.key,
                r.family,
                r.username or "model",
                r.source,
                r.confidence,
                r.valence,
                r.intensity,
                r.round_id,
                r.created_dt,
                r.memo or "",
            )
        )
    return _frame("codings", rows, (*TABLE_COLUMNS["codings"], "memo"))


#: The transcripts table's columns: the contract's, then the title and memo (e.g. a REFI-QDA
#: source's name and notes).
TRANSCRIPT_COLUMNS = (*TABLE_COLUMNS["transcripts"], "title", "memo")
#: The codebook table's columns: the contract's, then an imported code's parent and colour.
CODEBOOK_COLUMNS = (*TABLE_COLUMNS["codebook"], "parent", "color")


def _codebook(codings: pd.DataFrame) -> pd.DataFrame:
    """Return the current codebook, plus the codes of older versions the codings still use."""
    columns = (
        Code.key,
        Code.family,
        Code.label_fr,
        Code.label_en,
        Code.definition,
        Code.parent_key,
        Code.color,
    )
    stmt = (
        sa.select(*columns)
        .join(CodebookVersion, CodebookVersion.id == Code.codebook_version_id)
        .where(CodebookVersion.is_current, Code.retired.is_(False))
        .order_by(Code.key)
    )
    rows = db.session.execute(stmt).all()
    have = {r.key for r in rows}
    used = [k for k in dict.fromkeys(codings["code"].dropna().astype(str)) if k not in have]
    if used:
        # a coding made on an older version keeps its code's description from the newest
        # version that has it (a retired or renamed code, a code of an earlier import)
        older = db.session.execute(
            sa.select(*columns)
            .where(Code.key.in_(used))
            .order_by(Code.key, Code.codebook_version_id.desc())
        ).all()
        seen: set[str] = set()
        for r in older:
            if r.key not in seen:
                seen.add(r.key)
                rows.append(r)
        rows.sort(key=lambda r: r.key)
    return _frame("codebook", rows, CODEBOOK_COLUMNS)


def _instruments(interviews: pd.DataFrame) -> dict[tuple[str, str], dict]:
    pairs = set(zip(interviews["instrument_id"], interviews["instrument_version"], strict=True))
    result = {}
    for version in db.session.scalars(sa.select(InstrumentVersion)):
        if (version.instrument_key, version.version) in pairs:
            result[(version.instrument_key, version.version)] = question_metadata(
                instrument_of(version)
            )
    return result
