"""Read the CSV export of ODK Central or KoboToolbox for an instrument's XLSForm.

Columns are mapped to question keys whatever the group prefix (``grp-a5``, ``group/a5``);
meta columns (``KEY``, ``SubmissionDate``, ``meta-instanceID``, ``_uuid``...) are kept
apart; a select_multiple comes as space-separated values or as ``key/choice`` 0/1 columns.
Every row is checked against the instrument; one refused value refuses the whole file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .answers import clean_answers, validate_answers
from .definitions import Instrument, Question, iter_questions

META_COLUMNS = frozenset(
    {
        "key",
        "submissiondate",
        "submitterid",
        "submittername",
        "attachmentspresent",
        "attachmentsexpected",
        "status",
        "reviewstate",
        "deviceid",
        "edits",
        "formversion",
        "instanceid",
        "instancename",
        "start",
        "end",
        "today",
        "username",
        "phonenumber",
        "simserial",
        "subscriberid",
        "audit",
        "version",
        "rootuuid",
        "deprecatedid",
    }
)
META_GROUPS = frozenset({"meta", "formhub", "__system"})
#: where a submission's id is read, the most stable first: ODK Central's KEY and Kobo's
#: rootUuid stay the same when a submission is edited; instanceID and _uuid do not.
ID_COLUMNS = (
    "key",
    "meta/rootuuid",
    "meta-rootuuid",
    "rootuuid",
    "meta-instanceid",
    "meta/instanceid",
    "instanceid",
    "_uuid",
)
#: the question of a Milieu XLSForm that names the organisation (a meta column here)
ORGANISATION_COLUMN = "milieu_organisation"
DATE_COLUMNS = ("submissiondate", "_submission_time", "end")
_SPLIT = re.compile(r"[/-]")
_TRUE = frozenset({"1", "true", "yes", "oui"})
_FALSE = frozenset({"", "0", "false", "no", "non"})


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.message}"


class SubmissionsError(ValueError):
    """A submissions file refused as a whole; lists every refused value."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:50])
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s), nothing imported:\n{shown}{more}")


@dataclass(frozen=True)
class _Column:
    header: str
    key: str | None = None  # question key for a value column
    choice: str | None = None  # set for a key/choice 0/1 column
    meta: bool = False


def _read_text(source: str | Path | IO[Any]) -> str:
    if isinstance(source, str | Path):
        raw: bytes | str = Path(source).read_bytes()
    else:
        raw = source.read()
    if isinstance(raw, str):
        return raw.lstrip("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")  # Excel re-saves on French Windows machines


def _rows(text: str) -> list[list[str]]:
    first = text.split("\n", 1)[0]
    try:
        dialect: Any = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [
        row
        for row in csv.reader(io.StringIO(text, newline=""), dialect)
        if any(c.strip() for c in row)
    ]


def _classify(header: str, questions: dict[str, Question]) -> _Column | None:
    """Map a header to a question, a split choice column or a meta column (None: unknown)."""
    parts = [p for p in _SPLIT.split(header.strip()) if p]
    if not parts:
        return None
    last = parts[-1]
    if last.lower() == ORGANISATION_COLUMN:
        return _Column(header, meta=True)
    if last not in questions and last.lower() in questions:
        last = last.lower()  # an imported form's names are lower-cased into keys
    if last in questions:
        return _Column(header, key=last)
    if len(parts) >= 2 and parts[-2].lower() in questions:
        q = questions[parts[-2].lower()]
        if q.type == "select_multiple" and last in q.choice_values():
            return _Column(header, key=q.key, choice=last)
    lowered = [p.lower() for p in parts]
    if lowered[-1] in META_COLUMNS or lowered[0] in META_GROUPS or last.startswith("_"):
        return _Column(header, meta=True)
    return None


