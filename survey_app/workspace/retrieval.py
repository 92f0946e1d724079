"""Retrieval: every passage coded with a code (or a family), with its case, coder and memo.

Reads go through `visible_codings_across` (the rule of `visible_codings_query`, over many
transcripts in one query), so a coder in an open blind round retrieves only their own codings
on that round's transcripts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from analysis.writers.tabular import neutralise_cell
from survey_app.codings.operations import visible_codings_across
from survey_app.core.paging import bounded_int
from survey_app.extensions import db
from survey_app.models import Code, Coding, CodingRound, TranscriptVersion, User
from survey_app.models.coding import FAMILIES
from survey_app.workspace import cases as cq

#: where a coding came from, as the retrieval filter names it
SOURCES = ("human", "model", "consensus")
#: passages shown on the page (the export holds them all)
PAGE_LIMIT = 500
#: characters of context shown on each side of a passage
CONTEXT = 160
EXPORT_COLUMNS = (
    "code",
    "code_label",
    "family",
    "case",
    "respondent_type",
    "territory",
    "departement",
    "coder",
    "source",
    "round",
    "valence",
    "intensity",
    "memo",
    "text",
    "transcript_version",
    "start",
    "end",
    "created",
)


@dataclass
class Filters:
    """What to retrieve: a code key or a family, narrowed by case, coder, round and source."""

    code: str = ""
    territory_id: int | None = None
    respondent_type: str = ""
    coder_id: int | None = None
    round_id: int | None = None
    source: str = ""
    version_id: int | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        source = args.get("source", "")
        return cls(
            code=args.get("code", "").strip()[:32],
            territory_id=args.get("territory_id", type=bounded_int),
            respondent_type=args.get("respondent_type", ""),
            coder_id=args.get("coder_id", type=bounded_int),
            round_id=args.get("round_id", type=bounded_int),
            source=source if source in SOURCES else "",
            version_id=args.get("version_id", type=bounded_int),
        )

    def query_args(self) -> dict[str, Any]:
        """The filters as URL arguments (empty ones left out)."""
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class Passage:
    coding: Coding
    case: cq.Case
    before: str
    text: str
    after: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        if self.coding.source == "consensus":
            return "consensus"
        return "model" if self.coding.suggestion_id else "human"


def _narrow(stmt: sa.Select, filters: Filters) -> sa.Select:
    if filters.code:
        if filters.code in FAMILIES:
            stmt = stmt.where(Coding.code.has(Code.family == filters.code))
        else:
            stmt = stmt.where(Coding.code.has(Code.key == filters.code))
    if filters.coder_id:
        stmt = stmt.where(Coding.coder_id == filters.coder_id)
    if filters.round_id:
        stmt = stmt.where(Coding.round_id == filters.round_id)
    if filters.source == "consensus":
        stmt = stmt.where(Coding.source == "consensus")
    elif filters.source == "human":
        stmt = stmt.where(Coding.source == "human", Coding.suggestion_id.is_(None))
    elif filters.source == "model":
        stmt = stmt.where(Coding.source == "human", Coding.suggestion_id.is_not(None))
    return stmt


def _context(text: str, start: int, end: int, width: int = CONTEXT) -> tuple[str, str, str]:
    """The passage with up to `width` characters each side, cut at a space."""
    lo = max(0, start - width)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else lo
    hi = min(len(text), end + width)
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space >= 0 else hi
    before = ("…" if lo > 0 else "") + text[lo:start]
    after = text[end:hi] + ("…" if hi < len(text) else "")
    return before, text[start:end], after


def retrieve(user: User, filters: Filters, cases: list | None = None) -> list[Passage]:
    """Return the passages the user may see that match the filters, case by case, in order.

    `cases` are `current_cases()` when the caller has them already."""
    cases = cq.filter_cases(
        cq.current_cases() if cases is None else cases,
        respondent_type=filters.respondent_type,
        territory_id=filters.territory_id,
    )
    if filters.version_id:
        cases = [c for c in cases if c.version.id == filters.version_id]
    by_version = {c.version.id: c for c in cases}
    stmt = visible_codings_across(user, list(by_version)).where(Coding.source != "model")
    stmt = _narrow(stmt, filters).options(selectinload(Coding.code), selectinload(Coding.coder))
    codings = list(db.session.scalars(stmt))
    texts = dict(
        db.session.execute(
            sa.select(TranscriptVersion.id, TranscriptVersion.text).where(
                TranscriptVersion.id.in_({c.transcript_version_id for c in codings})
            )
        ).all()
    )
    order = {vid: i for i, vid in enumerate(by_version)}
    codings.sort(key=lambda c: (order[c.transcript_version_id], c.start, c.end, c.id))
    return [
        Passage(
            c,
            by_version[c.transcript_version_id],
            *_context(texts[c.transcript_version_id], c.start, c.end),
        )
        for c in codings
    ]


def coders() -> list[User]:
    """Users who have made a coding, for the coder filter."""
    ids = sa.select(Coding.coder_id).where(Coding.coder_id.is_not(None)).distinct()
    return list(db.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.username)))


def rounds() -> list[CodingRound]:
    return list(db.session.scalars(sa.select(CodingRound).order_by(CodingRound.id.desc())))


def export_rows(passages: list[Passage], label: Any) -> list[list[Any]]:
    """One row per passage, in EXPORT_COLUMNS order, every text cell neutralised."""
    rows = []
    for p in passages:
        c = p.coding
        dept = p.case.territory("departement")
        rows.append(
            [
                neutralise_cell(v)
                for v in (
                    c.code.key,
                    label(c.code),
                    c.code.family,
                    p.case.pseudonym,
                    p.case.respondent_type,
                    p.case.territory_name("commune"),
                    dept.name if dept is not None else "",
                    c.coder.username if c.coder else "",
                    p.source,
                    c.round_id or "",
                    "" if c.valence is None else c.valence,
                    "" if c.intensity is None else c.intensity,
                    c.memo,
                    p.text,
                    c.transcript_version_id,
                    c.start,
                    c.end,
                    c.created_dt.isoformat(timespec="seconds"),
                )
            ]
        )
    return rows


def to_csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def to_xlsx(rows: list[list[Any]]) -> bytes:
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("passages")
    sheet.append(list(EXPORT_COLUMNS))
    for row in rows:
        # control characters are not allowed in XLSX cells: openpyxl refuses them
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
