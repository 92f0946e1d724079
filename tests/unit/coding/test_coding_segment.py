"""Segmentation: turns and sentences as exact [start, end) spans over the stored text."""

from __future__ import annotations

import unicodedata

import pytest
import spacy

from coding.segment import (
    language_warning,
    normalise_text,
    segment,
    segment_transcript,
    split_turns,
)

TRANSCRIPT = (
    "Enquêtrice : Bonjour, merci de me recevoir.\r\n"
    "Pouvez-vous présenter l’entreprise ?\r\n\r\n"
    "[00:01:02] Jean-Pierre Dupré : Oui. Euh, bon, on fabrique des vannes à Alès. "
    "On exporte au Québec depuis 2015.\r\n"
    "Q : Et la CCI ?\r\n"
    "R : Très bien, on se voit tous les mois… enfin, presque.\r\n"
    "00:03:10 Interviewée : Ça, c'est la Région qui pilote.\r\n"
    "PERS_012 (CCI) : D’accord.\r\n"
)


def _check_spans(text: str, segments) -> None:
    for seg in segments:
        piece = text[seg.start : seg.end]
        assert 0 <= seg.start < seg.end <= len(text)
        assert piece == piece.strip(), f"span not trimmed: {piece!r}"


def test_normalise_crlf_nfc_and_bom():
    raw = "\ufeffQ : e\u0301te\u0301\r\nR : oui\rfin"
    text = normalise_text(raw)
    assert text == "Q : été\nR : oui\nfin"
    assert unicodedata.is_normalized("NFC", text)


def test_turns_recognise_usual_prefixes():
    text = normalise_text(TRANSCRIPT)
    speakers = [t.speaker for t in split_turns(text)]
    assert speakers == ["Enquêtrice", "Jean-Pierre Dupré", "Q", "R", "Interviewée", "PERS_012"]


@pytest.mark.parametrize(
    "label",
    [
        "Q",
        "R",
        "I",
        "E",
        "Enquêteur",
        "Enquêtrice",
        "Interviewé",
        "Interviewée",
        "Marie",
        "Anne Le Gall",
    ],
)
def test_each_prefix_opens_a_turn(label):
    text = f"{label} : première réponse.\nQ: suite."
    turns = split_turns(text)
    assert turns[0].speaker == label
    assert text[turns[0].content_start : turns[0].end] == "première réponse."


def test_time_prefix_is_not_part_of_the_turn():
    text = normalise_text(TRANSCRIPT)
    turn = split_turns(text)[1]
    assert text[turn.start : turn.end].startswith("Jean-Pierre Dupré :")
    assert text[turn.content_start : turn.content_start + 4] == "Oui."


def test_sentence_words_do_not_become_speakers():
    text = "R : On a trois clients.\nDonc : voilà ce qu'on fait.\nExemple : le Maroc."
    assert [t.speaker for t in split_turns(text)] == ["R"]


def test_every_span_maps_back_to_the_exact_text(sentence_nlp):
    text = normalise_text(TRANSCRIPT)
    segs = segment(text, sentence_nlp)
    _check_spans(text, segs)
    sentences = [text[s.start : s.end] for s in segs if s.kind == "sentence"]
    assert "On exporte au Québec depuis 2015." in sentences
    assert "Ça, c'est la Région qui pilote." in sentences
    turns = [s for s in segs if s.kind == "turn"]
    for sent in (s for s in segs if s.kind == "sentence"):
        owner = [t for t in turns if t.start <= sent.start and sent.end <= t.end]
        assert len(owner) == 1 and owner[0].speaker == sent.speaker


def test_no_labels_gives_paragraph_turns(sentence_nlp):
    text = "Premier paragraphe. Deux phrases.\n\nSecond paragraphe, une phrase."
    segs = segment(text, sentence_nlp)
    assert [text[s.start : s.end] for s in segs if s.kind == "turn"] == [
        "Premier paragraphe. Deux phrases.",
        "Second paragraphe, une phrase.",
    ]
    assert all(s.speaker is None for s in segs)


def test_empty_text_gives_no_segments(sentence_nlp):
    assert segment("", sentence_nlp) == []
    assert segment("  \n\n ", sentence_nlp) == []
    assert split_turns("") == []


def test_other_language_is_flagged_not_crashing(sentence_nlp):
    text = (
        "Q: How did you start exporting?\nR: We went to the trade fair with the chamber "
        "of commerce and they helped us a lot with the paperwork for the first orders."
    )
    result = segment_transcript(text, sentence_nlp)
    assert result.language_warning and "French" in result.language_warning
    _check_spans(text, result.segments)
    assert language_warning(normalise_text(TRANSCRIPT) * 3) is None


def test_300k_characters(sentence_nlp):
    turn = (
        "R : Alors, euh, on travaille avec la CCI depuis longtemps, c'est régulier. "
        "On a appris beaucoup de choses à l'export, vraiment.\nQ : D'accord.\n"
    )
    text = (turn * (300_000 // len(turn) + 1))[:300_000]
    segs = segment(text, sentence_nlp)
    _check_spans(text, segs)
    assert sum(s.kind == "turn" for s in segs) > 2000


def test_one_huge_unpunctuated_turn_is_chunked():
    nlp = spacy.blank("fr")
    nlp.add_pipe("sentencizer")
    text = "R : " + "mot " * 60_000  # 240k characters, no sentence end
    segs = segment(text.strip(), nlp)
    _check_spans(text, segs)
    assert segs[0].kind == "turn" and segs[0].end == len(text.strip())
