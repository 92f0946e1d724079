"""Full-text search over the speaker turns of current transcript versions.

The database does the searching: an FTS5 table on SQLite, a `tsvector` column with a GIN
index on PostgreSQL (configuration `milieu_french`: the 'french' configuration, plus accent
folding when the server has the unaccent extension). Both are filled by `index_turns`, which
storing a transcript version calls in the same transaction, so a new version is searchable as
soon as it is stored (migration 8d3f6a1c2b90 replaced the first revision's per-row trigger,
whose substr() read the whole text once per turn). The tables are not models; `include_name`
keeps autogenerate away from them.

SQLite's tokenizer does not stem French: each query word drops a plural s, x or -aux and matches
as a prefix ("exportations" finds "exportation" and "exportations"). PostgreSQL stems with its
French Snowball dictionary. Hits are text, not codings: blind-round rules do not apply, only
who may read the transcript (a fieldworker: their own interviews).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import Markup, escape

from survey_app.extensions import db
from survey_app.models import Interview, Organisation, Transcript, TranscriptVersion, User

#: tables, triggers and indexes the migrations create outside the models
FTS_PREFIX = "transcript_fts"
#: the PostgreSQL text search configuration the index and queries use
PG_CONFIG = "milieu_french"
#: highlight markers inside snippets (private-use characters, removed from the text first)
START, STOP = "\ue000", "\ue001"
#: words of context in a snippet
SNIPPET_WORDS = 24
MAX_HITS = 200
MAX_QUERY = 200


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Autogenerate hook: the full-text tables and indexes are the migration's, not a model's."""
    return not (name or "").startswith((FTS_PREFIX, "ix_" + FTS_PREFIX))


def index_turns(version_id: int, turns: list[tuple[int, str]]) -> None:
    """Add the speaker turns (segment id, text) of a newly stored version to the index."""
    if not turns:
        return
    if db.session.get_bind().dialect.name == "sqlite":
        columns = "rowid, body, transcript_version_id) VALUES (:id, :body, :v)"
    else:
        columns = "segment_id, transcript_version_id, body) VALUES (:id, :v, :body)"
    sql = f"INSERT INTO transcript_fts ({columns}"
    rows = [{"id": segment_id, "body": body, "v": version_id} for segment_id, body in turns]
    db.session.execute(sa.text(sql), rows)


class SearchError(ValueError):
    """A query that cannot be searched (nothing to look for)."""


@dataclass
class Hit:
    version_id: int
    interview_id: int
    pseudonym: str
    segment_id: int
    #: offsets of the first highlighted word in the transcript text (None when not located)
    start: int | None
    end: int | None
    snippet: Markup


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fts5_query(text: str) -> str:
    """Turn what a user typed into an FTS5 query: every word, plural dropped, as a prefix.

    Words of one or two letters ("de", "la") match only themselves: as prefixes they would
    find most of the text.
    """
    terms = []
    for word in re.findall(r"\w+", _fold(text[:MAX_QUERY])):
        if len(word) > 4 and word.endswith("aux"):
            word = word[:-2]  # régionaux -> regiona*: régional, régionale, régionaux
        elif len(word) > 3 and word[-1] in "sx":
            word = word[:-1]
        terms.append(f'"{word}"*' if len(word) > 2 else f'"{word}"')
    if not terms:
        raise SearchError(text)
    return " ".join(terms)


def readable_versions(user: User) -> sa.Select:
    """Ids of the current transcript versions the user may read (fieldworkers: their own)."""
    latest = (
        sa.select(sa.func.max(TranscriptVersion.id))
        .group_by(TranscriptVersion.transcript_id)
        .scalar_subquery()
    )
    # version numbers grow with ids: the highest id of a transcript is its current version
    stmt = sa.select(TranscriptVersion.id).where(TranscriptVersion.id.in_(latest))
    if user.role == "fieldworker":
        stmt = (
            stmt.join(Transcript, Transcript.id == TranscriptVersion.transcript_id)
            .join(Interview, Interview.id == Transcript.interview_id)
            .where(Interview.fieldworker_id == user.id)
        )
    elif user.role not in ("researcher", "admin"):
        stmt = stmt.where(sa.false())
    return stmt


