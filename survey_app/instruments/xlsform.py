"""XLSForm export and import, for offline collection with ODK Collect or KoboToolbox.

The export is a standard XLSForm (survey, choices, settings sheets) with French and English
columns. Milieu-only attributes (likert/frequency/consent types, D, codes, reverse items)
ride along in ``milieu_*`` columns, which pyxform ignores, so an export imports back into
the same instrument. A "don't know" and "refused" choice is added to the choice lists of
questions that allow them; non-consent sections are shown only once both consents are yes.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import openpyxl
import yaml

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
#: the question of an exported form that names the organisation (not an instrument question)
ORGANISATION_QUESTION = "milieu_organisation"


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


ORGANISATIONS_FILE = "organisations.csv"


def _organisation_row() -> list[Any]:
    """The first survey row: which organisation the interview is with, by pseudonym."""
    row: list[Any] = [""] * len(SURVEY_COLUMNS)
    row[:4] = [
        f"select_one_from_file {ORGANISATIONS_FILE}",
        ORGANISATION_QUESTION,
        "Organisation (pseudonyme)",
        "Organisation (pseudonym)",
    ]
    row[SURVEY_COLUMNS.index("required")] = "yes"
    row[SURVEY_COLUMNS.index("appearance")] = "minimal"
    return row


def _write_atomically(path: Path, suffix: str, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".xlsform-", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_organisations(path: Path, pseudonyms: list[str]) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["name", "label"])
            out.writerows([p, p] for p in pseudonyms)

    _write_atomically(path, ".csv", write)


def export_xlsform(
    instrument: Instrument, path: str | Path, *, organisations: list[str] | None = None
) -> Path:
    """Write an instrument as an XLSForm workbook (atomically) and return its path.

    With ``organisations`` (pseudonyms), the form opens with a ``select_one_from_file``
    question on them, written beside the workbook as organisations.csv (upload both to ODK
    Central or KoboToolbox): each submission then names its organisation.
    """
    path = Path(path)
    choice_rows, with_missing = _choice_rows(instrument)
    wb = openpyxl.Workbook()
    survey = wb.active
    survey.title = "survey"
    rows = _survey_rows(instrument, with_missing)
    if organisations is not None:
        if not organisations:
            raise InstrumentError([("", "no organisation of this kind to put in the form")])
        rows.insert(0, _organisation_row())
    for row in [SURVEY_COLUMNS, *rows]:
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
    if organisations is not None:
        _write_organisations(path.parent / ORGANISATIONS_FILE, sorted(organisations))
    _write_atomically(path, ".xlsx", wb.save)
    return path


# --- import ------------------------------------------------------------------------------
#
# The workbook is read by pyxform itself (``get_xlsform`` then ``workbook_to_json``), so
# whatever pyxform accepts is understood the same way: .xls and .xlsx, either spelling of
# types, case-insensitive sheets and headers, ``select one from``, ``or_other``, one label
# column or one per language. The nested form pyxform returns is then mapped onto Milieu's
# sections and questions; what Milieu cannot represent is refused by name, with its row.

#: pyxform question types (as ``workbook_to_json`` spells them) -> Milieu types.
_PLAIN_TYPES = {
    "text": "text",
    "integer": "integer",
    "decimal": "decimal",
    "date": "date",
    # older spellings pyxform still accepts
    "string": "text",
    "q string": "text",
    "add text prompt": "text",
    "phone number": "text",
    "int": "integer",
    "q int": "integer",
    "add integer prompt": "integer",
    "q decimal": "decimal",
    "add decimal prompt": "decimal",
    "q date": "date",
    "add date prompt": "date",
}
_SELECT_TYPES = {"select one": "select_one", "select all that apply": "select_multiple"}
#: pyxform metadata and display-only types: recorded by the device or shown, never answered.
_SKIPPED_TYPES = METADATA_TYPES | {
    "note",
    "q note",
    "add note prompt",
    "phonenumber",
    "get phone number",
    "start-geopoint",
    "background-audio",
    "trigger",
    "start time",
    "get start time",
    "end time",
    "get end time",
    "get today",
    "device id",
    "get device id",
    "imei",
    "sim id",
    "get sim id",
    "subscriber id",
    "get subscriber id",
}
_TRUE_WORDS = frozenset({"yes", "true", "true()", "1"})
_PARENT_REF = re.compile(r"\.\./([A-Za-z_][A-Za-z0-9_.-]*)")
_VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")
_SLUG_RE = re.compile(r"[^a-z0-9]+")
_MILIEU_GUIDES = {"sme": "sme_manager.yaml", "relay": "relay_actor.yaml"}


def slug(text: str, *, prefix: str = "form", limit: int = 64) -> str:
    """Return an identifier `[a-z][a-z0-9_]*` made from any text (a form id, a name)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = _SLUG_RE.sub("_", plain.lower()).strip("_")
    if not out or not out[0].isalpha():
        out = f"{prefix}_{out}".rstrip("_")
    return out[:limit].rstrip("_")


