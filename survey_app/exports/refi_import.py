"""Import a REFI-QDA project or codebook into the database, all of it or nothing.

Codes map onto the current codebook by key (or through a mapping file); a new codebook
version is made only when the file brings codes the current one lacks. Codes named like
Milieu's (GOV.*, STR.*, DYN.*, OTH.*) join their family; any other code joins the imported
codes under its own name, parent and colour. Each text source becomes the transcript of the
interview it names, or of a new interview (organisation and transcript titled after the
source), when asked; a source never replaces another text of an interview that already has
codings, so no coding is left on a transcript version the exports no longer read. Codings
keep their exact character offsets, coders, times and memos. The caller commits (or rolls
back) once.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
import yaml

from analysis.datasets import FAMILIES, FAMILY_OF_PREFIX, family_of
from analysis.writers.refi_reader import IMPORTED_FAMILY, RefiProject, read_refi
from coding.codebook import CodebookError, parse_codebook
from coding.segment import normalise_text
from survey_app.auth.operations import UserError, create_user
from survey_app.codings.codebook_versions import current_codebook, new_codebook_version
from survey_app.codings.operations import LIVE_STATUSES
from survey_app.core.audit import record
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.models import (
    Code,
    CodebookVersion,
    Coding,
    InstrumentVersion,
    Interview,
    Organisation,
    Segment,
    Transcript,
    TranscriptVersion,
    User,
)
from survey_app.models.coding import CODING_SOURCES
from survey_app.models.fieldwork import INTERVIEW_STATUSES

Progress = Callable[[float, str], None]
FAMILY_SKELETON = {
    "GOVERNANCE": {
        "prefix": "GOV",
        "d": "D4_GOV",
        "label": {"fr": "Gouvernance", "en": "Governance"},
    },
    "STRATEGY": {"prefix": "STR", "d": "D4_STRAT", "label": {"fr": "Stratégie", "en": "Strategy"}},
    "DYNAMICS": {"prefix": "DYN", "d": "D3", "label": {"fr": "Dynamique", "en": "Dynamics"}},
    "OTHER": {"prefix": "OTH", "d": None, "label": {"fr": "Autre", "en": "Other"}},
}


class RefiImportError(ValueError):
    """The file is valid REFI-QDA but cannot be imported as asked; nothing was changed."""


@dataclass
class ImportReport:
    """What an import did."""

    codebook_version: str = ""
    new_codebook: bool = False
    codes: int = 0
    transcripts_added: int = 0
    transcripts_unchanged: int = 0
    codings_added: int = 0
    codings_present: int = 0
    created_users: list[str] = field(default_factory=list)
    created_interviews: list[int] = field(default_factory=list)
    created_organisations: list[str] = field(default_factory=list)
    imported_codes: int = 0
    mapped_codes: int = 0
    memos: int = 0
    rich_text_sources: list[str] = field(default_factory=list)
    position_units: dict[str, int] = field(default_factory=dict)
    loose_notes: int = 0
    other_sources: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Return the report as lines for a terminal."""
        book = "new codebook version" if self.new_codebook else "mapped onto codebook"
        lines = [
            f"codes: {self.codes} ({book} {self.codebook_version})",
            f"transcripts: {self.transcripts_added} added, {self.transcripts_unchanged} unchanged",
            f"codings: {self.codings_added} added, {self.codings_present} already present",
        ]
        if self.imported_codes or self.mapped_codes:
            lines.append(
                f"codes from another tool: {self.imported_codes} kept under their own names "
                f"(family {IMPORTED_FAMILY}), {self.mapped_codes} mapped onto Milieu codes"
            )
        if self.memos:
            lines.append(f"memos and notes: {self.memos} imported")
        if self.loose_notes:
            lines.append(
                f"notes attached to no coding, source or code: {self.loose_notes} not imported"
            )
        if self.other_sources:
            lines.append(
                "sources that are not text, not imported: "
                + ", ".join(f"{n} {kind}" for kind, n in self.other_sources.items())
            )
        if self.rich_text_sources:
            lines.append(
                "text read from the rich-text .docx (plain text empty or missing): "
                + ", ".join(self.rich_text_sources)
            )
        if self.position_units:
            lines.append(
                "positions read as: "
                + ", ".join(f"{u} ({n} sources)" for u, n in sorted(self.position_units.items()))
            )
        if self.created_organisations:
            lines.append("created organisations: " + ", ".join(self.created_organisations))
        if self.created_interviews:
            lines.append("created interviews: " + ", ".join(map(str, self.created_interviews)))
        if self.created_users:
            lines.append(
                "created disabled researcher accounts for unknown coders: "
                + ", ".join(self.created_users)
            )
        return lines