def _raw_hits(query: str, version_ids: list[int], limit: int) -> list[tuple]:
    """(segment id, version id, turn start, turn text, snippet) rows, best first."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        stmt = sa.text(
            "SELECT f.rowid, f.transcript_version_id, s.start, f.body, "
            "snippet(transcript_fts, 0, :a, :b, '…', :words) "
            "FROM transcript_fts f JOIN segments s ON s.id = f.rowid "
            "WHERE transcript_fts MATCH :q AND f.transcript_version_id IN :ids "
            "ORDER BY f.rank, f.rowid LIMIT :limit"
        )
        params = {"q": fts5_query(query)}
    else:
        if not re.search(r"\w", query):
            raise SearchError(query)
        stmt = sa.text(
            "SELECT f.segment_id, f.transcript_version_id, s.start, f.body, "
            "ts_headline(CAST(:config AS regconfig), f.body, tq, :options) "
            "FROM transcript_fts f JOIN segments s ON s.id = f.segment_id, "
            "websearch_to_tsquery(CAST(:config AS regconfig), :q) tq "
            "WHERE f.tsv @@ tq AND f.transcript_version_id IN :ids "
            "ORDER BY ts_rank(f.tsv, tq) DESC, f.segment_id LIMIT :limit"
        )
        params = {
            "q": query[:MAX_QUERY],
            "config": PG_CONFIG,
            "options": f'StartSel="{START}", StopSel="{STOP}", '
            f"MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, ShortWord=2",
        }
    stmt = stmt.bindparams(sa.bindparam("ids", expanding=True))
    params.update(ids=version_ids, limit=limit, a=START, b=STOP, words=SNIPPET_WORDS)
    return [tuple(r) for r in db.session.execute(stmt, params)]


def _render(snippet: str) -> Markup:
    """Escape the snippet's text; turn the markers into <mark> elements."""
    out = []
    for piece in re.split(f"({START}|{STOP})", snippet):
        if piece == START:
            out.append(Markup("<mark>"))
        elif piece == STOP:
            out.append(Markup("</mark>"))
        else:
            out.append(escape(piece))
    return Markup("").join(out)


def _locate(body: str, snippet: str) -> tuple[int, int] | None:
    """Offsets in the turn of the first highlighted word, found through the snippet."""
    if START not in snippet:
        return None
    plain = snippet.strip("…")
    head = plain.split(START, 1)[0]
    word = plain.split(START, 1)[1].split(STOP, 1)[0]
    clean = plain.replace(START, "").replace(STOP, "")
    at = body.find(clean)
    if at >= 0:
        start = at + len(head.replace(STOP, ""))
        return start, start + len(word)
    at = body.find(word)
    return (at, at + len(word)) if at >= 0 else None


def search(user: User, query: str, version_id: int | None = None) -> list[Hit]:
    """Search the current transcripts the user may read (or one of them); best hits first."""
    allowed = readable_versions(user)
    if version_id is not None:
        allowed = allowed.where(TranscriptVersion.id == version_id)
    ids = list(db.session.scalars(allowed))
    if not ids:
        return []
    rows = _raw_hits(query.replace(START, "").replace(STOP, ""), ids, MAX_HITS)
    # one query for the hits' cases, without loading the transcripts' text
    cases = {
        vid: (interview_id, pseudonym)
        for vid, interview_id, pseudonym in db.session.execute(
            sa.select(TranscriptVersion.id, Interview.id, Organisation.pseudonym)
            .join(Transcript, Transcript.id == TranscriptVersion.transcript_id)
            .join(Interview, Interview.id == Transcript.interview_id)
            .join(Organisation, Organisation.id == Interview.organisation_id)
            .where(TranscriptVersion.id.in_({r[1] for r in rows}))
        )
    }
    hits = []
    for segment_id, vid, turn_start, body, snippet in rows:
        place = _locate(body, snippet)
        interview_id, pseudonym = cases[vid]
        hits.append(
            Hit(
                version_id=vid,
                interview_id=interview_id,
                pseudonym=pseudonym,
                segment_id=segment_id,
                start=turn_start + place[0] if place else None,
                end=turn_start + place[1] if place else None,
                snippet=_render(snippet),
            )
        )
    if version_id is not None:
        hits.sort(key=lambda h: (h.start is None, h.start or 0))
    return hits
