"""Model suggestions: run a model on a transcript's turns, then accept or reject each one."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from coding.precision import DEFAULT_FLOOR, precision_at
from coding.precision import check_floor as library_check
from survey_app.codings.codebook_versions import current_codebook
from survey_app.codings.operations import create_coding, open_rounds_of, visible_codings_query
from survey_app.core.audit import record
from survey_app.core.refusals import UserError
from survey_app.extensions import db
from survey_app.models import Code, Coding, ModelVersion, Segment, TranscriptVersion, User, utcnow
from survey_app.workspace.model_versions import load_theme_model

CHUNK = 32
#: speaker labels of the interviewer: their questions are not coded, so not suggested either
INTERVIEWER = re.compile(
    r"^(?:Q|E|Question|Enquêt(?:eur|rice)s?|Intervieweu(?:r|se)s?)$", re.IGNORECASE
)


class SuggestionError(UserError):
    """A refused suggestion action (French and English)."""


def is_interviewer(speaker: str | None) -> bool:
    return bool(speaker) and bool(INTERVIEWER.match(speaker.strip()))


def turn_units(
    version: TranscriptVersion, respondent_only: bool = False
) -> list[tuple[Segment, int, int]]:
    """Return (turn segment, content start, end): the turn's text without its speaker label."""
    from coding.segment import split_turns  # spaCy import: only when needed

    content = {t.start: t.content_start for t in split_turns(version.text)}
    out = []
    for seg in version.segments:
        if seg.kind != "turn" or (respondent_only and is_interviewer(seg.speaker)):
            continue
        start = max(seg.start, min(content.get(seg.start, seg.start), seg.end))
        if version.text[start : seg.end].strip():
            out.append((seg, start, seg.end))
    return out


def current_code_for(key: str, codes: dict[str, Code]) -> Code | None:
    """Follow renames and merges to the usable code standing for `key` now, if any."""
    seen = set()
    while key in codes and key not in seen:
        seen.add(key)
        code = codes[key]
        if code.replaced_by_key:
            key = code.replaced_by_key
            continue
        return None if code.retired else code
    return None


def check_floor(value: Any) -> float:
    """Return a researcher's precision floor, or raise SuggestionError (French and English)."""
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        return library_check(value)
    except ValueError:
        raise SuggestionError(
            "Le seuil de précision doit être un nombre entre 0 et 1 (par exemple 0,6).",
            "The precision floor must be a number between 0 and 1 (for example 0.6).",
        ) from None


def measured_precision(coding: Coding) -> float | None:
    """Return the out-of-fold precision the suggestion's model measured at its score.

    None for human codings and for models trained without that measurement.
    """
    if coding.source != "model" or coding.model_version_id is None or coding.confidence is None:
        return None
    version = db.session.get(ModelVersion, coding.model_version_id)
    table = ((version.metrics or {}).get("precision") or {}).get("codes") if version else None
    entry = (table or {}).get(coding.code.key)
    return None if entry is None else precision_at(entry["curve"], coding.confidence)


def run_suggestions(
    version: TranscriptVersion,
    model_version: ModelVersion,
    progress: Callable[[float, str], None],
    user: User | None = None,
    floor: float = DEFAULT_FLOOR,
) -> dict[str, Any]:
    """Store the model's codes on each turn as pending suggestions (skipping known ones).

    A code is suggested only where its measured precision reaches `floor` (a model trained
    without that measurement falls back to its decision thresholds).
    """
    from coding.predict import decide  # scikit-learn and spaCy load in the job, not at start

    model, library_book = load_theme_model(model_version)
    book = current_codebook()
    codes = {c.key: c for c in book.codes}
    units = turn_units(version, respondent_only=True)
    known = {
        (c.start, c.end, c.code_id)
        for c in db.session.scalars(
            sa.select(Coding).where(
                Coding.transcript_version_id == version.id, Coding.source == "model"
            )
        )
    }
    created = 0
    for i in range(0, len(units), CHUNK):
        chunk = units[i : i + CHUNK]
        scores = model.predict_proba([version.text[a:b] for _, a, b in chunk])
        # the coding library's one rule for turning scores into codes (the precision floor)
        decided = decide(scores, model, library_book, floor=floor)
        for (seg, a, b), (keys, key_scores) in zip(chunk, decided, strict=True):
            for key in keys:
                code = current_code_for(key, codes)
                if code is None or (a, b, code.id) in known:
                    continue
                known.add((a, b, code.id))
                db.session.add(
                    Coding(
                        transcript_version_id=version.id,
                        segment_id=seg.id,
                        start=a,
                        end=b,
                        code_id=code.id,
                        coder_id=None,
                        source="model",
                        status="suggested",
                        model_version_id=model_version.id,
                        confidence=round(min(max(key_scores[key], 0.0), 1.0), 4),
                    )
                )
                created += 1
        db.session.flush()
        progress(min(1.0, (i + len(chunk)) / max(len(units), 1)), f"{i + len(chunk)}/{len(units)}")
    record(
        "coding.suggest",
        version,
        {
            "model_version": model_version.id,
            "suggestions": created,
            "turns": len(units),
            "floor": floor,
        },
        user=user,
    )
    return {
        "suggestions": created,
        "turns": len(units),
        "model_version": model_version.id,
        "floor": floor,
    }


def visible_suggestions_query(user: User, transcript_version_id: int) -> sa.Select:
    """Pending suggestions the user may see (none for a coder in an open blind round)."""
    return visible_codings_query(user, transcript_version_id, statuses=("suggested",)).where(
        Coding.source == "model"
    )


def suggestion_for(user: User, suggestion_id: int) -> Coding | None:
    """Load a pending suggestion through the visibility rule (None when not visible)."""
    suggestion = db.session.get(Coding, suggestion_id)
    if suggestion is None:
        return None
    stmt = visible_suggestions_query(user, suggestion.transcript_version_id).where(
        Coding.id == suggestion_id
    )
    return db.session.scalar(stmt)


def accept(suggestion: Coding, user: User) -> Coding:
    """Turn a suggestion into the user's own coding; the suggestion is marked accepted."""
    code = current_code_for(suggestion.code.key, {c.key: c for c in current_codebook().codes})
    if code is None:
        raise SuggestionError("Ce code n’est plus utilisable.", "This code can no longer be used.")
    coding = create_coding(
        db.session.get(TranscriptVersion, suggestion.transcript_version_id),
        suggestion.start,
        suggestion.end,
        code,
        user,
        suggestion=suggestion,
    )
    _decide(suggestion, "accepted", "suggestion.accept", user, coding.id)
    return coding


def reject(suggestion: Coding, user: User) -> None:
    """Mark a suggestion rejected; it stays as a negative example for training."""
    _decide(suggestion, "rejected", "suggestion.reject", user, None)


def _decide(
    suggestion: Coding, status: str, action: str, user: User, coding_id: int | None
) -> None:
    suggestion.status = status
    suggestion.updated_dt = utcnow()
    db.session.flush()
    record(
        action,
        suggestion,
        {"code": suggestion.code.key, "confidence": suggestion.confidence, "coding": coding_id},
        user=user,
    )


def suggestions_blocked(user: User, version: TranscriptVersion) -> bool:
    """Tell whether suggestions are off for this user here (open blind round: code unaided)."""
    return bool(open_rounds_of(user, version.id))
