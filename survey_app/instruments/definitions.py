"""Instruments as data: dataclasses built from validated YAML files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .validate import InstrumentError, codebook_codes, validate_instrument_data

__all__ = [
    "DONT_KNOW",
    "REFUSED",
    "NOT_ASKED",
    "MISSING_KINDS",
    "Choice",
    "Question",
    "Section",
    "Instrument",
    "InstrumentError",
    "load_instrument",
    "instrument_from_dict",
    "instrument_sha256",
    "canonical_bytes",
    "question_metadata",
    "iter_questions",
]

#: Missing kinds: distinct stored values, never blanks.
DONT_KNOW = "dont_know"
REFUSED = "refused"
NOT_ASKED = "not_asked"
MISSING_KINDS = (DONT_KNOW, REFUSED, NOT_ASKED)
MISSING_LABELS = {
    DONT_KNOW: {"fr": "Ne sait pas", "en": "Don't know"},
    REFUSED: {"fr": "Refus", "en": "Refused"},
    NOT_ASKED: {"fr": "Non posée", "en": "Not asked"},
}
CONSENT_YES = "yes"
CONSENT_NO = "no"


@dataclass(frozen=True)
class Choice:
    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    label: dict[str, str]
    section_key: str
    hint: dict[str, str] | None = None
    required: bool = False
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: dict[str, str] | None = None
    choice_list: str | None = None
    choices: tuple[Choice, ...] = ()
    reverse: bool = False
    d: str | None = None
    codes: tuple[str, ...] = ()
    allow_missing: bool = True

    def choice_values(self) -> list[str]:
        """Return the substantive choice values (missing kinds excluded)."""
        return [c.value for c in self.choices]


@dataclass(frozen=True)
class Section:
    key: str
    title: dict[str, str]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    title: dict[str, str]
    respondent_type: str
    choice_lists: dict[str, tuple[Choice, ...]]
    sections: tuple[Section, ...]
    description: dict[str, str] | None = None
    sha256: str | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def question(self, key: str) -> Question:
        """Return the question with this key (KeyError if absent)."""
        for q in iter_questions(self):
            if q.key == key:
                return q
        raise KeyError(key)

    def section(self, key: str) -> Section:
        """Return the section with this key (KeyError if absent)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def questions(self) -> list[Question]:
        return list(iter_questions(self))

    @property
    def consent_questions(self) -> list[Question]:
        return [q for q in iter_questions(self) if q.type == "consent"]


def iter_questions(instrument: Instrument) -> Iterator[Question]:
    """Yield every question in order, section by section."""
    for section in instrument.sections:
        yield from section.questions


def canonical_bytes(raw: bytes) -> bytes:
    """Return file bytes without a UTF-8 BOM and with `\\n` line ends (checkout-independent)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def instrument_sha256(path: str | Path) -> str:
    """Return the sha256 hex digest of an instrument file's canonical bytes."""
    return hashlib.sha256(canonical_bytes(Path(path).read_bytes())).hexdigest()


def load_instrument(path: str | Path, *, codebook: str | Path | None = None) -> Instrument:
    """Read, validate and build an instrument from a YAML file."""
    path = Path(path)
    try:
        raw = canonical_bytes(path.read_bytes())
        data = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InstrumentError([("", f"cannot read {path.name}: {exc}")], str(path)) from exc
    book = Path(codebook) if codebook else path.parent / "codebook.yaml"
    codes = codebook_codes(book if book.exists() else None)
    return instrument_from_dict(
        data, codes=codes, source=str(path), sha256=hashlib.sha256(raw).hexdigest()
    )


def instrument_from_dict(
    data: Any,
    *,
    codes: set[str] | None = None,
    source: str = "<data>",
    sha256: str | None = None,
) -> Instrument:
    """Validate instrument data (as loaded from YAML) and build the dataclasses."""
    validate_instrument_data(data, codes=codes, source=source)
    lists = {
        name: tuple(Choice(c["value"], dict(c["label"])) for c in choices)
        for name, choices in (data.get("choice_lists") or {}).items()
    }
    sections = tuple(
        Section(
            s["key"], dict(s["title"]), tuple(_question(q, s["key"], lists) for q in s["questions"])
        )
        for s in data["sections"]
    )
    return Instrument(
        id=data["id"],
        version=str(data["version"]),
        title=dict(data["title"]),
        respondent_type=data["respondent_type"],
        choice_lists=lists,
        sections=sections,
        description=data.get("description"),
        sha256=sha256,
        data=data,
    )


def _question(
    q: dict[str, Any], section_key: str, lists: dict[str, tuple[Choice, ...]]
) -> Question:
    name = q.get("choices")
    return Question(
        key=q["key"],
        type=q["type"],
        label=dict(q["label"]),
        section_key=section_key,
        hint=q.get("hint"),
        required=bool(q.get("required", False)),
        relevant=q.get("relevant") or None,
        constraint=q.get("constraint") or None,
        constraint_message=q.get("constraint_message"),
        choice_list=name,
        choices=lists.get(name, ()) if name else (),
        reverse=bool(q.get("reverse", False)),
        d=q.get("d"),
        codes=tuple(q.get("codes") or ()),
        allow_missing=bool(q.get("allow_missing", q["type"] != "consent")),
    )


def question_metadata(instrument: Instrument) -> dict[str, dict[str, Any]]:
    """Return question_key -> {type, d, reverse, codes, choices, label} (table contract)."""
    return {
        q.key: {
            "type": q.type,
            "d": q.d,
            "reverse": q.reverse,
            "codes": list(q.codes),
            "choices": [{"value": c.value, "label": dict(c.label)} for c in q.choices],
            "label": dict(q.label),
        }
        for q in iter_questions(instrument)
    }