def _lang_of(language: str) -> str | None:
    """Return 'fr', 'en' or None for a pyxform language name ('Français (fr)', 'English')."""
    lowered = language.strip().lower()
    code = lowered.rsplit("(", 1)[1].rstrip(") ") if "(" in lowered else ""
    if code == "fr" or lowered in ("fr", "french") or lowered.startswith(("fran", "french")):
        return "fr"
    if code == "en" or lowered in ("en", "english") or lowered.startswith("english"):
        return "en"
    return None


def _text(value: Any) -> dict[str, str] | None:
    """Turn a pyxform text (a string, or language -> string) into {fr, en}.

    A single-language text (no language, or pyxform's 'default') fills both languages; a
    form in other languages only keeps its first text in both.
    """
    if not value:
        return None
    if isinstance(value, str):
        return {"fr": value.strip(), "en": value.strip()} if value.strip() else None
    if not isinstance(value, dict):
        return None
    found: dict[str, str] = {}
    for language, text in value.items():
        lang = _lang_of(str(language))
        if lang and isinstance(text, str) and text.strip():
            found.setdefault(lang, text.strip())
    fallback = next((t.strip() for t in value.values() if isinstance(t, str) and t.strip()), "")
    fr = found.get("fr") or found.get("en") or fallback
    if not fr:
        return None
    return {"fr": fr, "en": found.get("en") or fr}


