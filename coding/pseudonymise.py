"""Pseudonymisation of transcripts and datasets, with codings kept on their text.

Persons, organisations and places are found by spaCy's named-entity recogniser
(`fr_core_news_md`, only its tok2vec and ner components run) and by exact matching of known
names: the organisation registry and a project list of extra terms, matched whole-word,
ignoring case and accents. Each distinct name gets a stable token (PERS_001, FIRM_001,
LIEU_001) kept in a key table, to be stored apart and shown to admins only. Known names win
over model entities where they overlap.

Replacing a name changes the text's length, so every coding and segment offset is remapped:
a span that covered a name, or part of it, covers its whole token afterwards.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, TypeVar

import pandas as pd

#: An analysis.datasets.Dataset. `coding` never imports `analysis` (see docs/ARCHITECTURE.md): the
#: bundle is used through its tables and copied with dataclasses.replace.
Dataset = TypeVar("Dataset")

#: Question types whose answers are free text, hence may name people, firms or places.
FREE_TEXT_TYPES = {"text", "long_text", "open", "note", "string"}

#: Model entity labels -> token kind (WikiNER labels of the French models, plus GPE).
NER_KINDS = {"PER": "PERS", "PERSON": "PERS", "ORG": "FIRM", "LOC": "LIEU", "GPE": "LIEU"}
KINDS = ("PERS", "FIRM", "LIEU")
#: Words the model tags as entities in interview prose that identify no one.
DEFAULT_IGNORE = frozenset({
    "bonjour", "merci", "oui", "non", "voila", "bon", "alors", "euh", "monsieur", "madame",
    "cci", "cma", "bpi", "bpifrance", "business france", "team france export", "region",
    "departement", "etat", "europe", "ue", "pme", "eti", "cce", "vie", "v.i.e", "iso",
})
#: Export destinations are research content and identify no one: countries and continents
#: stay in clear unless listed as extra terms.
DESTINATIONS = frozenset({
    "afrique", "amerique", "amerique du nord", "amerique latine", "asie", "europe",
    "moyen-orient", "maghreb", "oceanie", "allemagne", "belgique", "benelux", "pays-bas",
    "luxembourg", "suisse", "italie", "espagne", "portugal", "royaume-uni", "angleterre",
    "irlande", "autriche", "pologne", "suede", "norvege", "danemark", "finlande", "grece",
    "roumanie", "tchequie", "hongrie", "russie", "ukraine", "turquie", "maroc", "algerie",
    "tunisie", "egypte", "senegal", "cote d'ivoire", "afrique du sud", "nigeria", "israel",
    "liban", "emirats", "dubai", "arabie saoudite", "qatar", "inde", "chine", "japon",
    "coree", "coree du sud", "vietnam", "singapour", "thailande", "indonesie", "australie",
    "etats-unis", "usa", "canada", "quebec", "mexique", "bresil", "argentine", "chili",
    "colombie", "perou", "france",
})
_EDGE_WORDS = re.compile(r"^(?:(?:de|du|des|la|le|les|l'|d'|a|au|aux|en)\s+)+|"
                         r"(?:\s+(?:de|du|des|la|le|les|a|au|aux|en))+$", re.IGNORECASE)
TERRITORY_LEVELS = ("commune", "zone_emploi", "departement", "region")


class PseudonymisationError(RuntimeError):
    """Pseudonymisation cannot run as asked (e.g. the NER model is missing)."""


@dataclass(frozen=True)
class Replacement:
    """One name replaced: its span in the original and in the pseudonymised text."""

    start: int
    end: int
    new_start: int
    new_end: int
    original: str
    token: str
    kind: str


def _fold_char(ch: str) -> str:
    ch = "'" if ch in "’ʼ`´" else ch
    decomposed = unicodedata.normalize("NFD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold(text: str) -> str:
    """Return `text` without accents or case, for matching names."""
    return "".join(_fold_char(ch) for ch in text)


def name_key(text: str) -> str:
    """Return the matching key of a name: folded, whitespace collapsed."""
    return " ".join(fold(text).split())


def _folded_with_map(text: str) -> tuple[str, list[int]]:
    """Fold `text` and map each folded position back to its original character."""
    pieces, origin = [], []
    for index, ch in enumerate(text):
        folded = _fold_char(ch)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    origin.append(len(text))
    return "".join(pieces), origin


@lru_cache(maxsize=2)
def load_ner(model: str = "fr_core_news_md") -> Any:
    """Load a spaCy pipeline with only what NER needs, once per process."""
    import spacy

    try:
        nlp = spacy.load(model, exclude=["parser", "lemmatizer", "morphologizer",
                                         "attribute_ruler", "senter"])
    except OSError as exc:
        # No silent fallback: pseudonymising without the recogniser would leak names.
        raise PseudonymisationError(
            f"spaCy model {model!r} is not installed; install it, or pass model=None to "
            "replace only the registry names and the project's extra terms") from exc
    if "ner" not in nlp.pipe_names:
        raise PseudonymisationError(f"spaCy model {model!r} has no named-entity recogniser")
    nlp.max_length = max(nlp.max_length, 5_000_000)
    return nlp


class Pseudonymiser:
    """Replace names by stable tokens, remembering the key original -> token."""

    def __init__(self, terms: Mapping[str, str] | Iterable[tuple[str, str]] = (),
                 organisations: Iterable[str] = (), key: pd.DataFrame | None = None,
                 nlp: Any = None, model: str | None = "fr_core_news_md",
                 ignore: Iterable[str] = DEFAULT_IGNORE | DESTINATIONS) -> None:
        """Set up with extra `terms` {term: kind}, registry names and an earlier key table."""
        self._tokens: dict[str, str] = {}
        self._kind_of: dict[str, str] = {}
        self._rows: list[dict[str, str]] = []
        self._originals: set[str] = set()
        self._counters = dict.fromkeys(KINDS, 0)
        self._nlp = nlp if nlp is not None else (load_ner(model) if model else None)
        self._ignore = {name_key(w) for w in ignore}
        self._terms: dict[str, str] = {}
        self._compiled: re.Pattern[str] | None = None
        if key is not None:
            self._load_key(key)
        items = terms.items() if isinstance(terms, Mapping) else terms
        for term, kind in items:
            self.add_term(term, kind)
        for name in organisations:
            self.add_term(name, "FIRM")

    # -- the key ------------------------------------------------------------------------

    def _load_key(self, key: pd.DataFrame) -> None:
        for row in key.itertuples():
            folded = name_key(str(row.original))
            self._tokens[folded], self._kind_of[folded] = str(row.token), str(row.kind)
            # Names of an earlier key are known names: replace them wherever they appear.
            self._terms[folded] = str(row.kind)
            self._rows.append({"original": str(row.original), "token": str(row.token),
                               "kind": str(row.kind)})
            self._originals.add(str(row.original))
            number = int(str(row.token).rsplit("_", 1)[-1])
            self._counters[str(row.kind)] = max(self._counters.get(str(row.kind), 0), number)

    def token_for(self, original: str, kind: str) -> str:
        """Return the token of a name, creating the next one of its kind when new."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        folded = name_key(original)
        if folded not in self._tokens:
            self._counters[kind] += 1
            self._tokens[folded] = f"{kind}_{self._counters[kind]:03d}"
            self._kind_of[folded] = kind
        token = self._tokens[folded]
        if original not in self._originals:
            self._originals.add(original)
            self._rows.append({"original": original, "token": token,
                               "kind": self._kind_of[folded]})
        return token

    def key_table(self) -> pd.DataFrame:
        """Return the correspondence key (original, token, kind): admins only."""
        return pd.DataFrame(self._rows, columns=["original", "token", "kind"])

    def add_term(self, term: str, kind: str) -> None:
        """Add a name always to replace (whole word, case and accent insensitive)."""
        term = str(term).strip()
        if term:
            self._terms[name_key(term)] = kind
            self.token_for(term, kind)
            self._compiled = None

    # -- finding names ------------------------------------------------------------------

    def _pattern(self) -> re.Pattern[str] | None:
        if self._compiled is None and self._terms:
            alternatives = [r"\s+".join(re.escape(w) for w in t.split())
                            for t in sorted(self._terms, key=len, reverse=True)]
            self._compiled = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")
        return self._compiled

    def _term_spans(self, text: str) -> list[tuple[int, int, str]]:
        pattern = self._pattern()
        if pattern is None:
            return []
        folded, origin = _folded_with_map(text)
        spans = []
        for match in pattern.finditer(folded):
            kind = self._terms[" ".join(match.group().split())]
            spans.append((origin[match.start()], origin[match.end() - 1] + 1, kind))
        return spans

    def _entity_spans(self, doc: Any, text: str) -> list[tuple[int, int, str]]:
        # `text` is the doc's text: spaCy rebuilds doc.text from every token on each access.
        spans = []
        for ent in doc.ents:
            kind = NER_KINDS.get(ent.label_)
            if kind is None:
                continue
            start, end = _trim(text, ent.start_char, ent.end_char)
            surface = text[start:end]
            if len(surface) < 2 or not any(c.isupper() for c in surface) or \
                    name_key(surface) in self._ignore:
                continue
            spans.append((start, end, kind))
        return spans

    def find(self, text: str, doc: Any = None) -> list[tuple[int, int, str]]:
        """Return the non-overlapping name spans (start, end, kind) of `text`, in order."""
        known = self._term_spans(text)
        if doc is None and self._nlp is not None:
            doc = self._nlp(text)
        found = self._entity_spans(doc, text) if doc is not None else []
        return _merge(known, found)

    # -- replacing ----------------------------------------------------------------------

    def pseudonymise(self, text: str, doc: Any = None) -> tuple[str, list[Replacement]]:
        """Return the pseudonymised text and the replacements made."""
        parts, replacements, cursor, shift = [], [], 0, 0
        for start, end, kind in self.find(text, doc):
            original = text[start:end]
            token = self.token_for(original, self._kind_of.get(name_key(original), kind))
            parts.append(text[cursor:start])
            new_start = start + shift
            replacements.append(Replacement(start, end, new_start, new_start + len(token),
                                            original, token, kind))
            parts.append(token)
            shift += len(token) - (end - start)
            cursor = end
        parts.append(text[cursor:])
        return "".join(parts), replacements

    def pseudonymise_many(self, texts: Sequence[str],
                          batch_size: int = 16) -> list[tuple[str, list[Replacement]]]:
        """Pseudonymise several texts, batching the model over them."""
        if self._nlp is None:
            return [self.pseudonymise(t) for t in texts]
        docs = self._nlp.pipe(texts, batch_size=batch_size)
        return [self.pseudonymise(t, d) for t, d in zip(texts, docs, strict=True)]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop leading/trailing articles and prepositions the model glued to a name."""
    surface = text[start:end]
    match = _EDGE_WORDS.search(surface)
    while match and match.group():
        if match.start() == 0:
            start += match.end()
        else:
            end -= len(surface) - match.start()
        surface = text[start:end]
        match = _EDGE_WORDS.search(surface)
    return start, end


def _merge(preferred: list[tuple[int, int, str]],
           others: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Merge spans, keeping preferred ones and then the longest, none overlapping."""
    ranked = [(0, -(e - s), s, e, k) for s, e, k in preferred]
    ranked += [(1, -(e - s), s, e, k) for s, e, k in others]
    chosen: list[tuple[int, int, str]] = []
    for _, _, start, end, kind in sorted(ranked):
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, kind))
    return sorted(chosen)


