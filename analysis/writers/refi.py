"""REFI-QDA exchange: codebook (.qdc) and project (.qdpx) export and import.

Character positions. The schema types `startPosition`/`endPosition` as plain integers; the
standard counts characters of the source's plain text from 0, the end exclusive, which is
exactly Milieu's `[start, end)` over the normalised transcript (NFC, `\\n` line ends, one
character per newline, no BOM). Milieu counts *Unicode code points* (Python string
indices), as QualCoder does; tools built on UTF-16 strings (.NET, Qt, Java) count a
character outside the Basic Multilingual Plane (e.g. an emoji) as two. Pass
`position_unit="utf16"` to export or import for those; the default is "codepoint". Source
texts are written to `sources/<guid>.txt` in UTF-8 and referenced as `internal://<guid>.txt`.

GUIDs are stable: uuid5 of a Milieu namespace and the object's key (code, username,
transcript, coding), so exporting the same project twice gives the same identifiers.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from lxml import etree

from analysis.datasets import (
    FAMILIES,
    Dataset,
    answers_wide,
    attribute_names,
    case_attributes,
    family_of,
    variables,
)
from analysis.writers._atomic import atomic_path

PathLike = str | os.PathLike[str]

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
MILIEU_NS = uuid.UUID("6f1c3c1e-8d2a-5b7e-9a51-4d0c1e2f7a90")
_NS_BYTES = MILIEU_NS.bytes
_VARIANT = {c: "89ab"[int(c, 16) & 0x3] for c in "0123456789abcdef"}
DEFAULT_XSD_DIR = Path(__file__).resolve().parents[1] / "refi_schemas"
ORIGIN = "Milieu"
#: The family of codes brought from another QDA tool under their own names.
IMPORTED = "IMPORTED"
FAMILY_COLORS = {
    "GOVERNANCE": "#1F77B4",
    "STRATEGY": "#2CA02C",
    "DYNAMICS": "#D62728",
    "OTHER": "#7F7F7F",
    IMPORTED: "#9467BD",
}


class RefiError(ValueError):
    """A REFI-QDA file cannot be written or read (schema violation, broken archive...)."""


def guid(kind: str, key: Any) -> str:
    """Return the stable GUID of object `key` of kind `kind` (uuid5, RFC 4122)."""
    # Same bytes as uuid.uuid5(MILIEU_NS, ...), without building UUID objects: exports
    # compute two per coding.
    h = hashlib.sha1(_NS_BYTES + f"{kind}:{key}".encode()).hexdigest()
    variant = _VARIANT[h[16]]  # the two high bits of byte 8 become 10
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


# --- schema validation -----------------------------------------------------------------


@lru_cache(maxsize=8)
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path))


def load_schema(name: str, xsd_dir: PathLike | None = None) -> etree.XMLSchema:
    """Return the parsed XSD `name` ('Project' or 'Codebook') from `xsd_dir`."""
    path = Path(xsd_dir or DEFAULT_XSD_DIR) / f"{name}.xsd"
    if not path.is_file():
        raise RefiError(f"schema {path} not found")
    return _schema(str(path.resolve()))


def _refuse_doctype(data: bytes, what: str) -> None:
    head = data[:4]
    text = data.decode("utf-16", "replace") if head[:2] in (b"\xff\xfe", b"\xfe\xff") else data
    probe = text.encode("utf-8", "replace") if isinstance(text, str) else text
    if b"<!DOCTYPE" in probe or b"<!ENTITY" in probe:
        raise RefiError(
            f"{what}: has a DOCTYPE declaration, refused (REFI-QDA files have none; "
            "entities could expand without bound or read local files)"
        )


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def parse_and_validate(
    data: bytes, schema: str, xsd_dir: PathLike | None = None, what: str = "file"
) -> etree._Element:
    """Parse XML bytes (no DOCTYPE) and validate them; raise RefiError naming the violation."""
    _refuse_doctype(data, what)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise RefiError(f"{what}: not well-formed XML: line {exc.lineno}: {exc.msg}") from exc
    xsd = load_schema(schema, xsd_dir)
    if not xsd.validate(root):
        error = xsd.error_log[0]
        raise RefiError(f"{what}: violates {schema}.xsd at line {error.line}: {error.message}")
    return root


# --- export ----------------------------------------------------------------------------


def _iso_column(series: pd.Series) -> list[str | None]:
    """Format a datetime column as REFI dateTimes in UTC (naive values taken as UTC)."""
    stamps = pd.to_datetime(series, errors="coerce", utc=True)
    return [None if pd.isna(v) else v for v in stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ")]


def _iso(value: Any) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _present(value: Any) -> bool:
    return not (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and np.isnan(value))
    )


def _codebook_frame(ds: Dataset) -> pd.DataFrame:
    """Return the codebook plus any code used in codings but missing from it."""
    book = ds.codebook.copy()
    for column in ("parent", "color"):
        if column not in book:
            book[column] = None
    families = dict(zip(ds.codings["code"], ds.codings["family"], strict=True))
    used = [c for c in ds.codings["code"].dropna().unique() if c not in set(book["code"])]
    extra = pd.DataFrame(
        {
            "code": used,
            "family": [families.get(c) for c in used],
            "label_fr": None,
            "label_en": None,
            "definition": None,
            "parent": None,
            "color": None,
        }
    )
    book = pd.concat([book, extra], ignore_index=True) if len(extra) else book
    book["family"] = book["family"].where(book["family"].notna(), book["code"].map(family_of))
    return book


def _code_description(row: Any) -> str:
    parts = [
        f"label_fr: {row.label_fr}" if _present(row.label_fr) else "",
        f"label_en: {row.label_en}" if _present(row.label_en) else "",
        f"definition: {row.definition}" if _present(row.definition) else "",
    ]
    return "\n".join(p for p in parts if p)


def _code_element(parent: etree._Element, ns: str, row: Any, color: str) -> etree._Element:
    child = etree.SubElement(
        parent,
        f"{{{ns}}}Code",
        guid=guid("code", row.code),
        name=str(row.code),
        isCodable="true",
        color=color,
    )
    description = _code_description(row)
    if description:
        etree.SubElement(child, f"{{{ns}}}Description").text = _clean(description)
    return child


def _imported_tree(codes: etree._Element, ns: str, members: pd.DataFrame) -> None:
    """Write imported codes as their tool had them: top-level codes, children nested."""
    rows = list(members.itertuples())
    keys = {row.code for row in rows}
    children: dict[Any, list[Any]] = {}
    for row in rows:
        parent = row.parent if _present(row.parent) and row.parent in keys else None
        children.setdefault(parent, []).append(row)

    def add(element: etree._Element, parent: Any, seen: frozenset[Any]) -> None:
        for row in children.get(parent, []):
            if row.code in seen:
                continue  # a cycle in the stored parents: write each code once
            color = row.color if _present(row.color) else FAMILY_COLORS[IMPORTED]
            add(_code_element(element, ns, row, color), row.code, seen | {row.code})

    add(codes, None, frozenset())


def _codes_element(ds: Dataset, ns: str) -> etree._Element:
    """Build <Codes>: one non-codable parent per family, its codes as children.

    Imported codes (family IMPORTED) are written as their own tree, top level, so that the
    tool they came from reads them back under their names and parents."""
    codes = etree.Element(f"{{{ns}}}Codes")
    book = _codebook_frame(ds)
    families = list(FAMILIES) + [
        f for f in book["family"].unique() if f not in FAMILIES and f != IMPORTED
    ]
    for family in families:
        members = book[book["family"] == family]
        if not len(members) and family not in FAMILIES:
            continue
        parent = etree.SubElement(
            codes,
            f"{{{ns}}}Code",
            guid=guid("family", family),
            name=str(family),
            isCodable="false",
            color=FAMILY_COLORS.get(family, "#7F7F7F"),
        )
        for row in members.itertuples():
            _code_element(parent, ns, row, FAMILY_COLORS.get(family, "#7F7F7F"))
    _imported_tree(codes, ns, book[book["family"] == IMPORTED])
    return codes


def codebook_xml(ds: Dataset) -> bytes:
    """Return the .qdc document of the dataset's codebook."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin=ORIGIN)
    root.append(_codes_element(ds, CODEBOOK_NS))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def write_qdc(ds: Dataset, path: PathLike, xsd_dir: PathLike | None = None) -> list[Path]:
    """Write the codebook as a validated REFI-QDA .qdc file."""
    data = codebook_xml(ds)
    parse_and_validate(data, "Codebook", xsd_dir, what="exported codebook")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return [Path(path)]


