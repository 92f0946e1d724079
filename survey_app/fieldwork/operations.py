"""Fieldwork operations: instruments, organisations, interviews, answers, transcripts.

Each operation flushes and records an audit event; the request or command commits.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm.exc import StaleDataError

from survey_app.core.audit import record
from survey_app.core.refusals import UserError
from survey_app.extensions import db
from survey_app.instruments.answers import (
    AnswerError,
    clean_answers,
    consent_given,
    validate_answers,
)
from survey_app.instruments.definitions import (
    MISSING_KINDS,
    Instrument,
    canonical_bytes,
    instrument_from_dict,
    iter_questions,
)
from survey_app.instruments.expr import node_string
from survey_app.instruments.validate import InstrumentError, codebook_codes
from survey_app.models import (
    Answer,
    InstrumentVersion,
    Interview,
    Organisation,
    Segment,
    Transcript,
    TranscriptVersion,
    User,
    utcnow,
)
from survey_app.transcripts.search import index_turns

PSEUDONYM_PREFIX = {"sme": "PME", "relay": "REL"}
#: statuses in which the fieldworker may still edit their interview
EDITABLE_BY_FIELDWORKER = ("draft", "has_issues")
REVIEW_STATUSES = ("has_issues", "approved", "rejected")


class FieldworkError(UserError):
    """A user-facing refusal, with its French and English messages."""


class StaleInterview(FieldworkError):
    """The interview changed since the form was loaded."""

    def __init__(self) -> None:
        super().__init__(
            "Quelqu’un d’autre a enregistré cet entretien entre-temps. Vos réponses sont "
            "affichées ci-dessous mais n’ont pas été enregistrées : rechargez l’entretien, "
            "puis reportez-les.",
            "Someone else saved this interview in the meantime. Your answers are shown below "
            "but were not saved: reload the interview, then enter them again.",
        )


class AnswersRefused(FieldworkError):
    """Answers that break the instrument; `errors` says which."""

    def __init__(self, errors: list[AnswerError]) -> None:
        super().__init__("Certaines réponses sont refusées.", "Some answers are refused.")
        self.errors = errors

    def __str__(self) -> str:
        return "answers refused: " + "; ".join(str(e) for e in self.errors)


# --- instruments -----------------------------------------------------------------------------


def load_instrument_file(path: Path, user: User | None = None) -> tuple[InstrumentVersion, bool]:
    """Load an instrument file as an immutable version; return it and whether it is new.

    Loading the same bytes again changes nothing; other bytes under a loaded version are refused.
    """
    raw = canonical_bytes(path.read_bytes())
    sha = hashlib.sha256(raw).hexdigest()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise InstrumentError([("", f"cannot read {path.name}: {err}")], str(path)) from None
    book = path.parent / "codebook.yaml"
    instrument = instrument_from_dict(
        data, codes=codebook_codes(book if book.exists() else None), source=str(path), sha256=sha
    )
    existing = db.session.scalar(
        sa.select(InstrumentVersion).where(
            InstrumentVersion.instrument_key == instrument.id,
            InstrumentVersion.version == instrument.version,
        )
    )
    if existing is not None:
        if existing.sha256 != sha:
            raise FieldworkError(
                f"{path.name} : la version {instrument.version} de « {instrument.id} » est déjà "
                "chargée avec un autre contenu ; changez le numéro de version.",
                f"{path.name}: version {instrument.version} of {instrument.id!r} is already loaded "
                "with other content; a loaded version is immutable, give the file a new version",
            )
        return existing, False
    version = InstrumentVersion(
        instrument_key=instrument.id,
        version=instrument.version,
        respondent_type=instrument.respondent_type,
        title_fr=instrument.title.get("fr", instrument.id),
        title_en=instrument.title.get("en", instrument.title.get("fr", instrument.id)),
        sha256=sha,
        source_yaml=raw.decode("utf-8"),
        content=data,
        loaded_by_id=getattr(user, "id", None),
    )
    db.session.add(version)
    db.session.flush()
    record(
        "instrument.load",
        version,
        {"key": instrument.id, "version": instrument.version, "sha256": sha},
        user=user,
    )
    return version, True


def instrument_of(version: InstrumentVersion) -> Instrument:
    """Return the Instrument of a stored version (built once per content hash)."""
    return _build_instrument(version.sha256, version.source_yaml)


@lru_cache(maxsize=32)
def _build_instrument(sha256: str, source_yaml: str) -> Instrument:
    return instrument_from_dict(yaml.safe_load(source_yaml), sha256=sha256)


def current_instrument_versions() -> list[InstrumentVersion]:
    """Return the newest loaded version of each instrument."""
    versions = db.session.scalars(
        sa.select(InstrumentVersion).order_by(
            InstrumentVersion.instrument_key, InstrumentVersion.loaded_dt.desc()
        )
    ).all()
    newest: dict[str, InstrumentVersion] = {}
    for v in versions:
        newest.setdefault(v.instrument_key, v)
    return list(newest.values())


# --- organisations -----------------------------------------------------------------------------


def next_pseudonym(kind: str) -> str:
    """Return the next free pseudonym code for an organisation of `kind` (PME_001, REL_001)."""
    prefix = PSEUDONYM_PREFIX[kind]
    taken = db.session.scalars(
        sa.select(Organisation.pseudonym).where(Organisation.pseudonym.like(f"{prefix}_%"))
    )
    numbers = [int(p.split("_", 1)[1]) for p in taken if p.split("_", 1)[1].isdigit()]
    return f"{prefix}_{max(numbers, default=0) + 1:03d}"


def create_organisation(user: User | None, **fields: Any) -> Organisation:
    org = Organisation(
        pseudonym=next_pseudonym(fields["kind"]), created_by_id=getattr(user, "id", None), **fields
    )
    db.session.add(org)
    db.session.flush()
    record("organisation.create", org, {"kind": org.kind, "pseudonym": org.pseudonym}, user=user)
    return org


def update_organisation(org: Organisation, user: User | None, **fields: Any) -> dict[str, Any]:
    """Change an organisation's fields (its pseudonym stays); audit what changed."""
    changes = {}
    for name, value in fields.items():
        old = getattr(org, name)
        if old != value:
            label = (lambda v: v.code if v is not None else None) if name == "territory" else None
            changes[name] = [label(old), label(value)] if label else [old, value]
            setattr(org, name, value)
    if changes:
        db.session.flush()
        record("organisation.update", org, {"changes": changes}, user=user)
    return changes


