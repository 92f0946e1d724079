"""Training data from the human codings: one row per speaker turn of a coded transcript."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from coding.model import train_model
from survey_app.codings.codebook_versions import current_codebook
from survey_app.codings.operations import LIVE_STATUSES
from survey_app.extensions import db
from survey_app.models import Code, Coding, CodingRound, ModelVersion, User
from survey_app.models.coding import IMPORTED_FAMILY
from survey_app.workspace.cases import current_cases
from survey_app.workspace.model_versions import library_codebook, store_trained_model
from survey_app.workspace.suggestions import current_code_for, is_interviewer, turn_units

MIN_ROWS = 6


class TrainingError(ValueError):
    """Too little coded data to train on."""


def training_rows() -> tuple[list[str], list[frozenset[str]], list[int]]:
    """Return texts, code sets and transcript groups of every turn of the coded transcripts.

    A transcript counts as coded when it has a human coding or a rejected suggestion; its
    respondent turns without codes are the negative examples.
    """
    codes = {c.key: c for c in current_codebook().codes}
    # blind codings of open rounds stay out until the round closes (no hint reaches the others)
    open_rounds = sa.select(CodingRound.id).where(CodingRound.status == "open")
    texts, sets, groups = [], [], []
    for case in current_cases():
        version = case.version
        rows = db.session.scalars(
            sa.select(Coding)
            .join(Code, Code.id == Coding.code_id)
            .where(
                Coding.transcript_version_id == version.id,
                # codes from another tool are not the classifier's themes: a transcript
                # coded with them alone is not a coded transcript here
                Code.family != IMPORTED_FAMILY,
                sa.or_(
                    sa.and_(Coding.source != "model", Coding.status.in_(LIVE_STATUSES)),
                    Coding.status == "rejected",
                ),
                sa.or_(Coding.round_id.is_(None), Coding.round_id.not_in(open_rounds)),
            )
        ).all()
        if not rows:
            continue
        units = turn_units(version)
        starts = [seg.start for seg, _a, _b in units]
        labels: list[set[str]] = [set() for _ in units]
        for coding in rows:
            if coding.status == "rejected":
                continue
            code = current_code_for(coding.code.key, codes)
            idx = bisect_right(starts, coding.start) - 1
            if code is not None and idx >= 0 and coding.start < units[idx][0].end:
                labels[idx].add(code.key)
        for (seg, a, b), found in zip(units, labels, strict=True):
            if not found and is_interviewer(seg.speaker):
                continue  # uncoded questions are not examples of anything
            texts.append(version.text[a:b])
            sets.append(frozenset(found))
            groups.append(version.id)
    return texts, sets, groups


def retrain(
    folder: Path, user: User | None, progress: Callable[[float, str], None], folds: int = 5
) -> ModelVersion:
    """Train a new (inactive) model version on the current human codings."""
    texts, sets, groups = training_rows()
    if len(texts) < MIN_ROWS or not any(sets):
        raise TrainingError(
            f"not enough coded turns to train a model ({len(texts)} turns, "
            f"{sum(bool(s) for s in sets)} with codes)"
        )
    progress(0.1, f"{len(texts)} turns")
    book_version = current_codebook()
    book = library_codebook(book_version)
    folds = max(2, min(folds, len(texts)))
    done = [0]

    def fold_done(_message: str) -> None:
        done[0] += 1
        progress(0.1 + 0.8 * done[0] / folds, _message)

    model = train_model(texts, sets, book, "code", folds=folds, groups=groups, progress=fold_done)
    progress(0.95, "saving")
    return store_trained_model(model, book_version, folder, user)