def to_unit(text: str, position: int, unit: str) -> int:
    """Convert a code-point offset in `text` into `unit` ('codepoint' or 'utf16')."""
    if unit == "codepoint":
        return position
    if unit == "utf16":
        return position + sum(1 for ch in text[:position] if ord(ch) > 0xFFFF)
    raise RefiError(f"unknown position unit {unit!r}; use 'codepoint' or 'utf16'")


def from_unit(text: str, position: int, unit: str) -> int:
    """Convert an offset counted in `unit` into a code-point offset in `text`."""
    if unit == "codepoint":
        return position
    if unit != "utf16":
        raise RefiError(f"unknown position unit {unit!r}; use 'codepoint' or 'utf16'")
    units = 0
    for index, ch in enumerate(text):
        if units >= position:
            return index
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


# XML 1.0 forbids most control characters: drop them, escape markup.
_CONTROL = {i: None for i in [*range(0, 9), 11, 12, *range(14, 32)]}
_XML_TEXT = dict(_CONTROL)
_XML_TEXT.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"})
_XML_ATTR = {**_XML_TEXT, ord('"'): "&quot;", 9: "&#9;", 10: "&#10;", 13: "&#13;"}


def _clean(value: str) -> str:
    """Drop the control characters XML 1.0 cannot carry (lxml escapes the rest)."""
    return value.translate(_CONTROL)