# --- interviews --------------------------------------------------------------------------------


def create_interview(
    user: User,
    instrument_version: InstrumentVersion,
    organisation: Organisation,
    interview_date: date | None,
    place: str = "",
    respondent_role: str = "",
) -> Interview:
    if organisation.kind != instrument_version.respondent_type:
        raise FieldworkError(
            "Ce guide d’entretien ne correspond pas au type d’organisation choisi.",
            "This interview guide does not fit the kind of organisation chosen.",
        )
    interview = Interview(
        instrument_version=instrument_version,
        organisation=organisation,
        fieldworker=user,
        interview_date=interview_date,
        place=place,
        respondent_role=respondent_role,
    )
    db.session.add(interview)
    db.session.flush()
    record(
        "interview.create",
        interview,
        {
            "instrument": instrument_version.instrument_key,
            "version": instrument_version.version,
            "organisation": organisation.pseudonym,
        },
        user=user,
    )
    return interview


def stored_answers(interview: Interview) -> dict[str, Any]:
    """Return the interview's answers as raw values (missing kinds as their names)."""
    instrument = instrument_of(interview.instrument_version)
    types = {q.key: q.type for q in iter_questions(instrument)}
    answers: dict[str, Any] = {}
    for row in interview.answers:
        if row.missing:
            answers[row.question_key] = row.missing
        elif row.value is not None:
            multiple = types.get(row.question_key) == "select_multiple"
            answers[row.question_key] = row.value.split() if multiple else row.value
    return answers