def import_refi(
    path: str | Path,
    *,
    create_interviews: bool = False,
    owner_name: str | None = None,
    user: User | None = None,
    position_unit: str = "auto",
    progress: Progress | None = None,
    max_unpacked: int | None = None,
    code_map: str | Path | None = None,
) -> ImportReport:
    """Import a .qdpx or .qdc file; raise RefiError or RefiImportError, changing nothing.

    position_unit: 'auto' (per source), 'codepoint' or 'utf16'. max_unpacked bounds what a
    .qdpx archive may inflate to (uploads from the web). code_map: a CSV or YAML file
    mapping the file's code names onto Milieu code keys."""
    say = progress or (lambda _f, _m: None)
    say(0.05, f"reading and validating {Path(path).name}")
    mapping = read_code_map(code_map) if code_map else {}
    options: dict[str, Any] = {}
    if Path(path).suffix.lower() == ".qdpx":
        options = {"position_unit": position_unit, "max_unpacked": max_unpacked}
    project = read_refi(path, **options)
    report = ImportReport(loose_notes=project.loose_notes, other_sources=project.other_sources)
    say(0.3, "codes")
    codes = _import_codes(project, mapping, user, report)
    if len(project.transcripts):
        say(0.4, "coders")
        coders = _coders(project.codings, report)
        say(0.5, "sources")
        owner = _owner(owner_name, user)
        interviews = _interviews(project, create_interviews, owner, report)
        versions = _transcripts(project, interviews, user or owner, Path(path).name, report)
        say(0.7, "codings")
        _codings(project.codings, versions, codes, coders, report)
        for tid in project.rich_text_sources:
            report.rich_text_sources.append(project.source_names.get(tid, str(tid)))
        for unit in project.position_units.values():
            report.position_units[unit] = report.position_units.get(unit, 0) + 1
    record(
        "refi.import",
        None,
        {"file": Path(path).name, **_summary(report)},
        user=user,
        object_type="refi",
    )
    say(1.0, "done")
    return report


