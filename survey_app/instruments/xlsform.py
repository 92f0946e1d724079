"""XLSForm export and import, for offline collection with ODK Collect or KoboToolbox.

The export is a standard XLSForm (survey, choices, settings sheets) with French and English
columns. Milieu-only attributes (likert/frequency/consent types, D, codes, reverse items)
ride along in ``milieu_*`` columns, which pyxform ignores, so an export imports back into
the same instrument. A "don't know" and "refused" choice is added to the choice lists of
questions that allow them; non-consent sections are shown only once both consents are yes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import openpyxl

from . import expr
from .definitions import (
    CONSENT_NO,
    CONSENT_YES,
    DONT_KNOW,
    MISSING_LABELS,
    REFUSED,
    Instrument,
    InstrumentError,
    Question,
)

FR = "French (fr)"
EN = "English (en)"
CONSENT_LIST = "milieu_consent"
MISSING_SUFFIX = "_dk"
MILIEU_COLUMNS = [
    "milieu_type",
    "milieu_d",
    "milieu_codes",
    "milieu_reverse",
    "milieu_allow_missing",
]
SURVEY_COLUMNS = [
    "type",
    "name",
    f"label::{FR}",
    f"label::{EN}",
    f"hint::{FR}",
    f"hint::{EN}",
    "required",
    "relevant",
    "constraint",
    f"constraint_message::{FR}",
    f"constraint_message::{EN}",
    "appearance",
    *MILIEU_COLUMNS,
]
CHOICE_COLUMNS = ["list_name", "name", f"label::{FR}", f"label::{EN}"]
SETTINGS_COLUMNS = [
    "form_id",
    "form_title",
    "version",
    "default_language",
    "milieu_title_en",
    "milieu_respondent_type",
    "milieu_description_fr",
    "milieu_description_en",
]
CONSENT_LABELS = {
    CONSENT_YES: {"fr": "Oui, j'accepte", "en": "Yes, I agree"},
    CONSENT_NO: {"fr": "Non", "en": "No"},
}
_XLS_TYPES = {
    "text": "text",
    "long_text": "text",
    "integer": "integer",
    "decimal": "decimal",
    "date": "date",
}
_CHOICE_TYPES = {"select_one", "likert", "frequency", "select_multiple"}
#: XLSForm metadata types: recorded by the device, not asked; an import skips them.
METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "phonenumber",
        "simserial",
        "subscriberid",
        "email",
        "audit",
        "start-geopoint",
    }
)
ROW = "__row__"


# --- export ------------------------------------------------------------------------------


def consent_gate(instrument: Instrument) -> str | None:
    """Return the XLSForm expression true once every required consent is yes."""
    keys = [q.key for q in instrument.consent_questions if q.required]
    return " and ".join(f"${{{k}}} = '{CONSENT_YES}'" for k in keys) or None


def _missing_list_name(name: str, lists: dict[str, Any]) -> str:
    derived = name + MISSING_SUFFIX
    while derived in lists:
        derived += "_"
    return derived


def _choice_rows(instrument: Instrument) -> tuple[list[list[Any]], dict[str, str]]:
    """Return the choices sheet rows and list name -> list name with missing options."""
    rows: list[list[Any]] = []
    with_missing: dict[str, str] = {}
    for name, choices in instrument.choice_lists.items():
        rows += [[name, c.value, c.label["fr"], c.label["en"]] for c in choices]
    needed = sorted(
        {
            q.choice_list
            for q in instrument.questions
            if q.allow_missing and q.type in _CHOICE_TYPES - {"select_multiple"} and q.choice_list
        }
    )
    for name in needed:
        derived = _missing_list_name(name, instrument.choice_lists)
        with_missing[name] = derived
        rows += [
            [derived, c.value, c.label["fr"], c.label["en"]] for c in instrument.choice_lists[name]
        ]
        rows += [
            [derived, k, MISSING_LABELS[k]["fr"], MISSING_LABELS[k]["en"]]
            for k in (DONT_KNOW, REFUSED)
        ]
    if instrument.consent_questions:
        rows += [[CONSENT_LIST, v, lab["fr"], lab["en"]] for v, lab in CONSENT_LABELS.items()]
    return rows, with_missing


def _xls_type(q: Question, with_missing: dict[str, str]) -> str:
    if q.type == "consent":
        return f"select_one {CONSENT_LIST}"
    if q.type == "select_multiple":
        return f"select_multiple {q.choice_list}"
    if q.type in _CHOICE_TYPES:
        name = (
            with_missing.get(q.choice_list or "", q.choice_list)
            if q.allow_missing
            else q.choice_list
        )
        return f"select_one {name}"
    return _XLS_TYPES[q.type]


def _appearance(q: Question) -> str:
    if q.type == "long_text":
        return "multiline"
    if q.type == "likert":
        return "likert"
    return ""


def _question_row(q: Question, with_missing: dict[str, str]) -> list[Any]:
    hint = q.hint or {}
    msg = q.constraint_message or {}
    return [
        _xls_type(q, with_missing),
        q.key,
        q.label["fr"],
        q.label["en"],
        hint.get("fr", ""),
        hint.get("en", ""),
        "yes" if q.required else "",
        expr.to_xlsform(q.relevant) if q.relevant else "",
        expr.to_xlsform(q.constraint) if q.constraint else "",
        msg.get("fr", ""),
        msg.get("en", ""),
        _appearance(q),
        q.type,
        q.d or "",
        " ".join(q.codes),
        "yes" if q.reverse else "",
        "yes" if q.allow_missing else "no",
    ]


def _survey_rows(instrument: Instrument, with_missing: dict[str, str]) -> list[list[Any]]:
    gate = consent_gate(instrument)
    blank = [""] * (len(SURVEY_COLUMNS) - 4)
    rows: list[list[Any]] = []
    for section in instrument.sections:
        only_consent = all(q.type == "consent" for q in section.questions)
        row = ["begin_group", section.key, section.title["fr"], section.title["en"], *blank]
        if gate and not only_consent:
            row[SURVEY_COLUMNS.index("relevant")] = gate
        rows.append(row)
        rows += [_question_row(q, with_missing) for q in section.questions]
        rows.append(["end_group", section.key, "", "", *blank])
    return rows


def export_xlsform(instrument: Instrument, path: str | Path) -> Path:
    """Write an instrument as an XLSForm workbook (atomically) and return its path."""
    path = Path(path)
    choice_rows, with_missing = _choice_rows(instrument)
    wb = openpyxl.Workbook()
    survey = wb.active
    survey.title = "survey"
    for row in [SURVEY_COLUMNS, *_survey_rows(instrument, with_missing)]:
        survey.append(row)
    choices = wb.create_sheet("choices")
    for row in [CHOICE_COLUMNS, *choice_rows]:
        choices.append(row)
    settings = wb.create_sheet("settings")
    desc = instrument.description or {}
    settings.append(SETTINGS_COLUMNS)
    settings.append(
        [
            instrument.id,
            instrument.title["fr"],
            instrument.version,
            FR,
            instrument.title["en"],
            instrument.respondent_type,
            desc.get("fr", ""),
            desc.get("en", ""),
        ]
    )
    fd, tmp = tempfile.mkstemp(prefix=".xlsform-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- import ------------------------------------------------------------------------------


def _sheet_rows(wb: Any, name: str) -> list[dict[str, str]]:
    """Return a sheet's rows as dicts by column name, with their sheet row number under ROW."""
    if name not in wb.sheetnames:
        return []
    rows = list(wb[name].iter_rows(values_only=True))
    if not rows:
        return []
    header = [_header(h) for h in rows[0]]
    out = []
    for number, row in enumerate(rows[1:], start=2):
        values = {
            h: ("" if v is None else str(v).strip()) for h, v in zip(header, row, strict=False) if h
        }
        if any(values.values()):
            values[ROW] = str(number)
            out.append(values)
    return out