def _choice_lists(form: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    lists: dict[str, list[dict[str, Any]]] = {}
    for name, choices in (form.get("choices") or {}).items():
        lists[name] = [
            {
                "value": str(c.get("name", "")),
                "label": _text(c.get("label"))
                or {"fr": str(c.get("name", "")), "en": str(c.get("name", ""))},
            }
            for c in choices
        ]
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


def _rows_by_name(book: Any) -> dict[str, int]:
    """Return each survey name -> its first sheet row (pyxform keeps blank rows in place)."""
    rows: dict[str, int] = {}
    for number, row in enumerate(book.survey or [], start=2):
        name = next((str(v) for k, v in row.items() if str(k).strip().lower() == "name"), "")
        if name.strip():
            rows.setdefault(name.strip(), number)
    return rows


def _pyxform_expression(source: str) -> str:
    """Write pyxform's own references (``../x`` in an or_other question) as ``${x}``."""
    return _PARENT_REF.sub(lambda m: "${" + m.group(1) + "}", source)


class _Importer:
    """Map pyxform's nested form onto Milieu sections, collecting every refusal."""

    def __init__(self, form: dict[str, Any], rows: dict[str, int], gate: str | None) -> None:
        self.form = form
        self.rows = rows
        self.gate = gate
        self.lists = _choice_lists(form)
        self.used_lists: set[str] = set()
        self.keys: dict[tuple[str, str], str] = {}
        self.sections: list[dict[str, Any]] = []
        self.problems: list[tuple[str, str]] = []
        self.warnings: list[str] = []
        self.organisation_question: str | None = None
        self.key_rows: dict[str, int] = {}

    def identifier(self, kind: str, name: str) -> str:
        """Return a valid, unique section key or list name for a form's group or list name."""
        if (kind, name) not in self.keys:
            limit = 32 if kind == "section" else 64
            key = base = slug(name, prefix=kind, limit=limit)
            taken = {v for (k, _), v in self.keys.items() if k == kind}
            n = 1
            while key in taken:
                n += 1
                key = f"{base[: limit - len(str(n)) - 1]}_{n}"
            self.keys[(kind, name)] = key
        return self.keys[(kind, name)]

    def where(self, name: str, fallback: int | None = None) -> str:
        row = self.rows.get(name, fallback)
        return f"survey row {row}" if row else "survey"

    def run(self) -> list[dict[str, Any]]:
        loose: dict[str, Any] | None = None
        for node in self.form.get("children") or []:
            if node.get("type") == "group" and node.get("name") == "meta" and not node.get("label"):
                continue  # pyxform's own meta/instanceID block
            if node.get("type") == "group":
                loose = None
                self._group(node, [])
                continue
            if loose is None:
                loose = self._section({"name": f"section_{len(self.sections) + 1}"})
            self._item(node, loose, [])
        return [s for s in self.sections if s["questions"]]

    def _section(self, node: dict[str, Any]) -> dict[str, Any]:
        name = str(node.get("name", ""))
        title = _text(node.get("label")) or {"fr": name, "en": name}
        section = {"key": self.identifier("section", name), "title": title, "questions": []}
        self.sections.append(section)
        return section

    def _group(self, node: dict[str, Any], conditions: list[str]) -> None:
        rel = (node.get("bind") or {}).get("relevant", "")
        if rel and not (self.gate and self._same(rel, self.gate)):
            conditions = [*conditions, rel]
        section = self._section(node)
        for child in node.get("children") or []:
            if child.get("type") == "group":
                self._group(child, conditions)
                section = self._section(
                    {"name": f"{node.get('name')}_{len(self.sections) + 1}", **_label(node)}
                )
            else:
                self._item(child, section, conditions)

    @staticmethod
    def _same(a: str, b: str) -> bool:
        try:
            return expr.to_source(a) == expr.to_source(b)
        except expr.ExprError:
            return False

    def _item(self, node: dict[str, Any], section: dict[str, Any], conditions: list[str]) -> None:
        kind = str(node.get("type", ""))
        name = str(node.get("name", ""))
        where = self.where(name)
        if kind in _SKIPPED_TYPES:
            if kind in ("note", "q note", "add note prompt"):
                self.warnings.append(f"{where}: note {name!r} skipped (nothing to answer)")
            return
        if name == ORGANISATION_QUESTION:
            self.organisation_question = name
            return
        appearance = str((node.get("control") or {}).get("appearance", ""))
        if name not in self.rows and (kind == "calculate" or appearance == "label"):
            return  # pyxform's own helper (a repeat count, a table-list header)
        if kind == "repeat":
            self.problems.append((where, f"repeat {name!r}: Milieu has no repeated questions"))
            return
        if kind not in _PLAIN_TYPES and kind not in _SELECT_TYPES:
            self.problems.append((where, f"{kind} {name!r}: Milieu has no {kind} questions"))
            return
        if node.get("choice_filter"):
            self.problems.append(
                (where, f"{name!r}: choice_filter (cascading selects) is not supported")
            )
            return
        key = name.lower()
        if not expr.KEY_RE.match(key):
            self.problems.append(
                (
                    where,
                    f"name {name!r} cannot be a variable name in Milieu, SPSS and Stata "
                    "(a letter, then letters, digits or _, 32 at most)",
                )
            )
            return
        self.key_rows[key] = self.rows.get(name, 0)
        question = self._question(node, kind, key, where, conditions)
        if question is not None:
            section["questions"].append(question)

    def _question(
        self,
        node: dict[str, Any],
        kind: str,
        key: str,
        where: str,
        conditions: list[str],
    ) -> dict[str, Any] | None:
        bind = node.get("bind") or {}
        milieu_type = str(node.get("milieu_type", ""))
        qtype, choices, had_missing = self._type(node, kind, milieu_type, where)
        if qtype is None:
            return None
        name = str(node.get("name", ""))
        q: dict[str, Any] = {
            "key": key,
            "type": qtype,
            "label": _text(node.get("label")) or {"fr": name, "en": name},
        }
        hint = _text(node.get("hint"))
        if hint:
            q["hint"] = hint
        message = _text(bind.get("jr:constraintMsg"))
        if message:
            q["constraint_message"] = message
        if str(bind.get("required", "")).strip().lower() in _TRUE_WORDS:
            q["required"] = True
        relevant = [*conditions, bind.get("relevant", "")]
        relevant = [r for r in relevant if r]
        if relevant and qtype != "consent":
            joined = " and ".join(f"({r})" for r in relevant) if len(relevant) > 1 else relevant[0]
            q["relevant"] = self._expression(joined, f"{where}.relevant")
        if bind.get("constraint"):
            q["constraint"] = self._expression(bind["constraint"], f"{where}.constraint")
        if choices:
            q["choices"] = choices
        if str(node.get("milieu_reverse", "")).lower() == "yes":
            q["reverse"] = True
        q["d"] = node.get("milieu_d") or None
        q["codes"] = str(node.get("milieu_codes", "")).split()
        allow = str(node.get("milieu_allow_missing", "")).lower()
        if qtype != "consent" and (
            allow == "no"
            or (not allow and choices and not had_missing and qtype != "select_multiple")
        ):
            q["allow_missing"] = False
        return q

    def _type(
        self, node: dict[str, Any], kind: str, milieu_type: str, where: str
    ) -> tuple[str | None, str | None, bool]:
        if kind in _SELECT_TYPES:
            listed = str(node.get("list_name") or node.get("itemset") or "")
            if milieu_type == "consent" or listed == CONSENT_LIST:
                return "consent", None, False
            if listed not in self.lists:
                self.problems.append(
                    (where, f"{node.get('name')!r}: choices from a file are not supported")
                )
                return None, None, False
            name, had_missing = _base_list(listed, self.lists)
            self.used_lists.add(name)
            key = self.identifier("list", name)
            if kind == "select all that apply":
                return "select_multiple", key, False
            chosen = milieu_type if milieu_type in ("likert", "frequency") else "select_one"
            return chosen, key, had_missing
        if kind == "text":
            appearance = str((node.get("control") or {}).get("appearance", ""))
            long = "multiline" in appearance or milieu_type == "long_text"
            return ("long_text" if long else "text"), None, False
        return _PLAIN_TYPES[kind], None, False

    def _expression(self, source: str, where: str) -> str | None:
        try:
            return expr.to_source(_pyxform_expression(source))
        except expr.ExprError as exc:
            self.problems.append((where, f"{exc.short} (position {exc.pos}) in {source!r}"))
            return None


def _label(node: dict[str, Any]) -> dict[str, Any]:
    return {"label": node["label"]} if node.get("label") else {}


def _read_form(path: Path) -> tuple[dict[str, Any], dict[str, int], list[str]]:
    """Read a workbook with pyxform; return its nested form, rows by name and its warnings."""
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes on Excel extensions
            book = get_xlsform(str(path))
    except Exception as exc:  # pyxform and its readers raise many kinds for a bad file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InstrumentError(
            [("", f"cannot read {path.name} as an XLSForm workbook (.xls or .xlsx): {reason}")]
        ) from exc
    if not book.survey:
        raise InstrumentError([("survey", "the workbook has no survey sheet (or it is empty)")])
    said: list[str] = []
    try:
        form = workbook_to_json(
            workbook_dict=book,
            form_name="data",
            fallback_form_name=book.fallback_form_name,
            warnings=said,
        )
    except Exception as exc:  # a PyXFormError, or worse, for a malformed form
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InstrumentError([("", f"pyxform refuses the form: {reason}")]) from exc
    return form, _rows_by_name(book), said