def _map_columns(header: list[str], instrument: Instrument) -> tuple[list[_Column], list[Problem]]:
    questions = {q.key: q for q in iter_questions(instrument)}
    columns: list[_Column] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for name in header:
        col = _classify(name, questions)
        if col is None:
            problems.append(Problem(1, name, "no question of the instrument has this name"))
            col = _Column(name, meta=True)
        elif col.key and not col.choice:
            if col.key in seen:
                problems.append(
                    Problem(1, name, f"question {col.key!r} already read from {seen[col.key]!r}")
                )
            seen[col.key] = name
        columns.append(col)
    if not seen and not any(c.choice for c in columns):
        problems.append(
            Problem(1, "", "no column matches a question key (export with XML names, not labels)")
        )
    return columns, problems


def _row_answers(
    cells: dict[str, str], columns: list[_Column], row: int
) -> tuple[dict[str, Any], list[Problem]]:
    answers: dict[str, Any] = {}
    split: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for col in columns:
        value = cells.get(col.header, "").strip()
        if col.meta:
            continue
        if col.choice is None:
            answers[col.key] = value or None
        elif value.lower() in _TRUE:
            split.setdefault(col.key, []).append(col.choice)
        elif value.lower() not in _FALSE:
            problems.append(Problem(row, col.header, f"expected 0 or 1, got {value!r}"))
    for key, chosen in split.items():
        if not answers.get(key):  # the space-separated column wins when both exist
            answers[key] = chosen
    return answers, problems


def _meta(cells: dict[str, str], columns: list[_Column]) -> dict[str, str]:
    return {c.header: cells.get(c.header, "") for c in columns if c.meta}


def _first(meta: dict[str, str], names: tuple[str, ...]) -> str | None:
    lowered = {k.lower(): v for k, v in meta.items() if v}
    return next((lowered[n] for n in names if n in lowered), None)


def submission_id(instance_id: str | None) -> str | None:
    """Return a submission's id without its "uuid:" prefix (Kobo's _uuid has none)."""
    if not instance_id or not instance_id.strip():
        return None
    found = instance_id.strip()
    return found[5:] if found.lower().startswith("uuid:") else found


def parse_submissions_csv(
    source: str | Path | IO[Any], instrument: Instrument
) -> list[dict[str, Any]]:
    """Return one record per submission, or raise SubmissionsError if any value is refused.

    A record is {"row", "instance_id", "submission_id", "submitted_at", "meta", "answers"}:
    submission_id is the instance id without "uuid:" (the same in ODK and Kobo exports);
    answers are the cleaned values of every question (not_asked for the ones skip logic hid).
    Rows are numbered as in a spreadsheet: the header is row 1.
    """
    rows = _rows(_read_text(source))
    if not rows:
        raise SubmissionsError([Problem(1, "", "the file is empty")])
    header, body = rows[0], rows[1:]
    columns, problems = _map_columns(header, instrument)
    by_key = {c.key: c.header for c in columns if c.key and not c.choice}
    records: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for n, cells_list in enumerate(body, start=2):
        if len(cells_list) > len(header):
            problems.append(Problem(n, "", f"{len(cells_list)} cells for {len(header)} columns"))
            continue
        cells = dict(zip(header, cells_list, strict=False))
        answers, row_problems = _row_answers(cells, columns, n)
        problems += row_problems
        errors = validate_answers(instrument, answers, final=True)
        problems += [Problem(n, by_key.get(e.key, e.key), e.message_en) for e in errors]
        meta = _meta(cells, columns)
        instance_id = _first(meta, ID_COLUMNS)
        same = submission_id(instance_id)
        if same and same in seen_ids:
            problems.append(Problem(n, "instanceID", f"same submission as row {seen_ids[same]}"))
        elif same:
            seen_ids[same] = n
        if not errors and not row_problems:
            records.append(
                {
                    "row": n,
                    "instance_id": instance_id,
                    "submission_id": same,
                    "submitted_at": _first(meta, DATE_COLUMNS),
                    "meta": meta,
                    "answers": clean_answers(instrument, answers),
                }
            )
    if problems:
        raise SubmissionsError(problems)
    return records