# --- offsets ---------------------------------------------------------------------------


def remap_offset(position: int, replacements: Sequence[Replacement], side: str) -> int:
    """Map an offset of the original text onto the pseudonymised text.

    `side="start"` maps a position inside a replaced name to the token's start,
    `side="end"` to the token's end, so a span keeps covering the whole token.
    """
    starts = [r.start for r in replacements]
    index = bisect.bisect_right(starts, position) - 1
    if index < 0:
        return position
    r = replacements[index]
    if position >= r.end:
        return position + (r.new_end - r.end)
    if position == r.start:
        return r.new_start
    return r.new_start if side == "start" else r.new_end


def _remap_spans(frame: pd.DataFrame, replacements: Mapping[Any, list[Replacement]]) -> \
        pd.DataFrame:
    frame = frame.copy()
    if not len(frame):
        return frame
    starts, ends = [], []
    for tid, start, end in zip(frame["transcript_id"], frame["start"], frame["end"],
                               strict=True):
        reps = replacements.get(tid, [])
        starts.append(remap_offset(int(start), reps, "start"))
        ends.append(remap_offset(int(end), reps, "end"))
    frame["start"], frame["end"] = starts, ends
    return frame


# --- datasets --------------------------------------------------------------------------


def pseudonymise_dataset(ds: Dataset, pseudonymiser: Pseudonymiser | None = None,
                         territory_level: str = "commune",
                         relay_families: Mapping[str, str] | None = None) -> \
        tuple[Dataset, pd.DataFrame]:
    """Return a pseudonymised copy of `ds` and the key table (to keep apart).

    Replaces names in transcripts, segments, free-text answers and organisation names,
    remaps coding and segment offsets, and optionally coarsens territories (up to
    `territory_level`) and relay-actor categories (to their family via `relay_families`).
    Users' names and `extra_tables` pass through unchanged.
    """
    p = pseudonymiser or Pseudonymiser()
    for name in ds.organisations["name"].dropna().astype(str):
        p.add_term(name, "FIRM")
    transcripts, replacements = _pseudonymise_transcripts(ds.transcripts, p)
    segments = _remap_spans(ds.segments, replacements)
    texts = dict(zip(transcripts["transcript_id"], transcripts["text"], strict=True))
    if len(segments):
        segments["text"] = [texts.get(t, "")[s:e] for t, s, e in
                            zip(segments["transcript_id"], segments["start"],
                                segments["end"], strict=True)]
        segments["speaker"] = _pseudonymise_labels(segments["speaker"], p)
    orgs = ds.organisations.copy()
    orgs["name"] = orgs["name"].map(lambda n: p.token_for(str(n), "FIRM") if
                                    isinstance(n, str) and n else n)
    result = replace(ds, transcripts=transcripts, segments=segments,
                     codings=_remap_spans(ds.codings, replacements),
                     answers_long=_pseudonymise_answers(ds, p), organisations=orgs)
    result = coarsen_territory(result, territory_level)
    if relay_families is not None:
        result = coarsen_relay_roles(result, relay_families)
    return result, p.key_table()