def _consent_gate(form: dict[str, Any]) -> str | None:
    keys: list[str] = []

    def walk(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            walk(node.get("children") or [])
            required = str((node.get("bind") or {}).get("required", "")).lower()
            if node.get("milieu_type") == "consent" and required in _TRUE_WORDS:
                keys.append(str(node.get("name")))

    walk(form.get("children") or [])
    return " and ".join(f"${{{k}}} = '{CONSENT_YES}'" for k in keys) or None


def _milieu_consent_section(respondent_type: str) -> dict[str, Any]:
    """Return the consent section of the project's own guide for this respondent type."""
    from .validate import PROJECT_INSTRUMENTS

    path = Path(PROJECT_INSTRUMENTS) / _MILIEU_GUIDES[respondent_type]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return next(s for s in data["sections"] if all(q["type"] == "consent" for q in s["questions"]))


def _version(value: Any, notes: list[str]) -> str:
    text = str(value or "").strip()
    if not text:
        return "1.0.0"
    if _VERSION_RE.match(text):
        return text
    if text.isdigit():
        return f"{text}.0"
    notes.append(f"settings: version {text!r} is not numbered like 1.0.0; imported as 1.0.0")
    return "1.0.0"


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


def import_xlsform(
    path: str | Path,
    *,
    respondent_type: str | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Read an XLSForm and return the instrument structure (as in the YAML files), validated.

    What Milieu did to make the form fit (a consent block put in front, notes skipped...)
    is appended to ``warnings``.
    """
    from .definitions import instrument_from_dict
    from .validate import codebook_codes

    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        _check_xlsx_package(Path(path))

    path = Path(path)
    notes = warnings if warnings is not None else []
    form, rows, said = _read_form(path)
    notes += [f"pyxform: {' '.join(w.split())}" for w in said]
    rtype = respondent_type or form.get("milieu_respondent_type")
    if rtype not in _MILIEU_GUIDES:
        raise InstrumentError(
            [
                (
                    "settings",
                    "no milieu_respondent_type: say whether it is an sme or relay instrument",
                )
            ]
        )
    importer = _Importer(form, rows, _consent_gate(form))
    sections = importer.run()
    if importer.problems:
        raise InstrumentError(importer.problems)
    if not sections:
        raise InstrumentError([("survey", "the form has no question Milieu can ask")])
    notes += importer.warnings
    if not any(q["type"] == "consent" for s in sections for q in s["questions"]):
        consent = _milieu_consent_section(rtype)
        taken = {s["key"] for s in sections}
        if consent["key"] in taken:
            consent = {**consent, "key": f"milieu_{consent['key']}"}
        sections.insert(0, consent)
        keys = ", ".join(q["key"] for q in consent["questions"])
        notes.append(
            f"the form has no consent question: Milieu's consent block ({keys}) was put in front"
        )
    form_id = str(form.get("id_string") or path.stem)
    title_fr = str(form.get("title") or form_id)
    data: dict[str, Any] = {
        "id": slug(form_id),
        "version": _version(form.get("version"), notes),
        "title": {"fr": title_fr, "en": str(form.get("milieu_title_en") or title_fr)},
    }
    if form.get("milieu_description_fr"):
        fr = str(form["milieu_description_fr"])
        data["description"] = {"fr": fr, "en": str(form.get("milieu_description_en") or fr)}
    data["respondent_type"] = rtype
    data["choice_lists"] = {
        importer.identifier("list", name): importer.lists[name]
        for name in importer.lists
        if name in importer.used_lists
    }
    data["sections"] = sections
    try:
        instrument_from_dict(data, codes=codebook_codes(), source=str(path))
    except InstrumentError as exc:
        raise InstrumentError(_with_rows(exc.problems, data, importer.key_rows)) from exc
    return data


def _with_rows(
    problems: list[tuple[str, str]], data: dict[str, Any], key_rows: dict[str, int]
) -> list[tuple[str, str]]:
    """Name the sheet row and question of a validation problem (`sections[1].questions[2]`)."""
    out = []
    for where, message in problems:
        match = re.match(r"sections\[(\d+)\]\.questions\[(\d+)\](.*)", where)
        if match:
            s, q, rest = int(match[1]), int(match[2]), match[3]
            key = data["sections"][s]["questions"][q]["key"]
            row = key_rows.get(key)
            where = f"survey row {row} ({key}){rest}" if row else f"question {key}{rest}"
        out.append((where, message))
    return out
