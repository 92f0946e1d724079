"""REFI-QDA import: read a .qdc codebook or a .qdpx project as other tools write them.

What real files do, and what this reader does about it:

- Codes carry the tool's own names and hierarchy (ATLAS.ti, NVivo, MAXQDA, QualCoder never
  use Milieu's GOV./STR./DYN./OTH. keys). A code named like a Milieu code (``GOV.FRAG``)
  keeps its family; any other code goes to the IMPORTED family with its parent, colour and
  description. Parent codes come in too, so the tree survives.
- Text comes from ``PlainTextContent`` or the file at ``plainTextPath`` (``internal://``
  in the archive's ``sources/`` or ``Sources/`` folder, ``relative://`` or a bare relative
  path as qc 1.3.2 wrote them). When that text is empty or missing (NVivo writes a 1-byte
  .txt), the .docx at ``richTextPath`` is read instead.
- Sources without a name (QualCoder) are named after their file.
- Positions are code points (QualCoder, Milieu) or UTF-16 units (tools built on .NET, Qt
  or Java strings). ``position_unit="auto"`` decides per source from the selections that
  would fall outside the text, then from the tool named in ``origin``.
- Descriptions and notes (``NoteRef`` to ``<Notes>``) on codings, selections, sources and
  codes come in as memos, descriptions and definitions.
- Every refusal names the file, the element and the reason. A file with a DOCTYPE is
  refused (entity expansion, external entities), and archive members are read counting
  the bytes actually inflated, never trusting the sizes the archive declares.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from analysis.datasets import FAMILIES, FAMILY_OF_PREFIX, Dataset, empty_table
from analysis.safe_zip import SafeZip, UnsafeZipError
from analysis.writers.refi import (
    IMPORTED,
    PROJECT_NS,
    PathLike,
    RefiError,
    _parse_meta,
    _parser,
    _refuse_doctype,
    from_unit,
    parse_and_validate,
)

#: The family of codes that come from another tool under their own names.
IMPORTED_FAMILY = IMPORTED
#: What an archive may unpack to when the caller sets no bound (files an admin names).
DEFAULT_MAX_UNPACKED = 2 * 1024**3
POSITION_UNITS = ("auto", "codepoint", "utf16")
#: Tools whose strings count UTF-16 code units (origin attribute, lower case).
UTF16_TOOLS = ("nvivo", "maxqda", "atlas.ti", "atlas", "f4analyse", "transana", "dedoose")
CODEPOINT_TOOLS = ("qualcoder", "milieu", "qcoder")
_MILIEU_KEY = re.compile(r"^(GOV|STR|DYN|OTH)\.[A-Z0-9_.]+$")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: The longest code key the database keeps.
MAX_KEY = 200
#: What the codebook table carries beyond the contract columns (RefiProject.code_tree).
TREE_COLUMNS = ["code", "parent", "color", "codable"]


@dataclass
class RefiProject:
    """What a REFI-QDA file carries, in Milieu's tidy-table shapes.

    Beyond the contract tables: code_tree (each code's parent, colour and whether it is
    codable), codings.memo, and per transcript its source name and memo."""

    name: str
    origin: str = ""
    codebook: pd.DataFrame = field(default_factory=lambda: empty_table("codebook"))
    code_tree: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TREE_COLUMNS))
    users: pd.DataFrame = field(default_factory=lambda: empty_table("users"))
    transcripts: pd.DataFrame = field(default_factory=lambda: empty_table("transcripts"))
    codings: pd.DataFrame = field(
        default_factory=lambda: pd.concat(
            [empty_table("codings"), pd.DataFrame({"memo": pd.Series(dtype=object)})], axis=1
        )
    )
    cases: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["case_guid", "name", "interview_id", "variables", "source_guids"]
        )
    )
    source_guids: dict[str, int] = field(default_factory=dict)
    #: transcript id -> the source's name in the file (or its file name)
    source_names: dict[Any, str] = field(default_factory=dict)
    #: transcript id -> the source's description and notes
    source_memos: dict[Any, str] = field(default_factory=dict)
    #: transcript id -> the unit its positions were read in
    position_units: dict[Any, str] = field(default_factory=dict)
    #: transcript ids whose text came from the .docx at richTextPath
    rich_text_sources: list[Any] = field(default_factory=list)
    #: notes attached to nothing this reader imports (project journals, links, graphs)
    loose_notes: int = 0
    #: sources that are not text (PDF, picture, audio, video), by kind: not imported
    other_sources: dict[str, int] = field(default_factory=dict)

    def to_dataset(self) -> Dataset:
        """Return a Dataset holding the codebook, users, transcripts and codings."""
        return Dataset(
            codebook=self.codebook,
            users=self.users,
            transcripts=self.transcripts,
            codings=self.codings,
            name=self.name,
        )


# --- XML and archive safety ------------------------------------------------------------------


class _Archive:
    """A .qdpx archive read member by member through SafeZip, counting the bytes really
    inflated (by the archive's members and by any .docx inside it) against one cap."""

    def __init__(self, path: PathLike, max_unpacked: int | None) -> None:
        self.label = Path(path).name
        self.cap = max_unpacked if max_unpacked is not None else DEFAULT_MAX_UNPACKED
        self.used = 0
        try:
            self.file = open(path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise RefiError(f"{self.label}: not a .qdpx archive ({exc})") from exc
        try:
            self.zip = SafeZip(self.file, max_member_bytes=self.cap, max_total_bytes=self.cap)
        except UnsafeZipError as exc:
            self.file.close()
            raise RefiError(f"{self.label}: not a .qdpx archive ({exc})") from exc
        self.members = {n.lower(): n for n in self.zip.names() if not n.endswith("/")}
        # The declared sizes refuse an honest big archive early; they bound nothing (a forged
        # header may declare anything): read() counts the bytes really inflated.
        declared = sum(info.file_size for info in self.zip.infos.values())
        if declared > self.cap:
            self.close()
            raise RefiError(
                f"{self.label}: the archive unpacks to {declared / 1e6:.0f} MB, "
                f"more than the {self.cap / 1e6:.0f} MB allowed"
            )

    def close(self) -> None:
        self.zip.close()
        self.file.close()

    def read(self, name: str) -> bytes:
        return self.read_from(self.zip, name, name)

    def read_from(self, archive: SafeZip, name: str, what: str) -> bytes:
        """Read a member of this archive or of a zip inside it, within what is left."""
        before = archive.inflated
        try:
            return archive.read(name, max_bytes=self.cap - self.used)
        except UnsafeZipError as exc:
            if exc.reason == "too_large":
                raise RefiError(
                    f"{self.label}: {what}: the archive unpacks to more than the "
                    f"{self.cap / 1e6:.0f} MB allowed"
                ) from None
            raise RefiError(f"{self.label}: {what}: cannot be unpacked ({exc})") from None
        finally:
            self.used += archive.inflated - before

    def find(self, ref: str, base: str = "") -> str | None:
        """Return the archive member a source path names, whatever the folder's case."""
        ref = ref.replace("\\", "/")
        for scheme in ("internal://", "relative://", "absolute://", "file://"):
            if ref.lower().startswith(scheme):
                ref = ref[len(scheme) :]
                break
        ref = ref.lstrip("/")
        base = base.replace("\\", "/").strip("/")
        name = posixpath.basename(ref)
        candidates = [
            f"sources/{ref}",
            ref,
            posixpath.join(base, ref) if base else ref,
            f"sources/{name}",
            name,
        ]
        for candidate in candidates:
            found = self.members.get(posixpath.normpath(candidate).lower())
            if found is not None:
                return found
        return None


# --- small helpers ---------------------------------------------------------------------------


def _tag(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and _tag(c) == name]


def _child_text(element: etree._Element, name: str) -> str | None:
    found = _children(element, name)
    return found[0].text if found else None


def _guid(value: str | None) -> str:
    return (value or "").strip().strip("{}").lower()


def _describe(element: etree._Element) -> str:
    """Name an element in a message: its tag, name and guid."""
    name = element.get("name")
    label = f"{_tag(element)} {name!r}" if name else _tag(element)
    return f"{label} ({element.get('guid')})" if element.get("guid") else label


def _decode(raw: bytes, what: str) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RefiError(f"{what}: not UTF-8 text (byte {exc.start})") from None


def docx_text(data: bytes, archive: _Archive, what: str) -> str:
    """Return the plain text of a .docx: paragraphs joined by \\n, tabs and breaks kept."""
    left = max(archive.cap - archive.used, 0)
    try:
        inner = SafeZip(data, max_member_bytes=left, max_total_bytes=left)
    except UnsafeZipError as exc:
        raise RefiError(f"{what}: not a .docx file ({exc})") from exc
    with inner:
        if "word/document.xml" not in inner.names():
            raise RefiError(f"{what}: not a .docx file (no word/document.xml)")
        xml = archive.read_from(inner, "word/document.xml", f"{what}: word/document.xml")
    _refuse_doctype(xml, what)
    try:
        root = etree.fromstring(xml, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise RefiError(f"{what}: word/document.xml is not well-formed: {exc.msg}") from exc
    paragraphs = []
    for paragraph in root.iter(f"{_W}p"):
        if any(a.tag == f"{_W}p" for a in paragraph.iterancestors()):
            continue  # a text box inside a paragraph is read with that paragraph
        parts = []
        for element in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
            if element.tag == f"{_W}t":
                parts.append(element.text or "")
            elif element.tag == f"{_W}tab":
                parts.append("\t")
            else:
                parts.append("\n")
        paragraphs.append("".join(parts))
    return "\n".join(paragraphs)


# --- codes -----------------------------------------------------------------------------------


def _family(name: str, top: str | None) -> str:
    """Return a code's family: a Milieu key keeps its own, anything else is IMPORTED."""
    match = _MILIEU_KEY.match(name)
    if match and (top is None or top in FAMILIES):
        return FAMILY_OF_PREFIX[match.group(1)]
    return IMPORTED_FAMILY


def _unique_key(name: str, parent: str | None, taken: set[str]) -> str:
    key = " ".join(name.split()) or "code"
    if key in taken and parent:
        key = f"{parent}/{key}"
    if len(key) > MAX_KEY:
        key = key[: MAX_KEY - 4].rstrip() + "…"
    base, number = key, 2
    while key in taken:
        suffix = f" ({number})"
        key = base[: MAX_KEY - len(suffix)] + suffix
        number += 1
    taken.add(key)
    return key


def _read_codes(
    codes: etree._Element | None, notes: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Return the codebook table, the code tree and {guid: code key} from a <Codes> element."""
    rows: list[dict[str, Any]] = []
    by_guid: dict[str, str] = {}
    taken: set[str] = set()

    def walk(element: etree._Element, parent_key: str | None, top: str | None) -> None:
        name = element.get("name") or ""
        children = _children(element, "Code")
        codable = element.get("isCodable") in {"true", "1"}
        if top is None and name in FAMILIES and not codable:
            # a Milieu export's family node: its codes carry their own family
            by_guid[_guid(element.get("guid"))] = name
            for child in children:
                walk(child, None, name)
            return
        key = _unique_key(name, parent_key, taken)
        by_guid[_guid(element.get("guid"))] = key
        family = _family(key, top)
        meta = _description_fields(_child_text(element, "Description"))
        extra = _note_texts(element, notes)
        if extra:
            meta["definition"] = "\n\n".join(t for t in (meta["definition"], extra) if t)
        rows.append(
            {
                "code": key,
                "family": family,
                **meta,
                "label_fr": meta["label_fr"] or (name if name != key else None),
                "parent": parent_key if family == IMPORTED_FAMILY else None,
                "color": _color(element.get("color")),
                "codable": codable,
            }
        )
        for child in children:
            walk(child, key, top)

    for code in _children(codes, "Code") if codes is not None else []:
        walk(code, None, None)
    frame = pd.DataFrame(rows, columns=[*empty_table("codebook").columns, *TREE_COLUMNS[1:]])
    return frame[list(empty_table("codebook").columns)], frame[TREE_COLUMNS], by_guid


def _color(value: str | None) -> str | None:
    """Return a colour as #RRGGBB (ATLAS.ti and others may write #RGB), or None."""
    value = (value or "").strip()
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        return value.upper()
    if re.fullmatch(r"#[0-9A-Fa-f]{3}", value):
        return "#" + "".join(c * 2 for c in value[1:]).upper()
    return None


def _description_fields(text: str | None) -> dict[str, str | None]:
    fields: dict[str, str | None] = {"label_fr": None, "label_en": None, "definition": None}
    if not text:
        return fields
    matched = False
    for line in text.split("\n"):
        key, sep, value = line.partition(": ")
        if sep and key in fields:
            fields[key], matched = value, True
    if not matched:
        fields["definition"] = text
    return fields


def _note_texts(element: etree._Element, notes: dict[str, str]) -> str:
    """Return the texts of the notes an element refers to, in order."""
    texts = [notes.get(_guid(r.get("targetGUID")), "") for r in _children(element, "NoteRef")]
    return "\n\n".join(t for t in texts if t)


def _memo(element: etree._Element, notes: dict[str, str]) -> str:
    """Return an element's own Description (not Milieu's metadata line) and its notes."""
    description = _child_text(element, "Description") or ""
    if description.startswith("milieu:"):
        description = ""
    return "\n\n".join(t for t in (description.strip(), _note_texts(element, notes)) if t)


# --- entry points ----------------------------------------------------------------------------


def read_qdc(path: PathLike, xsd_dir: PathLike | None = None) -> RefiProject:
    """Read and validate a .qdc codebook; raise RefiError on any schema violation."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RefiError(f"{Path(path).name}: cannot be read ({exc.strerror})") from exc
    root = parse_and_validate(data, "Codebook", xsd_dir, what=Path(path).name)
    book, tree, _ = _read_codes(_children(root, "Codes")[0], {})
    return RefiProject(
        name=Path(path).stem, origin=root.get("origin") or "", codebook=book, code_tree=tree
    )


def read_qdpx(
    path: PathLike,
    xsd_dir: PathLike | None = None,
    position_unit: str = "auto",
    max_unpacked: int | None = None,
) -> RefiProject:
    """Read and validate a .qdpx project; raise RefiError naming the file, element and reason.

    position_unit: 'auto' (decided per source), 'codepoint' or 'utf16'.
    max_unpacked: refuse an archive that inflates to more bytes than this (None: 2 GiB)."""
    if position_unit not in POSITION_UNITS:
        raise RefiError(f"unknown position unit {position_unit!r}; use {', '.join(POSITION_UNITS)}")
    archive = _Archive(path, max_unpacked)
    try:
        qde = [n for n in archive.zip.names() if n.lower().endswith(".qde") and "/" not in n]
        if not qde:
            raise RefiError(f"{archive.label}: no project.qde at the root of the archive")
        what = f"{archive.label}: {qde[0]}"
        root = parse_and_validate(archive.read(qde[0]), "Project", xsd_dir, what=what)
        return _ProjectReader(root, archive, position_unit, what).read()
    finally:
        archive.close()


def read_refi(path: PathLike, xsd_dir: PathLike | None = None, **options: Any) -> RefiProject:
    """Read a .qdc or .qdpx file by its extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".qdc":
        return read_qdc(path, xsd_dir)
    if suffix == ".qdpx":
        return read_qdpx(path, xsd_dir, **options)
    raise RefiError(f"{Path(path).name}: expected a .qdc or .qdpx file")


class _ProjectReader:
    """Turn a validated project element into a RefiProject."""

    def __init__(self, root: etree._Element, archive: _Archive, unit: str, what: str) -> None:
        self.root, self.archive, self.unit, self.what = root, archive, unit, what
        self.origin = root.get("origin") or ""
        self.base = root.get("basePath") or ""
        self.used_notes: set[str] = set()

    def fail(self, element: etree._Element, reason: str) -> RefiError:
        return RefiError(f"{self.what}: {_describe(element)}: {reason}")

    def read(self) -> RefiProject:
        users = {
            _guid(u.get("guid")): u.get("name") or u.get("id") or _guid(u.get("guid"))
            for u in self._all("User")
        }
        self.notes = self._notes()
        books = _children(self.root, "CodeBook")
        book, tree, codes = _read_codes(
            _children(books[0], "Codes")[0] if books else None, self.notes
        )
        project = RefiProject(
            name=self.root.get("name") or "",
            origin=self.origin,
            codebook=book,
            code_tree=tree,
            users=pd.DataFrame({"username": list(users.values()), "role": None}),
        )
        interview_of = self._cases(project)
        transcripts, codings = [], []
        for index, source in enumerate(self._all("TextSource"), start=1):
            text, from_rich = self._source_text(source)
            meta = _parse_meta(_child_text(source, "Description"))
            source_guid = _guid(source.get("guid"))
            tid = int(meta.get("transcript_id", index))
            iid = (
                int(meta["interview_id"])
                if "interview_id" in meta
                else interview_of.get(source_guid, tid)
            )
            project.source_guids[source_guid] = tid
            project.source_names[tid] = self._source_name(source, index)
            memo = _memo(source, self.notes)
            if memo:
                project.source_memos[tid] = memo
            if from_rich:
                project.rich_text_sources.append(tid)
            transcripts.append(
                {
                    "transcript_id": tid,
                    "interview_id": iid,
                    "version": int(meta.get("version", 1)),
                    "sha256": meta.get("sha256"),
                    "text": text,
                }
            )
            unit = self._unit(source, text)
            project.position_units[tid] = unit
            codings += self._codings(source, text, unit, tid, iid, users, codes)
        project.transcripts = pd.DataFrame(
            transcripts, columns=list(empty_table("transcripts").columns)
        )
        project.codings = _number_codings(
            pd.DataFrame(codings, columns=[*empty_table("codings").columns, "memo"])
        )
        families = dict(zip(book["code"], book["family"], strict=True))
        project.codings["family"] = [
            families.get(c, f)
            for c, f in zip(project.codings["code"], project.codings["family"], strict=True)
        ]
        for element in self.root.iter(f"{{{PROJECT_NS}}}NoteRef"):
            self.used_notes.add(_guid(element.get("targetGUID")))
        project.loose_notes = len(set(self.notes) - self.used_notes)
        for kind in ("PDFSource", "PictureSource", "AudioSource", "VideoSource"):
            if found := len(self._all(kind)):
                project.other_sources[kind] = found
        return project

    def _all(self, name: str) -> list[etree._Element]:
        return list(self.root.iter(f"{{{PROJECT_NS}}}{name}"))

    def _notes(self) -> dict[str, str]:
        notes = {}
        for block in _children(self.root, "Notes"):
            for note in _children(block, "Note"):
                try:
                    text, _ = self._source_text(note)
                except RefiError:
                    text = ""
                title = note.get("name") or ""
                notes[_guid(note.get("guid"))] = text.strip() or title
        return notes

    def _source_name(self, source: etree._Element, index: int) -> str:
        name = (source.get("name") or "").strip()
        if name:
            return name
        ref = source.get("plainTextPath") or source.get("richTextPath") or ""
        stem = posixpath.splitext(posixpath.basename(ref.replace("\\", "/")))[0]
        return stem or f"source {index}"

    def _read_path(self, source: etree._Element, attribute: str) -> bytes | None:
        ref = source.get(attribute) or ""
        if not ref:
            return None
        member = self.archive.find(ref, self.base)
        return None if member is None else self.archive.read(member)

    def _source_text(self, source: etree._Element) -> tuple[str, bool]:
        """Return the source's text and whether it came from the .docx at richTextPath."""
        content = _child_text(source, "PlainTextContent")
        if content is not None and content.strip():
            return content, False
        plain = self._read_path(source, "plainTextPath")
        text = _decode(plain, f"{self.what}: {_describe(source)}") if plain is not None else ""
        if text.strip():
            return text, False
        rich = self._read_path(source, "richTextPath")
        if rich is not None:
            what = f"{self.what}: {_describe(source)}: {source.get('richTextPath')}"
            return docx_text(rich, self.archive, what), True
        named = [source.get(a) for a in ("plainTextPath", "richTextPath") if source.get(a)]
        if source.get("richTextPath") or (named and plain is None):
            empty = "the plain text is empty and " if plain is not None or content else ""
            missing = [n for n in named if plain is None or n == source.get("richTextPath")]
            raise self.fail(source, f"{empty}{' and '.join(missing)} missing from the archive")
        if content is not None or plain is not None:
            return content or text, False
        raise self.fail(source, "has neither PlainTextContent nor plainTextPath")

    def _unit(self, source: etree._Element, text: str) -> str:
        """Return how this source's positions count characters."""
        if self.unit != "auto":
            return self.unit
        if all(ord(ch) <= 0xFFFF for ch in text):
            return "codepoint"  # both counts agree
        positions = [
            int(s.get(a))
            for s in _children(source, "PlainTextSelection")
            for a in ("startPosition", "endPosition")
        ]
        if positions and max(positions) > len(text):
            return "utf16"  # only UTF-16 units reach that far
        origin = self.origin.lower()
        if any(tool in origin for tool in UTF16_TOOLS):
            return "utf16"
        return "codepoint"

    def _cases(self, project: RefiProject) -> dict[str, int]:
        rows, interview_of = [], {}
        names = {_guid(v.get("guid")): v.get("name") for v in self._all("Variable")}
        for index, case in enumerate(self._all("Case"), start=1):
            meta = _parse_meta(_child_text(case, "Description"))
            iid = int(meta.get("interview_id", 100000 + index))
            refs = [_guid(r.get("targetGUID")) for r in _children(case, "SourceRef")]
            for ref in refs:
                interview_of[ref] = iid
            values = {}
            for vv in _children(case, "VariableValue"):
                target = _guid(_children(vv, "VariableRef")[0].get("targetGUID"))
                value = [c for c in vv if isinstance(c.tag, str) and _tag(c) != "VariableRef"]
                values[names.get(target, target)] = value[0].text if value else None
            rows.append(
                {
                    "case_guid": case.get("guid"),
                    "name": case.get("name"),
                    "interview_id": iid,
                    "variables": values,
                    "source_guids": refs,
                }
            )
        if rows:
            project.cases = pd.DataFrame(rows)
        return interview_of

    def _codings(
        self,
        source: etree._Element,
        text: str,
        unit: str,
        tid: int,
        iid: int,
        users: dict[str, str],
        codes: dict[str, str],
    ) -> list[dict[str, Any]]:
        rows = []
        limit = len(text) if unit == "codepoint" else len(text.encode("utf-16-le")) // 2
        for selection in _children(source, "PlainTextSelection"):
            start = from_unit(text, int(selection.get("startPosition")), unit)
            end = from_unit(text, int(selection.get("endPosition")), unit)
            start, end = min(start, end), max(start, end)
            raw_end = max(int(selection.get("startPosition")), int(selection.get("endPosition")))
            if raw_end > limit or min(start, end) < 0:
                raise self.fail(
                    selection,
                    f"positions {selection.get('startPosition')}-{selection.get('endPosition')} "
                    f"lie outside the text of {_describe(source)} ({limit} {unit} units); "
                    "if the tool counts otherwise, name the unit (--position-unit)",
                )
            meta = _parse_meta(_child_text(selection, "Description"))
            selection_memo = _memo(selection, self.notes)
            for coding in _children(selection, "Coding"):
                rows.append(
                    self._coding(
                        selection, coding, meta, start, end, tid, iid, users, codes, selection_memo
                    )
                )
        return rows

    def _coding(
        self,
        selection: etree._Element,
        coding: etree._Element,
        meta: dict[str, str],
        start: int,
        end: int,
        tid: int,
        iid: int,
        users: dict[str, str],
        codes: dict[str, str],
        selection_memo: str,
    ) -> dict[str, Any]:
        ref = _guid(_children(coding, "CodeRef")[0].get("targetGUID"))
        if ref not in codes:
            raise self.fail(coding, f"refers to code {ref}, absent from the codebook")
        creator = coding.get("creatingUser") or selection.get("creatingUser") or ""
        when = coding.get("creationDateTime") or selection.get("creationDateTime")
        code = codes[ref]
        memo = "\n\n".join(t for t in (selection_memo, _note_texts(coding, self.notes)) if t)

        def number(key: str, cast: Any) -> Any:
            return cast(float(meta[key])) if key in meta else None

        stamp = pd.Timestamp(when) if when else None
        if stamp is not None:
            stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
        return {
            "coding_id": number("coding_id", int),
            "interview_id": iid,
            "transcript_id": tid,
            "start": start,
            "end": end,
            "code": code,
            "family": _family(code, None),
            "coder": users.get(_guid(creator), creator or None),
            "source": meta.get("source", "human"),
            "confidence": number("confidence", float),
            "valence": number("valence", int),
            "intensity": number("intensity", int),
            "round_id": number("round_id", int),
            "created_dt": stamp,
            "memo": memo,
        }


def _number_codings(codings: pd.DataFrame) -> pd.DataFrame:
    """Give codings from other tools (no Milieu id) fresh ids after the known ones."""
    ids = codings["coding_id"]
    if not ids.isna().any():
        return codings
    top = int(ids.max()) if ids.notna().any() else 0
    fresh = range(top + 1, top + 1 + int(ids.isna().sum()))
    codings.loc[ids.isna(), "coding_id"] = list(fresh)
    return codings


__all__ = [
    "IMPORTED_FAMILY",
    "POSITION_UNITS",
    "RefiProject",
    "docx_text",
    "read_qdc",
    "read_qdpx",
    "read_refi",
]