def _pseudonymise_transcripts(transcripts: pd.DataFrame, p: Pseudonymiser) -> \
        tuple[pd.DataFrame, dict[Any, list[Replacement]]]:
    transcripts = transcripts.copy()
    texts = [str(t or "") for t in transcripts["text"]]
    results = p.pseudonymise_many(texts)
    transcripts["text"] = [text for text, _ in results]
    transcripts["sha256"] = [hashlib.sha256(t.encode("utf-8")).hexdigest()
                             for t in transcripts["text"]]
    replacements = {tid: reps for tid, (_, reps) in
                    zip(transcripts["transcript_id"], results, strict=True)}
    return transcripts, replacements


def _pseudonymise_labels(labels: pd.Series, p: Pseudonymiser) -> pd.Series:
    """Pseudonymise short labels (speaker names) once per distinct value."""
    distinct = [str(v) for v in labels.dropna().unique()]
    mapping = dict(zip(distinct, (text for text, _ in p.pseudonymise_many(distinct)),
                       strict=True))
    return labels.map(lambda v: mapping.get(str(v), v) if isinstance(v, str) else v)


def _pseudonymise_answers(ds: Dataset, p: Pseudonymiser) -> pd.DataFrame:
    answers = ds.answers_long.copy()
    described = {k: str(meta.get("type") or "text").split()[0]
                 for questions in ds.instruments.values() for k, meta in questions.items()}
    # A key no instrument describes is treated as free text: better a token too many.
    free = {k for k in answers["question_key"].dropna().unique()
            if described.get(k, "text") in FREE_TEXT_TYPES}
    mask = answers["question_key"].isin(free) & answers["value"].notna()
    if mask.any():
        values = answers.loc[mask, "value"].astype(str).tolist()
        answers.loc[mask, "value"] = [text for text, _ in p.pseudonymise_many(values)]
    return answers