def _header(cell: Any) -> str:
    """Lower-case a column name's field part (`Label::French (fr)` -> `label::French (fr)`)."""
    if cell is None:
        return ""
    field, sep, lang = str(cell).strip().partition("::")
    return field.strip().lower() + sep + lang.strip()


def _lang_of(column: str) -> str | None:
    """Return 'fr', 'en' or None for a `label::...` style column suffix."""
    suffix = column.split("::", 1)[1].lower() if "::" in column else ""
    if not suffix:
        return "fr"  # a single-language form: treat it as French, the default language
    if suffix in ("fr", "french") or suffix.endswith("(fr)") or suffix.startswith("french"):
        return "fr"
    if suffix in ("en", "english") or suffix.endswith("(en)") or suffix.startswith("english"):
        return "en"
    return None


def _text(row: dict[str, str], base: str) -> dict[str, str] | None:
    """Collect the French and English texts of a column family (label, hint...)."""
    text: dict[str, str] = {}
    for column, value in row.items():
        if (column == base or column.startswith(base + "::")) and value:
            lang = _lang_of(column)
            if lang and lang not in text:
                text[lang] = value
    if not text:
        return None
    fr = text.get("fr") or text.get("en", "")
    return {"fr": fr, "en": text.get("en") or fr}


def _choice_lists(rows: list[dict[str, str]]) -> dict[str, list[dict[str, Any]]]:
    lists: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        name = row.get("list_name") or row.get("list name", "")
        if name:
            lists.setdefault(name, []).append(
                {
                    "value": row.get("name", ""),
                    "label": _text(row, "label")
                    or {"fr": row.get("name", ""), "en": row.get("name", "")},
                }
            )
    return lists