def _xml_text(value: str) -> str:
    return value.translate(_XML_TEXT)


def _attr(value: str) -> str:
    return '"' + value.translate(_XML_ATTR) + '"'


def _meta(pairs: dict[str, Any]) -> str:
    """Encode Milieu attributes the schema has no place for into a Description line."""
    return "milieu:" + ";".join(f"{k}={v}" for k, v in pairs.items() if _present(v))


def _parse_meta(text: str | None) -> dict[str, str]:
    if not text or not text.startswith("milieu:"):
        return {}
    return dict(p.split("=", 1) for p in text[len("milieu:") :].split(";") if "=" in p)


def _variable_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "Boolean"
    if pd.api.types.is_integer_dtype(series):
        return "Integer"
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna()
        return "Integer" if len(whole) and (whole == whole.round()).all() else "Float"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "DateTime"
    values = series.dropna()
    if len(values) and all(hasattr(v, "isoformat") and not hasattr(v, "hour") for v in values):
        return "Date"
    return "Text"


def _value_element(kind: str, value: Any) -> tuple[str, str]:
    if kind == "Integer":
        return "IntegerValue", str(int(value))
    if kind == "Float":
        return "FloatValue", format(Decimal(repr(float(value))), "f")
    if kind == "Boolean":
        return "BooleanValue", "true" if value else "false"
    if kind == "Date":
        return "DateValue", value.isoformat()[:10]
    if kind == "DateTime":
        return "DateTimeValue", _iso(value) or ""
    return "TextValue", _clean(str(value))


def _value_column(series: pd.Series, name: str, kind: str) -> list[str]:
    """Return each row's <VariableValue> of one variable as XML text ('' when missing)."""
    ref = f'<VariableValue><VariableRef targetGUID="{guid("variable", name)}"/>'
    cells = []
    for value in series.tolist():
        if not _present(value):
            cells.append("")
            continue
        tag, text = _value_element(kind, value)
        cells.append(f"{ref}<{tag}>{_xml_text(text)}</{tag}></VariableValue>")
    return cells