def save_answers(
    interview: Interview,
    new_answers: dict[str, Any],
    expected_version: int,
    user: User,
    *,
    final: bool = False,
) -> dict[str, Any]:
    """Merge `new_answers` into the interview; refuse stale or invalid saves; return the diff."""
    if interview.version != expected_version:
        raise StaleInterview()
    instrument = instrument_of(interview.instrument_version)
    merged = {**stored_answers(interview), **new_answers}
    errors = validate_answers(instrument, merged, final=final)
    return _apply_answers(interview, instrument, merged, errors, user)


def _apply_answers(
    interview: Interview,
    instrument: Instrument,
    merged: dict[str, Any],
    errors: list[AnswerError],
    user: User,
) -> dict[str, Any]:
    """Store the merged answers once validated (`errors` from validate_answers on them)."""
    if errors:
        raise AnswersRefused(errors)
    cleaned = clean_answers(instrument, merged)
    rows = {row.question_key: row for row in interview.answers}
    changes: dict[str, list[Any]] = {}
    for key, value in cleaned.items():
        value_text, missing = _stored_form(value)
        row = rows.get(key)
        old = (row.value, row.missing) if row else (None, None)
        if old == (value_text, missing):
            continue
        if row is None:
            if value_text is None and missing is None:
                continue
            row = Answer(question_key=key)
            interview.answers.append(row)
        row.value, row.missing = value_text, missing
        changes[key] = [old[0] or old[1], value_text or missing]
    _update_consent(interview, instrument, cleaned)
    interview.updated_dt = utcnow()  # bumps the version even when only answers changed
    try:
        db.session.flush()
    except StaleDataError:  # a save of the same version committed while this one ran
        raise StaleInterview() from None
    if changes:
        record(
            "interview.answers",
            interview,
            {"status": interview.status, "changes": changes},
            user=user,
        )
    return changes


def save_valid_answers(
    interview: Interview, new_answers: dict[str, Any], expected_version: int, user: User
) -> tuple[dict[str, Any], list[AnswerError]]:
    """Save what is valid in `new_answers`; return the changes and the answers left out.

    One invalid answer does not block the others: the invalid ones keep their stored value
    and come back as errors. Anything else (consent not given, a stale form) refuses the
    whole save as save_answers does.
    """
    if interview.version != expected_version:
        raise StaleInterview()
    instrument = instrument_of(interview.instrument_version)
    merged = {**stored_answers(interview), **new_answers}
    errors = validate_answers(instrument, merged, final=False)
    left_out = [e for e in errors if e.key in new_answers and e.code != "consent"]
    if not left_out:  # validated already: store (or refuse) without validating again
        return _apply_answers(interview, instrument, merged, errors, user), []
    kept = {k: v for k, v in new_answers.items() if k not in {e.key for e in left_out}}
    return save_answers(interview, kept, expected_version, user), left_out


def _stored_form(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str) and value in MISSING_KINDS:
        return None, value
    return node_string(value), None


def _update_consent(interview: Interview, instrument: Instrument, cleaned: dict[str, Any]) -> None:
    keys = [q.key for q in instrument.consent_questions]
    given = consent_given(cleaned, instrument)
    interview.consent_processing = cleaned.get(keys[0]) == "yes" if keys else False
    interview.consent_participation = given
    audio = [k for k in keys if "audio" in k or "record" in k]
    interview.consent_recording = bool(audio) and cleaned.get(audio[0]) == "yes"
    if given and interview.consent_dt is None:
        interview.consent_dt = utcnow()


def section_of_question(instrument: Instrument) -> dict[str, str]:
    """Map each question key to the key of its section."""
    return {q.key: s.key for s in instrument.sections for q in s.questions}


def incomplete_sections(interview: Interview) -> set[str]:
    """The sections that would stop a submission (required answers missing or invalid)."""
    instrument = instrument_of(interview.instrument_version)
    where = section_of_question(instrument)
    errors = validate_answers(instrument, stored_answers(interview), final=True)
    return {where[e.key] for e in errors if e.key in where}