def read_code_map(path: str | Path) -> dict[str, str]:
    """Read a mapping file: CSV (two columns: the file's code, the Milieu code) or YAML."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise RefiImportError(f"{path.name}: cannot be read as UTF-8 text ({err})") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(raw) or {}
        except yaml.YAMLError as err:
            raise RefiImportError(f"{path.name}: not valid YAML ({err})") from None
        if not isinstance(data, dict):
            raise RefiImportError(
                f"{path.name}: expected a mapping 'code in the file: Milieu code'"
            )
        pairs = [(str(k), str(v)) for k, v in data.items()]
    elif path.suffix.lower() == ".csv":
        rows = [r for r in csv.reader(raw.splitlines()) if any(c.strip() for c in r)]
        if rows and [c.strip().lower() for c in rows[0][:2]] == ["source", "target"]:
            rows = rows[1:]
        for number, row in enumerate(rows, start=1):
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                raise RefiImportError(
                    f"{path.name}: row {number}: expected two columns, the file's code and "
                    "the Milieu code"
                )
        pairs = [(r[0].strip(), r[1].strip()) for r in rows]
    else:
        raise RefiImportError(f"{path.name}: a code mapping is a .csv or .yaml file")
    return dict(pairs)


def _summary(report: ImportReport) -> dict[str, Any]:
    return {
        "codebook": report.codebook_version,
        "new_codebook": report.new_codebook,
        "transcripts": report.transcripts_added,
        "codings": report.codings_added,
        "created_users": report.created_users,
    }


# --- codes -----------------------------------------------------------------------------


def _import_codes(
    project: RefiProject, mapping: dict[str, str], user: User | None, report: ImportReport
) -> dict[str, Code]:
    """Return {code in the file: Code of the current codebook}, adding a version for new codes."""
    book = project.codebook.drop_duplicates("code")
    tree = project.code_tree.set_index("code") if len(project.code_tree) else None
    names = {
        str(r["code"]): _text(r["label_fr"]) or str(r["code"]) for r in book.to_dict("records")
    }
    wanted = list(book["code"].astype(str))
    wanted += [c for c in project.codings["code"].dropna().astype(str).unique() if c not in wanted]
    current = current_codebook()
    have = {c.key: c for c in current.codes if not c.retired} if current else {}
    target = {}
    for key in wanted:
        goal = mapping.get(key, mapping.get(names.get(key, key)))
        if goal is not None:
            if goal not in have and goal not in wanted:
                raise RefiImportError(
                    f"code mapping: {key!r} maps onto {goal!r}, a code neither the current "
                    "codebook nor the file has"
                )
            report.mapped_codes += 1
        target[key] = goal or key
    missing = list(dict.fromkeys(t for t in target.values() if t not in have))
    if missing:
        current = _new_codebook_version(current, book, tree, missing, user)
        report.new_codebook = True
        have = {c.key: c for c in current.codes if not c.retired}
    report.codebook_version, report.codes = current.version if current else "", len(wanted)
    report.imported_codes = sum(
        1 for k in wanted if target[k] == k and have[k].family == IMPORTED_FAMILY
    )
    return {key: have[goal] for key, goal in target.items()}


def _code_entry(row: dict[str, Any] | None, key: str) -> dict[str, Any]:
    row = row or {}
    fr = _text(row.get("label_fr")) or key
    return {
        "label": {"fr": fr, "en": _text(row.get("label_en")) or fr},
        "definition": _text(row.get("definition")),
        "include": [],
        "exclude": [],
        "keywords": [],
        "example": "",
    }


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _family_of_key(rows: dict[str, dict[str, Any]], key: str) -> str:
    family = rows.get(key, {}).get("family")
    if family in FAMILIES or family == IMPORTED_FAMILY:
        return family
    if key.split(".", 1)[0] in FAMILY_OF_PREFIX:
        return family_of(key)
    return IMPORTED_FAMILY


def _new_codebook_version(
    current: CodebookVersion | None,
    book: pd.DataFrame,
    tree: pd.DataFrame | None,
    missing: list[str],
    user: User | None,
) -> CodebookVersion:
    content = (
        copy.deepcopy(current.content)
        if current
        else {
            "version": "0",
            "name": "Imported codebook",
            "language": "fr",
            "families": {f: {**v, "codes": {}} for f, v in FAMILY_SKELETON.items()},
        }
    )
    rows = {str(r["code"]): r for r in book.to_dict("records")}
    imported = content.setdefault("imported", {})
    for key in missing:
        family = _family_of_key(rows, key)
        entry = _code_entry(rows.get(key), key)
        if family == IMPORTED_FAMILY:
            parent, color = _tree(tree, key)
            imported[key] = {
                "label": entry["label"],
                "definition": entry["definition"],
                "parent": parent,
                "color": color,
            }
        else:
            content["families"][family]["codes"][key] = entry
    for entry in imported.values():
        if entry.get("parent") not in imported:
            entry["parent"] = None  # a parent mapped onto a Milieu code, or absent
    content["version"] = _free_version(f"{current.version}+refi" if current else "refi")
    try:
        parse_codebook(content)
    except CodebookError as err:
        raise RefiImportError(f"the file's codes do not fit Milieu's codebook: {err}") from None
    sha = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    rationale = f"REFI-QDA import: {', '.join(missing)[:400]}"
    version = new_codebook_version(content, content["version"], sha, user, rationale)
    for old in current.codes if current else []:
        if old.key in missing:
            continue  # a retired code the file uses again comes back as a live code
        version.codes.append(
            Code(
                key=old.key,
                family=old.family,
                label_fr=old.label_fr,
                label_en=old.label_en,
                definition=old.definition,
                retired=old.retired,
                replaced_by_key=old.replaced_by_key,
                parent_key=old.parent_key,
                color=old.color,
            )
        )
    for key in missing:
        if key in imported:
            entry, family = imported[key], IMPORTED_FAMILY
        else:
            family = family_of_entry(content, key)
            entry = content["families"][family]["codes"][key]
        version.codes.append(
            Code(
                key=key,
                family=family,
                label_fr=entry["label"]["fr"][:200],
                label_en=entry["label"]["en"][:200],
                definition=entry["definition"],
                parent_key=entry.get("parent"),
                color=entry.get("color"),
            )
        )
    db.session.flush()
    record("codebook.import", version, {"version": version.version, "added": missing}, user=user)
    return version


def _tree(tree: pd.DataFrame | None, key: str) -> tuple[str | None, str | None]:
    """Return an imported code's parent and colour (#RRGGBB) as the file gives them."""
    if tree is None or key not in tree.index:
        return None, None
    parent, color = tree.at[key, "parent"], tree.at[key, "color"]
    parent = None if parent is None or (isinstance(parent, float) and pd.isna(parent)) else parent
    color = str(color) if isinstance(color, str) and len(color) == 7 else None
    return parent, color