def coarsen_territory(ds: Dataset, level: str) -> Dataset:
    """Blank territory columns finer than `level` (commune < zone_emploi < departement...)."""
    if level not in TERRITORY_LEVELS:
        raise ValueError(f"territory level must be one of {', '.join(TERRITORY_LEVELS)}")
    if level == "commune":
        return ds
    rank = TERRITORY_LEVELS.index(level)
    interviews = ds.interviews.copy()
    for finer in TERRITORY_LEVELS[:rank]:
        interviews[finer] = None
    orgs = ds.organisations.copy()
    # The registry keeps a commune code; replace it by the code at the chosen level.
    lookup = dict(zip(ds.interviews["commune"], ds.interviews[level], strict=True))
    orgs["territory_code"] = orgs["territory_code"].map(lambda c: lookup.get(c))
    return replace(ds, interviews=interviews, organisations=orgs)


def coarsen_relay_roles(ds: Dataset, families: Mapping[str, str]) -> Dataset:
    """Replace each relay-actor category by its family (e.g. 'cci' -> 'consular_state')."""
    orgs = ds.organisations.copy()
    unknown = sorted({c for c in orgs["relay_category"].dropna() if c not in families})
    if unknown:
        raise ValueError(f"relay category {unknown[0]!r} has no family in the typology")
    orgs["relay_category"] = orgs["relay_category"].map(
        lambda c: families[c] if isinstance(c, str) else c)
    return replace(ds, organisations=orgs)
