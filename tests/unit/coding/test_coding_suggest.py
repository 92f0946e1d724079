"""Model suggestions over a transcript are spans of the exact text."""

from __future__ import annotations

import pytest

from coding.model import default_model_dir, load_model
from coding.suggest import suggest_codings

TEXT = (
    "Enquêteur : Comment vendez-vous à l'étranger ?\n"
    "R : Bon, euh, on passe par un distributeur exclusif en Italie, et on a un V.I.E au Japon.\n"
    "Enquêteur : Et la certification ?\n"
    "R : Sans l'ISO 9001 on n'entrait pas chez ce client allemand, voilà.\n"
)


@pytest.fixture(scope="module")
def shipped(codebook):
    return load_model(default_model_dir(), codebook)


def test_turn_suggestions_are_exact_spans(shipped, codebook):
    sugg = suggest_codings(TEXT, shipped, codebook, skip_speakers=frozenset({"Enquêteur"}))
    assert sugg, "the shipped model should suggest something on these turns"
    for s in sugg:
        piece = TEXT[s.start : s.end]
        assert piece == piece.strip() and not piece.startswith("R :")
        assert s.speaker == "R" and 0 <= s.confidence <= 1
        assert s.family == codebook.family_of(s.code)
    by_code = {s.code: TEXT[s.start : s.end] for s in sugg}
    assert "ISO 9001" in by_code.get("STR.CERT", "")


def test_family_level_and_sentences(shipped, codebook, sentence_nlp):
    sugg = suggest_codings(
        TEXT, shipped, codebook, unit="sentence", level="family", nlp=sentence_nlp
    )
    assert {s.code for s in sugg} <= set(codebook.families)
    assert suggest_codings("", shipped, codebook) == []
    with pytest.raises(ValueError, match="unit"):
        suggest_codings(TEXT, shipped, codebook, unit="page")