def family_of_entry(content: dict[str, Any], key: str) -> str:
    """Return the family under which `key` sits in a codebook's content."""
    return next(f for f, data in content["families"].items() if key in data["codes"])


def _free_version(base: str) -> str:
    taken = set(db.session.scalars(sa.select(CodebookVersion.version)))
    number = 1
    while f"{base}.{number}" in taken:
        number += 1
    return f"{base}.{number}"


# --- people ----------------------------------------------------------------------------


def _is_model(name: Any, source: Any) -> bool:
    return source == "model" and (name is None or name == "model")


def _coders(codings: pd.DataFrame, report: ImportReport) -> dict[str, User]:
    """Return {coder name: User}, creating disabled researcher accounts for unknown names."""
    names = {
        str(n)
        for n, s in zip(codings["coder"], codings["source"], strict=True)
        if n is not None and not pd.isna(n) and not _is_model(n, s)
    }
    users = {}
    for name in sorted(names):
        found = db.session.scalar(sa.select(User).where(User.username == name.strip().lower()))
        if found is None:
            try:
                found = create_user(name, "researcher", secrets.token_urlsafe(24))
            except UserError as err:
                raise RefiImportError(f"coder {name!r}: {err}") from None
            found.is_enabled = False  # an account to hold the codings, not to log in with
            report.created_users.append(found.username)
        users[name] = found
    db.session.flush()
    return users


def _owner(owner_name: str | None, user: User | None) -> User | None:
    if owner_name:
        owner = db.session.scalar(sa.select(User).where(User.username == owner_name.lower()))
        if owner is None:
            raise RefiImportError(f"--owner {owner_name}: no such user")
        return owner
    if user is not None:
        return user
    return db.session.scalar(sa.select(User).where(User.role == "admin").order_by(User.id))


# --- interviews and transcripts ------------------------------------------------------------


def interview_name(interview: Interview) -> str:
    """Return the name a Milieu export gives an interview's REFI case."""
    return f"interview {interview.id} ({interview.organisation.pseudonym})"


def _cases_by_interview(project: RefiProject) -> dict[Any, dict[str, Any]]:
    if not len(project.cases):
        return {}
    return {row["interview_id"]: row for row in project.cases.to_dict("records")}


def _match(name: str, by_name: dict[str, Interview]) -> Interview | None:
    if name in by_name:
        return by_name[name]
    orgs = db.session.scalars(
        sa.select(Organisation).where(
            sa.or_(Organisation.name == name, Organisation.pseudonym == name)
        )
    ).all()
    if len(orgs) == 1:
        found = db.session.scalars(
            sa.select(Interview).where(Interview.organisation_id == orgs[0].id)
        ).all()
        if len(found) == 1:
            return found[0]
    return None


def _same_text(text: str) -> Interview | None:
    """Return the one interview whose transcript already has this exact text, if any."""
    try:
        stored, _lead = stored_form(text)
    except RefiImportError:
        return None
    sha = hashlib.sha256(stored.encode("utf-8")).hexdigest()
    ids = set(
        db.session.scalars(
            sa.select(Transcript.interview_id)
            .join(TranscriptVersion, TranscriptVersion.transcript_id == Transcript.id)
            .where(TranscriptVersion.sha256 == sha)
        )
    )
    return db.session.get(Interview, ids.pop()) if len(ids) == 1 else None


