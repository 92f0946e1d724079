"""Suggest codings for one transcript: segment it, score each unit, return spans with codes."""

from __future__ import annotations

from dataclasses import dataclass

from spacy.language import Language

from coding.codebook import Codebook
from coding.model import ThemeModel
from coding.predict import decide
from coding.segment import segment, split_turns


@dataclass(frozen=True)
class Suggestion:
    """A model coding: a [start, end) span of the transcript with a code and its score."""

    start: int
    end: int
    code: str
    family: str
    confidence: float
    speaker: str | None


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
) -> list[Suggestion]:
    """Return one suggestion per (unit, predicted code), in text order.

    `skip_speakers` leaves out e.g. the interviewer's turns ({"Q", "Enquêteur"}).
    """
    units = [u for u in _units(text, unit, nlp) if u[2] not in skip_speakers]
    if not units:
        return []
    scores = model.predict_proba([text[a:b] for a, b, _ in units])
    out = []
    for (a, b, who), (codes, sc) in zip(units, decide(scores, model, codebook, level), strict=True):
        for code in codes:
            out.append(Suggestion(a, b, code, codebook.family_of(code), sc[code], who))
    return out