def case_variables(ds: Dataset) -> pd.DataFrame:
    """Return the per-interview attributes exported as REFI case variables."""
    table = case_attributes(ds).drop(columns=[attribute_names(ds)["fieldworker"]])
    return table.merge(answers_wide(ds), on="interview_id", how="left")


class _ProjectWriter:
    """Assemble project.qde and the source files of one dataset."""

    def __init__(self, ds: Dataset, unit: str, created: datetime) -> None:
        self.ds, self.unit, self.created = ds, unit, created
        self.ns = PROJECT_NS
        self.files: dict[str, str] = {}
        self.usernames = self._usernames()
        #: (note guid, what it is about, memo) of coding and transcript memos: <Notes>
        self.notes: list[tuple[str, Any, str]] = []

    def q(self, tag: str) -> str:
        return f"{{{self.ns}}}{tag}"

    def _usernames(self) -> list[str]:
        names = list(self.ds.users["username"].dropna().astype(str))
        for column in (self.ds.codings["coder"], self.ds.interviews["fieldworker"]):
            names += [str(n) for n in column.dropna().unique() if str(n) not in names]
        return list(dict.fromkeys(names))

    def chunks(self) -> Iterator[bytes]:
        """Yield project.qde as UTF-8 bytes, the (large) sources streamed one by one."""
        yield (
            f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{self.ns}" '
            f'name={_attr(str(self.ds.name))} origin="{ORIGIN}" '
            f'creationDateTime="{_iso(self.created)}">'
        ).encode()
        root = etree.Element(self.q("Project"), nsmap={None: self.ns})
        users = etree.SubElement(root, self.q("Users"))
        for name in self.usernames or ["milieu"]:
            etree.SubElement(users, self.q("User"), guid=guid("user", name), name=name, id=name)
        book = etree.SubElement(root, self.q("CodeBook"))
        book.append(_codes_element(self.ds, self.ns))
        table = case_variables(self.ds)
        kinds = {c: _variable_type(table[c]) for c in table.columns if c != "interview_id"}
        self._variables(root, kinds)
        for element in root:
            yield etree.tostring(element, encoding="utf-8")
        del root
        yield from self._cases_xml(table, kinds)
        yield from self._sources()
        yield from self._notes_xml()
        yield b"</Project>"

    def _notes_xml(self) -> Iterator[bytes]:
        """Yield <Notes>: one per coding or transcript memo, referred to by their NoteRef."""
        if not self.notes:
            return
        parts = ["<Notes>"]
        for note_guid, about, memo in self.notes:
            parts.append(
                f'<Note guid="{note_guid}" name={_attr(f"memo on {about}")}>'
                f"<PlainTextContent>{_xml_text(memo)}</PlainTextContent></Note>"
            )
        parts.append("</Notes>")
        yield "".join(parts).encode()

    def _variables(self, root: etree._Element, kinds: dict[str, str]) -> None:
        if not kinds:
            return
        dictionary = variables(self.ds).set_index("variable")
        element = etree.SubElement(root, self.q("Variables"))
        for name, kind in kinds.items():
            variable = etree.SubElement(
                element,
                self.q("Variable"),
                guid=guid("variable", name),
                name=name,
                typeOfVariable=kind,
            )
            if name in dictionary.index:
                entry = dictionary.loc[name]
                text = " ".join(
                    str(x)
                    for x in (
                        entry["label_fr"],
                        entry["allowed_values"] and f"[{entry['allowed_values']}]",
                    )
                    if x
                )
                etree.SubElement(variable, self.q("Description")).text = _clean(text)

    def _cases_xml(self, table: pd.DataFrame, kinds: dict[str, str]) -> Iterator[bytes]:
        """Yield <Cases>: one case per interview, its variables, its transcripts."""
        if not len(table):
            return
        sources: dict[Any, list[Any]] = {}
        for iid, tid in zip(
            self.ds.transcripts["interview_id"], self.ds.transcripts["transcript_id"], strict=True
        ):
            sources.setdefault(iid, []).append(tid)
        # Format each variable once per column, then assemble the cases row by row.
        columns = [_value_column(table[name], name, kind) for name, kind in kinds.items()]
        labels = (
            table["org_pseudonym"].tolist() if "org_pseudonym" in table else [None] * len(table)
        )
        parts = ["<Cases>"]
        for i, iid in enumerate(table["interview_id"].tolist()):
            name = f"interview {iid} ({labels[i] if _present(labels[i]) else ''})"
            refs = "".join(
                f'<SourceRef targetGUID="{guid("source", t)}"/>' for t in sources.get(iid, [])
            )
            parts.append(
                f'<Case guid="{guid("case", iid)}" name={_attr(name)}><Description>'
                f"{_xml_text(_meta({'interview_id': iid}))}</Description>"
                f"{''.join(column[i] for column in columns)}{refs}</Case>"
            )
        parts.append("</Cases>")
        yield "".join(parts).encode()

    def _sources(self) -> Iterator[bytes]:
        # Selections are the bulk of a project (100,000+ codings): they are written as XML
        # text, source by source, never held as one document tree.
        transcripts = self.ds.transcripts
        if not len(transcripts):
            return
        grouped = self._coding_records()
        known = set(transcripts["transcript_id"])
        orphan = [t for t in grouped if t not in known]
        if orphan:
            raise RefiError(f"codings refer to transcript {orphan[0]}, absent from the dataset")
        yield b"<Sources>"
        for tr in transcripts.itertuples():
            yield self._source_xml(tr, grouped.pop(tr.transcript_id, [])).encode()
        yield b"</Sources>"

    def _coding_records(self) -> dict[Any, list[tuple[Any, ...]]]:
        """Return codings as (start, end, code, coder, id, when, meta, memo) by transcript."""
        codings = self.ds.codings.sort_values(["transcript_id", "start", "end", "coding_id"])
        columns = ["coding_id", "source", "confidence", "valence", "intensity", "round_id"]
        values = [codings[c].tolist() for c in columns]
        metas = [
            "milieu:"
            + ";".join(
                f"{k}={v}"
                for k, v in zip(columns, row, strict=True)
                if not (v is None or v is pd.NA or v != v)
            )
            for row in zip(*values, strict=True)
        ]
        rows = zip(
            codings["transcript_id"].tolist(),
            codings["start"].tolist(),
            codings["end"].tolist(),
            codings["code"].tolist(),
            codings["coder"].tolist(),
            codings["coding_id"].tolist(),
            _iso_column(codings["created_dt"]),
            metas,
            codings["memo"].tolist() if "memo" in codings else [None] * len(codings),
            strict=True,
        )
        grouped: dict[Any, list[tuple[Any, ...]]] = {}
        for transcript, *record in rows:
            grouped.setdefault(transcript, []).append(tuple(record))
        return grouped

    def _source_xml(self, tr: Any, codings: list[tuple[Any, ...]]) -> str:
        source_guid = guid("source", tr.transcript_id)
        text = str(tr.text or "")
        self.files[f"sources/{source_guid}.txt"] = text
        name = f"transcript {tr.transcript_id} v{tr.version} (interview {tr.interview_id})"
        title = getattr(tr, "title", None)
        if _present(title) and str(title).strip():
            name = str(title)  # the ids travel in the Description
        description = _meta(
            {
                "transcript_id": tr.transcript_id,
                "interview_id": tr.interview_id,
                "version": tr.version,
                "sha256": tr.sha256,
            }
        )
        parts = [
            f'<TextSource guid="{source_guid}" name={_attr(name)} '
            f'plainTextPath="internal://{source_guid}.txt">'
            f"<Description>{_xml_text(description)}</Description>"
        ]
        parts += [self._selection_xml(c, text) for c in codings]
        memo = getattr(tr, "memo", None)
        if _present(memo) and str(memo).strip():
            note_guid = guid("source-note", tr.transcript_id)
            self.notes.append((note_guid, f"transcript {tr.transcript_id}", str(memo)))
            parts.append(f'<NoteRef targetGUID="{note_guid}"/>')
        parts.append("</TextSource>")
        return "".join(parts)

    def _selection_xml(self, c: tuple[Any, ...], text: str) -> str:
        start, end, code, coder, coding_id, when, meta, memo = c
        start, end = int(start), int(end)
        if not 0 <= start <= end <= len(text):
            raise RefiError(
                f"coding {coding_id} [{start}, {end}) lies outside its transcript "
                f"({len(text)} characters)"
            )
        if self.unit != "codepoint":
            start, end = to_unit(text, start, self.unit), to_unit(text, end, self.unit)
        user = self._user_guid(str(coder))
        stamp = f' creationDateTime="{when}"' if when else ""
        note = ""
        if _present(memo) and str(memo).strip():
            note_guid = guid("note", coding_id)
            self.notes.append((note_guid, f"coding {coding_id}", str(memo)))
            note = f'<NoteRef targetGUID="{note_guid}"/>'
        return (
            f'<PlainTextSelection guid="{guid("selection", coding_id)}" '
            f'name={_attr(str(code))} startPosition="{start}" endPosition="{end}" '
            f'creatingUser="{user}"{stamp}><Description>{_xml_text(meta)}</Description>'
            f'<Coding guid="{guid("coding", coding_id)}" creatingUser="{user}"{stamp}>'
            f'<CodeRef targetGUID="{self._code_guid(str(code))}"/>{note}</Coding>'
            "</PlainTextSelection>"
        )

    @staticmethod
    @lru_cache(maxsize=4096)
    def _user_guid(name: str) -> str:
        return guid("user", name)

    @staticmethod
    @lru_cache(maxsize=4096)
    def _code_guid(code: str) -> str:
        return guid("code", code)