def _base_list(name: str, lists: dict[str, list[dict[str, Any]]]) -> tuple[str, bool]:
    """Map a list with missing options back to its plain list; tell if it had them."""
    choices = lists.get(name, [])
    plain = [c for c in choices if c["value"] not in (DONT_KNOW, REFUSED)]
    if len(plain) == len(choices):
        return name, False
    for other, other_choices in lists.items():
        if other != name and other_choices == plain:
            return other, True
    lists[name] = plain
    return name, True


class _Importer:
    def __init__(
        self, survey: list[dict[str, str]], lists: dict[str, list[dict[str, Any]]], gate: str | None
    ) -> None:
        self.survey = survey
        self.lists = lists
        self.gate = gate
        self.used_lists: set[str] = set()
        self.sections: list[dict[str, Any]] = []

    def run(self) -> list[dict[str, Any]]:
        current: dict[str, Any] | None = None
        depth = 0
        for row in self.survey:
            i = int(row[ROW])
            kind = row.get("type", "").split()
            head = kind[0].lower() if kind else ""
            if head in METADATA_TYPES:
                continue
            if head in ("begin_group", "begin group"):
                depth += 1
                if depth > 1:
                    raise InstrumentError([(f"survey row {i}", "nested groups are not supported")])
                current = self._section(row, i)
            elif head in ("end_group", "end group"):
                depth -= 1
                current = None
            elif head:
                if current is None:
                    current = self._section({"name": f"section_{len(self.sections) + 1}"}, i)
                current["questions"].append(self._question(row, kind, i))
        return [s for s in self.sections if s["questions"]]

    def _section(self, row: dict[str, str], i: int) -> dict[str, Any]:
        rel = row.get("relevant", "")
        if rel and (self.gate is None or expr.to_source(rel) != expr.to_source(self.gate)):
            raise InstrumentError(
                [(f"survey row {i}", f"group-level relevant {rel!r} is not supported")]
            )
        title = _text(row, "label") or {"fr": row.get("name", ""), "en": row.get("name", "")}
        section = {"key": row.get("name", ""), "title": title, "questions": []}
        self.sections.append(section)
        return section

    def _question(self, row: dict[str, str], kind: list[str], i: int) -> dict[str, Any]:
        qtype, choices, had_missing = self._type(row, kind, i)
        q: dict[str, Any] = {
            "key": row.get("name", ""),
            "type": qtype,
            "label": _text(row, "label") or {},
        }
        for field, base in (("hint", "hint"), ("constraint_message", "constraint_message")):
            text = _text(row, base)
            if text:
                q[field] = text
        if row.get("required", "").lower() in ("yes", "true", "true()", "1"):
            q["required"] = True
        for field in ("relevant", "constraint"):
            if row.get(field):
                q[field] = self._expression(row[field], f"survey row {i}.{field}")
        if choices:
            q["choices"] = choices
        if row.get("milieu_reverse", "").lower() == "yes":
            q["reverse"] = True
        q["d"] = row.get("milieu_d") or None
        q["codes"] = row.get("milieu_codes", "").split()
        allow = row.get("milieu_allow_missing", "").lower()
        if qtype != "consent" and (
            allow == "no"
            or (not allow and choices and not had_missing and qtype != "select_multiple")
        ):
            q["allow_missing"] = False
        return q

    def _type(self, row: dict[str, str], kind: list[str], i: int) -> tuple[str, str | None, bool]:
        head = kind[0].lower()
        milieu_type = row.get("milieu_type", "")
        if head in ("select_one", "select_multiple"):
            if len(kind) < 2:
                raise InstrumentError([(f"survey row {i}.type", f"{head} needs a choice list")])
            if milieu_type == "consent" or kind[1] == CONSENT_LIST:
                return "consent", None, False
            name, had_missing = _base_list(kind[1], self.lists)
            self.used_lists.add(name)
            if head == "select_multiple":
                return "select_multiple", name, False
            return (
                (milieu_type if milieu_type in ("likert", "frequency") else "select_one"),
                name,
                had_missing,
            )
        if head == "text":
            return (
                (
                    "long_text"
                    if "multiline" in row.get("appearance", "") or milieu_type == "long_text"
                    else "text"
                ),
                None,
                False,
            )
        if head in ("integer", "decimal", "date"):
            return head, None, False
        raise InstrumentError(
            [(f"survey row {i}.type", f"unsupported XLSForm type {row.get('type')!r}")]
        )

    @staticmethod
    def _expression(source: str, where: str) -> str:
        try:
            return expr.to_source(source)
        except expr.ExprError as exc:
            raise InstrumentError([(where, f"{exc.short} (position {exc.pos})")]) from exc


