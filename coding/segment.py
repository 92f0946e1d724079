"""Split transcript text into speaker turns and sentences as [start, end) character spans."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from spacy.language import Language

#: Time prefixes left over from subtitle exports: "[00:01:02]", "00:01:02", "(01:02.5)".
_TIME = r"(?:[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]?\s*(?:-->\s*\S+\s*)?)"
_KNOWN = r"Q|R|I|E|Enquêt(?:eur|rice)s?|Interviewé(?:e)?s?|Intervieweu(?:r|se)|Question|Réponse"
_NAME_WORD = r"(?:[A-ZÀ-ÖØ-Þ][\w'’.-]*)"
_NAME = rf"(?:{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}|[A-Z]+_\d+)"
_LABEL = re.compile(
    rf"^[ \t]*(?:{_TIME})?(?P<label>(?P<speaker>{_KNOWN}|{_NAME})[ \t]*(?:\([^)\n]{{0,40}}\))?)"
    rf"[ \t]*:(?!//)[ \t]*",
    re.MULTILINE,
)
_TIME_ONLY = re.compile(rf"^[ \t]*{_TIME}", re.MULTILINE)
#: Capitalised words that open ordinary sentences and must not be taken as speaker names.
_NOT_NAMES = frozenset(
    "Donc Mais Alors Bon Bref Et Ou Oui Non Si Voilà Exemple Note Remarque Attention Objet "
    "Conclusion Résultat Problème Question Réponse Total Ensuite Enfin Puis Parce Car Très "
    "Bien Ah Oh Euh Ben Bah Après Avant Maintenant Aujourd'hui Ici Là Pour Par Sur Sans En "
    "Le La Les Un Une Des Ce Cette Ces Mon Ma Mes Notre Nos Leur Leurs Il Elle Ils Elles On "
    "Nous Vous Je Tu Premier Première Deuxième Point Rappel Sujet Thème Durée Date Lieu".split()
)
_FR_WORDS = frozenset(
    "le la les de des du un une et est que qui on je nous vous pas ne ce ça c' en pour dans "
    "sur avec mais il elle ils y a au aux se sont plus très bon euh oui non alors donc".split()
)
_MAX_CHUNK = 100_000


@dataclass(frozen=True)
class Turn:
    """A speaker turn: [start, end) covers label and content; content starts at content_start."""

    start: int
    end: int
    speaker: str | None
    content_start: int


@dataclass(frozen=True)
class Segment:
    """A coding unit (turn or sentence) as a character span over the transcript."""

    kind: str
    speaker: str | None
    start: int
    end: int


@dataclass(frozen=True)
class SegmentationResult:
    """Segments plus a warning when the text does not look like French."""

    segments: list[Segment]
    language_warning: str | None


def normalise_text(raw: str) -> str:
    """Return text as stored: NFC, '\\n' line ends, no BOM."""
    text = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _labels(text: str) -> Iterator[re.Match[str]]:
    for m in _LABEL.finditer(text):
        speaker = m.group("speaker")
        if speaker.split()[0] in _NOT_NAMES:
            continue
        yield m


def _paragraph_turns(text: str, lo: int, hi: int) -> list[Turn]:
    turns = []
    for para in re.finditer(r"(?:[^\n]|\n(?![ \t]*\n))+", text[lo:hi]):
        start, end = _trim(text, lo + para.start(), lo + para.end())
        if end > start:
            start = _skip_time(text, start, end)
            turns.append(Turn(start, end, None, start))
    return turns


def _skip_time(text: str, start: int, end: int) -> int:
    m = _TIME_ONLY.match(text, start, end)
    return _trim(text, m.end(), end)[0] if m and m.end() < end else start


def split_turns(text: str) -> list[Turn]:
    """Split normalised text into speaker turns (paragraphs when no speaker labels occur)."""
    matches = list(_labels(text))
    if not matches:
        return _paragraph_turns(text, 0, len(text))
    turns = _paragraph_turns(text, 0, matches[0].start())
    for i, m in enumerate(matches):
        hi = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        start, end = _trim(text, m.start(), hi)
        start = _skip_time(text, start, end)
        content_start = min(m.end(), end)
        turns.append(Turn(start, end, m.group("speaker").strip(), content_start))
    return turns


def _chunks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut a long span at whitespace so no spaCy call sees more than _MAX_CHUNK chars."""
    while end - start > _MAX_CHUNK:
        cut = text.rfind("\n", start, start + _MAX_CHUNK)
        if cut <= start:
            cut = text.rfind(" ", start, start + _MAX_CHUNK)
        if cut <= start:
            cut = start + _MAX_CHUNK
        yield start, cut
        start = cut
    yield start, end


def _sentences(text: str, turns: list[Turn], nlp: Language) -> Iterator[tuple[Turn, int, int]]:
    pieces = [(t, a, b) for t in turns for a, b in _chunks(text, t.content_start, t.end)]
    docs = nlp.pipe((text[a:b] for _, a, b in pieces), batch_size=64)
    for (turn, a, _b), doc in zip(pieces, docs, strict=True):
        for sent in doc.sents:
            s, e = _trim(text, a + sent.start_char, a + sent.end_char)
            if e > s:
                yield turn, s, e


def segment(text: str, nlp: Language | None = None) -> list[Segment]:
    """Return turns then their sentences, ordered by position, as spans over `text`."""
    if not text.strip():
        return []
    if nlp is None:
        from coding.nlp import load_nlp

        nlp = load_nlp("sentences")
    turns = split_turns(text)
    out = [Segment("turn", t.speaker, t.start, t.end) for t in turns]
    out += [Segment("sentence", t.speaker, s, e) for t, s, e in _sentences(text, turns, nlp)]
    out.sort(key=lambda seg: (seg.start, seg.kind != "turn", seg.end))
    return out


def language_warning(text: str, min_words: int = 20) -> str | None:
    """Return a message when the text does not look like French, else None."""
    words = re.findall(r"\w+'?", text.lower())
    if len(words) < min_words:
        return None
    share = sum(w in _FR_WORDS for w in words) / len(words)
    if share < 0.08:
        return f"text does not look like French ({share:.0%} French function words)"
    return None


def segment_transcript(text: str, nlp: Language | None = None) -> SegmentationResult:
    """Segment a transcript and flag text that does not look like French."""
    return SegmentationResult(segment(text, nlp), language_warning(text))