def _interviews(
    project: RefiProject, create: bool, owner: User | None, report: ImportReport
) -> dict[Any, Interview]:
    """Return {transcript id in the file: Interview}, matching by text or name, or creating.

    A source matches the interview whose transcript has the same text, the interview a
    Milieu export's case names ("interview 12 (PME_003)"), or the one interview of the
    organisation it names, unless that interview already holds another, coded text: a new
    version would leave those codings on a version no export reads (two projects from other
    tools may well both have a source called "Interview 1")."""
    by_name = {interview_name(i): i for i in db.session.scalars(sa.select(Interview))}
    cases = _cases_by_interview(project)
    result, unmatched = {}, []
    for tr in project.transcripts.to_dict("records"):
        case = cases.get(tr["interview_id"], {})
        source = project.source_names.get(tr["transcript_id"]) or f"source {tr['transcript_id']}"
        name = str(case.get("name") or source)
        found = _same_text(str(tr["text"] or "")) or by_name.get(name)
        if found is None:
            found = _match(name, by_name)
            if found is not None and _holds_codings(found):
                found = None
        if found is None and create:
            found = _create_interview(case.get("variables") or {}, name, owner, report)
        if found is None:
            unmatched.append(name)
        result[tr["transcript_id"]] = found
    if unmatched:
        raise RefiImportError(
            f"{len(unmatched)} source(s) match no interview (first: "
            f"{unmatched[0]!r}); import with --create-interviews"
        )
    return result


def _holds_codings(interview: Interview) -> bool:
    """Tell whether the interview's current transcript has live codings."""
    transcript = interview.transcripts[0] if interview.transcripts else None
    if transcript is None or transcript.current is None:
        return False
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(Coding.id)).where(
                Coding.transcript_version_id == transcript.current.id,
                Coding.status.in_(("active", "accepted", "suggested")),
            )
        )
    )


def _instrument(variables: dict[str, Any], kind: str) -> InstrumentVersion:
    key, version = variables.get("instrument_id"), variables.get("instrument_version")
    found = db.session.scalar(
        sa.select(InstrumentVersion).where(
            InstrumentVersion.instrument_key == str(key), InstrumentVersion.version == str(version)
        )
    )
    if found is not None and found.respondent_type == kind:
        return found
    fitting = [v for v in ops.current_instrument_versions() if v.respondent_type == kind]
    if not fitting:
        raise RefiImportError(
            f"no interview guide for {kind} respondents is loaded; load the "
            "guides first (milieu instruments load)"
        )
    return fitting[0]


def _organisation(variables: dict[str, Any], name: str, report: ImportReport) -> Organisation:
    pseudonym = variables.get("org_pseudonym")
    if pseudonym:
        found = db.session.scalar(
            sa.select(Organisation).where(Organisation.pseudonym == str(pseudonym))
        )
        if found is not None:
            return found
    kind = variables.get("org_kind") if variables.get("org_kind") in ("sme", "relay") else "sme"
    org = ops.create_organisation(None, kind=kind, name=str(pseudonym or name)[:300])
    if pseudonym and len(str(pseudonym)) <= 20:
        org.pseudonym = str(pseudonym)  # keep the file's pseudonym: it was free
    report.created_organisations.append(org.pseudonym)
    return org


def _create_interview(
    variables: dict[str, Any], name: str, owner: User | None, report: ImportReport
) -> Interview:
    if owner is None:
        raise RefiImportError(
            "no user to record as the fieldworker of created interviews; "
            "create an admin or pass --owner"
        )
    org = _organisation(variables, name, report)
    when = _date(variables.get("interview_date"))
    interview = ops.create_interview(owner, _instrument(variables, org.kind), org, when)
    if variables.get("status") in INTERVIEW_STATUSES:
        interview.status = variables["status"]
    db.session.flush()
    report.created_interviews.append(interview.id)
    return interview


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def stored_form(text: str) -> tuple[str, int]:
    """Return the text as Milieu stores it and the shift of offsets; refuse other changes."""
    crlf = text.replace("\r\n", "\n")
    lead = len(crlf) - len(crlf.lstrip("\n"))
    stored = crlf.strip("\n")
    if normalise_text(stored) != stored:
        raise RefiImportError(
            "a source's text is not in Unicode NFC form with \\n line ends; "
            "its offsets cannot be kept"
        )
    return stored, lead


def _offset_map(text: str, lead: int) -> Callable[[int], int]:
    """Map an offset of the file's text onto the stored text (CR LF -> LF, edges stripped)."""
    crs = [i for i in range(len(text) - 1) if text[i] == "\r" and text[i + 1] == "\n"]

    def convert(position: int) -> int:
        before = sum(1 for i in crs if i < position)
        return position - before - lead

    return convert