#: what a workbook may unpack to (a 300-question form is well under 5 MB of XML)
XLSX_MAX_INFLATED = 100_000_000


def _check_xlsx_package(path: Path) -> None:
    """Refuse a workbook whose XML declares a DOCTYPE (Excel never writes one; entities are
    how XML bombs and file disclosure work) or that inflates past XLSX_MAX_INFLATED."""
    from xml.parsers import expat

    from analysis.safe_zip import SafeZip, UnsafeZipError

    def doctype(*_args: object) -> None:
        raise _Doctype

    try:
        with SafeZip(
            path.read_bytes(), max_member_bytes=XLSX_MAX_INFLATED, max_total_bytes=XLSX_MAX_INFLATED
        ) as archive:
            for name in archive.names():
                if not name.endswith((".xml", ".rels")):
                    continue
                parser = expat.ParserCreate()
                parser.StartDoctypeDeclHandler = doctype
                try:
                    for chunk in archive.iter_chunks(name):
                        parser.Parse(chunk, False)
                    parser.Parse(b"", True)
                except _Doctype:
                    message = f"{name} declares a DOCTYPE, which Excel never writes: refused"
                    raise InstrumentError([("", f"{path.name}: {message}")]) from None
                except expat.ExpatError:
                    continue  # openpyxl reports damaged XML in its own words
    except UnsafeZipError as err:
        if err.reason == "bad_zip":
            return  # not a zip at all: openpyxl's message names the problem
        raise InstrumentError([("", f"{path.name}: {err}")]) from None
    except OSError as err:
        raise InstrumentError([("", f"cannot read {path.name}: {err.strerror}")]) from None


class _Doctype(Exception):
    pass


def import_xlsform(path: str | Path, *, respondent_type: str | None = None) -> dict[str, Any]:
    """Read an XLSForm and return the instrument structure (as in the YAML files), validated."""
    from .definitions import instrument_from_dict
    from .validate import codebook_codes

    _check_xlsx_package(Path(path))
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InstrumentError(
            [("", f"cannot read {Path(path).name} as an .xlsx workbook: {exc}")]
        ) from exc
    try:
        # read-only sheets are parsed only now: a damaged sheet fails here, not on load
        survey = _sheet_rows(wb, "survey")
        lists = _choice_lists(_sheet_rows(wb, "choices"))
        settings_rows = _sheet_rows(wb, "settings")
    except InstrumentError:
        raise
    except Exception as exc:
        raise InstrumentError(
            [("", f"cannot read {Path(path).name} as an .xlsx workbook: {exc}")]
        ) from None
    finally:
        wb.close()
    if not survey:
        raise InstrumentError([("survey", "the workbook has no survey sheet (or it is empty)")])
    settings = settings_rows[0] if settings_rows else {}
    data = _assemble(survey, lists, settings, respondent_type, Path(path).stem)
    instrument_from_dict(data, codes=codebook_codes(), source=str(path))
    return data


def _assemble(
    survey: list[dict[str, str]],
    lists: dict[str, list[dict[str, Any]]],
    settings: dict[str, str],
    respondent_type: str | None,
    stem: str,
) -> dict[str, Any]:
    rtype = respondent_type or settings.get("milieu_respondent_type")
    if not rtype:
        raise InstrumentError(
            [
                (
                    "settings",
                    "no milieu_respondent_type: say whether it is an sme or relay instrument",
                )
            ]
        )
    keys = [r.get("name", "") for r in survey]
    gate = (
        " and ".join(
            f"${{{k}}} = '{CONSENT_YES}'"
            for k, r in zip(keys, survey, strict=True)
            if r.get("milieu_type") == "consent" and r.get("required", "").lower() == "yes"
        )
        or None
    )
    importer = _Importer(survey, lists, gate)
    sections = importer.run()
    title_fr = settings.get("form_title") or settings.get("form_id") or stem
    data: dict[str, Any] = {
        "id": settings.get("form_id") or stem,
        "version": settings.get("version") or "1.0.0",
        "title": {"fr": title_fr, "en": settings.get("milieu_title_en") or title_fr},
    }
    if settings.get("milieu_description_fr"):
        fr = settings["milieu_description_fr"]
        data["description"] = {"fr": fr, "en": settings.get("milieu_description_en") or fr}
    data["respondent_type"] = rtype
    data["choice_lists"] = {name: lists[name] for name in lists if name in importer.used_lists}
    data["sections"] = sections
    return data