def write_qdpx(
    ds: Dataset,
    path: PathLike,
    xsd_dir: PathLike | None = None,
    position_unit: str = "codepoint",
    created: datetime | None = None,
    validate: bool = True,
) -> list[Path]:
    """Write the project as a REFI-QDA .qdpx archive (project.qde + sources/), validated."""
    writer = _ProjectWriter(ds, position_unit, created or datetime.now(UTC))
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            with archive.open("project.qde", "w", force_zip64=True) as handle:
                for chunk in writer.chunks():
                    handle.write(chunk)
            for name, text in writer.files.items():
                archive.writestr(name, text.encode("utf-8"))
        if validate:
            with zipfile.ZipFile(tmp) as archive, archive.open("project.qde") as handle:
                validate_stream(handle, "Project", xsd_dir, what="exported project")
    return [Path(path)]


def validate_stream(
    handle: IO[bytes], schema: str, xsd_dir: PathLike | None = None, what: str = "file"
) -> None:
    """Validate an XML stream while parsing it, in constant memory; raise RefiError."""
    xsd = load_schema(schema, xsd_dir)
    try:
        # Validation runs on every element as it is parsed; only the sources (the bulk) are
        # looked at from Python, to drop each one once read.
        for _, element in etree.iterparse(
            handle,
            events=("end",),
            schema=xsd,
            tag=f"{{{PROJECT_NS}}}TextSource",
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
        ):
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise RefiError(f"{what}: violates {schema}.xsd at line {exc.lineno}: {exc.msg}") from exc


# --- import (analysis.writers.refi_reader) -----------------------------------------------------

_READER_NAMES = ("RefiProject", "read_qdc", "read_qdpx", "read_refi")


def __getattr__(name: str) -> Any:
    # The reader lives beside the writer and imports from it: load it on first use.
    if name in _READER_NAMES:
        from analysis.writers import refi_reader

        return getattr(refi_reader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "RefiError",
    "guid",
    "write_qdc",
    "write_qdpx",
]