def _transcripts(
    project: RefiProject,
    interviews: dict[Any, Interview],
    actor: User | None,
    filename: str,
    report: ImportReport,
) -> dict[Any, tuple[TranscriptVersion, Callable[[int], int]]]:
    """Store each source as the current transcript version of its interview."""
    if actor is None:
        raise RefiImportError("no user to record as the author of imported transcripts")
    versions = {}
    for tr in project.transcripts.to_dict("records"):
        raw = str(tr["text"] or "")
        try:
            text, lead = stored_form(raw)
        except RefiImportError as err:
            raise RefiImportError(f"transcript {tr['transcript_id']}: {err}") from None
        interview = interviews[tr["transcript_id"]]
        try:
            version = ops.save_transcript(
                interview, text, actor, source_format="refi", filename=filename
            )
        except ops.FieldworkError as err:
            raise RefiImportError(f"transcript {tr['transcript_id']}: {err.message_en}") from None
        if version is None:
            version = interview.transcripts[0].current
            report.transcripts_unchanged += 1
        else:
            report.transcripts_added += 1
        transcript = version.transcript
        name = project.source_names.get(tr["transcript_id"])
        if name and not transcript.title:
            transcript.title = name[:200]
        memo = project.source_memos.get(tr["transcript_id"], "")
        if memo and memo not in (transcript.memo or ""):
            transcript.memo = "\n\n".join(t for t in (transcript.memo, memo) if t)
            report.memos += 1
        versions[tr["transcript_id"]] = (version, _offset_map(raw, lead))
    return versions


# --- codings ---------------------------------------------------------------------------


def _number(value: Any, cast: Callable[[Any], Any]) -> Any:
    return None if value is None or pd.isna(value) else cast(value)


def _codings(
    codings: pd.DataFrame,
    versions: dict[Any, tuple[TranscriptVersion, Any]],
    codes: dict[str, Code],
    coders: dict[str, User],
    report: ImportReport,
) -> None:
    existing = _existing_codings([v.id for v, _ in versions.values()])
    turns: dict[int, list[Any]] = {}
    for row in codings.to_dict("records"):
        version, convert = versions[row["transcript_id"]]
        start, end = convert(int(row["start"])), convert(int(row["end"]))
        if not 0 <= start < end <= len(version.text):
            raise RefiImportError(
                f"coding {row['coding_id']} [{start}, {end}) lies outside "
                "its transcript or is empty"
            )
        code = codes[str(row["code"])]  # the Milieu code it maps onto, or itself
        source = row["source"] if row["source"] in CODING_SOURCES else "human"
        coder = None if _is_model(row["coder"], source) else coders.get(str(row["coder"]))
        signature = (version.id, start, end, code.key, coder.id if coder else None)
        if signature in existing:
            report.codings_present += 1
            continue
        existing.add(signature)
        db.session.add(
            Coding(
                transcript_version_id=version.id,
                start=start,
                end=end,
                code=code,
                coder_id=coder.id if coder else None,
                source=source,
                status="active",
                confidence=_number(row["confidence"], float),
                valence=_number(row["valence"], int),
                intensity=_number(row["intensity"], int),
                segment_id=_turn_id(version, start, turns),
                memo=_text(row.get("memo")),
                **_created(row["created_dt"]),
            )
        )
        report.codings_added += 1
        report.memos += bool(_text(row.get("memo")))
    db.session.flush()


def _created(value: Any) -> dict[str, Any]:
    if value is None or pd.isna(value):
        return {}
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return {"created_dt": stamp.to_pydatetime()}


def _turn_id(version: TranscriptVersion, start: int, cache: dict[int, list[Any]]) -> int | None:
    if version.id not in cache:
        # segments were bulk-inserted by save_transcript: read them, not the relationship
        cache[version.id] = db.session.execute(
            sa.select(Segment.id, Segment.start, Segment.end).where(
                Segment.transcript_version_id == version.id, Segment.kind == "turn"
            )
        ).all()
    return next((sid for sid, s, e in cache[version.id] if s <= start < e), None)


def _existing_codings(version_ids: list[int]) -> set[tuple[Any, ...]]:
    rows = db.session.execute(
        sa.select(Coding.transcript_version_id, Coding.start, Coding.end, Code.key, Coding.coder_id)
        .join(Code, Code.id == Coding.code_id)
        .where(Coding.transcript_version_id.in_(version_ids), Coding.status.in_(LIVE_STATUSES))
    ).all()
    return {tuple(r) for r in rows}