def submit_interview(interview: Interview, expected_version: int, user: User) -> None:
    if interview.version != expected_version:
        raise StaleInterview()
    instrument = instrument_of(interview.instrument_version)
    errors = validate_answers(instrument, stored_answers(interview), final=True)
    if errors:
        raise AnswersRefused(errors)
    interview.status, interview.submitted_dt = "submitted", utcnow()
    db.session.flush()
    record("interview.submit", interview, user=user)


def review_interview(
    interview: Interview, status: str, comment: str, expected_version: int, user: User
) -> None:
    if status not in REVIEW_STATUSES:
        raise ValueError(status)
    if interview.version != expected_version:
        raise StaleInterview()
    if interview.status == "draft":
        raise FieldworkError(
            "Un brouillon ne peut pas être relu avant d’être soumis.",
            "A draft cannot be reviewed before it is submitted.",
        )
    old = interview.status
    interview.status, interview.review_comment = status, comment
    db.session.flush()
    record(
        "interview.review", interview, {"from": old, "to": status, "comment": comment}, user=user
    )


# --- transcripts -------------------------------------------------------------------------------


def save_transcript(
    interview: Interview,
    text: str,
    user: User,
    *,
    source_format: str = "paste",
    filename: str = "",
    nlp: Any = None,
) -> TranscriptVersion | None:
    """Store a new transcript version with its segments; None when the text is unchanged."""
    from coding.segment import normalise_text, segment_transcript

    text = normalise_text(text).strip("\n")
    if not text.strip():
        raise FieldworkError("La transcription est vide.", "The transcript is empty.")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    transcript = interview.transcripts[0] if interview.transcripts else None
    if transcript is None:
        transcript = Transcript(interview=interview)
        db.session.add(transcript)
    current = transcript.current
    if current is not None and current.sha256 == sha:
        return None
    result = segment_transcript(text, nlp)
    version = TranscriptVersion(
        transcript=transcript,
        number=(current.number + 1) if current else 1,
        text=text,
        sha256=sha,
        source_format=source_format,
        source_filename=filename[:255],
        language="und" if result.language_warning else "fr",
        created_by_id=user.id,
    )
    db.session.add(version)
    db.session.flush()
    _store_segments(version, result.segments)
    record(
        "transcript.save",
        version,
        {
            "interview": interview.id,
            "number": version.number,
            "sha256": sha,
            "chars": len(text),
            "format": source_format,
        },
        user=user,
    )
    return version


def _store_segments(version: TranscriptVersion, segments: list[Any]) -> None:
    turns = [s for s in segments if s.kind == "turn"]
    turn_rows = [
        {
            "transcript_version_id": version.id,
            "kind": "turn",
            "start": t.start,
            "end": t.end,
            "speaker": (t.speaker or None) and t.speaker[:100],
            "parent_id": None,
        }
        for t in turns
    ]
    if not turn_rows:
        return
    db.session.execute(sa.insert(Segment), turn_rows)
    ids = db.session.scalars(
        sa.select(Segment.id)
        .where(Segment.transcript_version_id == version.id)
        .order_by(Segment.start)
    ).all()
    text, ordered = version.text, sorted(turns, key=lambda t: t.start)
    index_turns(version.id, [(i, text[t.start : t.end]) for i, t in zip(ids, ordered, strict=True)])
    starts = [t.start for t in turns]
    sentence_rows = []
    for s in (s for s in segments if s.kind == "sentence"):
        # the turn a sentence lies in: the last turn starting at or before it
        idx = bisect_right(starts, s.start) - 1
        sentence_rows.append(
            {
                "transcript_version_id": version.id,
                "kind": "sentence",
                "start": s.start,
                "end": s.end,
                "speaker": (s.speaker or None) and s.speaker[:100],
                "parent_id": ids[idx] if idx >= 0 else None,
            }
        )
    if sentence_rows:
        db.session.execute(sa.insert(Segment), sentence_rows)
