"""Suggest codings for one transcript: segment it, score each unit, return spans with codes."""

from __future__ import annotations

from dataclasses import dataclass

from spacy.language import Language

from coding.codebook import Codebook
from coding.model import ThemeModel
from coding.precision import DEFAULT_FLOOR
from coding.predict import decide, measured_precision
from coding.segment import segment, split_turns


@dataclass(frozen=True)
class Suggestion:
    """A model coding: a [start, end) span of the transcript with a code and its score.

    `precision` is the out-of-fold precision training measured at that score (None when the
    model was trained without cross-validation).
    """

    start: int
    end: int
    code: str
    family: str
    confidence: float
    speaker: str | None
    precision: float | None = None


def _units(text: str, unit: str, nlp: Language | None) -> list[tuple[int, int, str | None]]:
    if unit == "turn":
        # Score the turn's content, not its "Speaker :" label.
        return [
            (t.content_start, t.end, t.speaker)
            for t in split_turns(text)
            if t.end > t.content_start
        ]
    if unit == "sentence":
        return [(s.start, s.end, s.speaker) for s in segment(text, nlp) if s.kind == "sentence"]
    raise ValueError(f"unknown unit {unit!r}; expected 'turn' or 'sentence'")


def suggest_codings(
    text: str,
    model: ThemeModel,
    codebook: Codebook,
    unit: str = "turn",
    level: str = "code",
    skip_speakers: frozenset[str] = frozenset(),
    nlp: Language | None = None,
    floor: float | None = DEFAULT_FLOOR,
) -> list[Suggestion]:
    """Return one suggestion per (unit, suggested code), in text order.

    Only codes whose measured precision at that score reaches `floor` are suggested (None:
    the model's decision thresholds). `skip_speakers` leaves out e.g. the interviewer's turns
    ({"Q", "Enquêteur"}).
    """
    units = [u for u in _units(text, unit, nlp) if u[2] not in skip_speakers]
    if not units:
        return []
    scores = model.predict_proba([text[a:b] for a, b, _ in units])
    out = []
    decided = decide(scores, model, codebook, level, floor)
    for (a, b, who), (codes, sc) in zip(units, decided, strict=True):
        for code in codes:
            prec = measured_precision(model, level, code, sc[code])
            out.append(Suggestion(a, b, code, codebook.family_of(code), sc[code], who, prec))
    return out
