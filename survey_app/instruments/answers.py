"""Answers to an instrument: skip logic, checks, the consent gate and the long format.

An answers dict maps question keys to raw values as a form or a CSV gives them: strings,
numbers, lists (select_multiple), booleans (consent), None or "" for no answer, or one of
the missing kinds ``dont_know`` / ``refused`` / ``not_asked``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import expr
from .definitions import (
    CONSENT_NO,
    CONSENT_YES,
    DONT_KNOW,
    MISSING_KINDS,
    NOT_ASKED,
    REFUSED,
    Instrument,
    Question,
    iter_questions,
)

DEFAULT_CONSENT_KEYS = ("consent_data", "consent_participation")
_INTEGER_RE = re.compile(r"^[+-]?\d+$")
_DECIMAL_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
MAX_TEXT = 100_000


@dataclass(frozen=True)
class AnswerError:
    """One refused answer, with messages for the French and English interface."""

    key: str
    code: str
    message_fr: str
    message_en: str

    @property
    def message(self) -> str:
        return self.message_en

    def __str__(self) -> str:
        return f"{self.key}: {self.message_en}"


class AnswerValueError(ValueError):
    """A raw value that does not fit its question."""

    def __init__(self, code: str, fr: str, en: str) -> None:
        super().__init__(en)
        self.code, self.fr, self.en = code, fr, en


def is_empty(value: Any) -> bool:
    """Tell whether a raw value means "no answer" (None, blank, empty list)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple | set):
        return len(value) == 0
    return False


def coerce_value(question: Question, raw: Any) -> Any:
    """Convert a non-empty raw value to its stored form, or raise AnswerValueError."""
    if isinstance(raw, str) and raw.strip() in MISSING_KINDS:
        return _missing(question, raw.strip())
    converter = _CONVERTERS[question.type]
    return converter(question, raw)


def _missing(question: Question, kind: str) -> str:
    if kind == NOT_ASKED:
        raise AnswerValueError(
            "not_asked",
            "Question affichée : « non posée » impossible.",
            "The question is shown: it cannot be 'not asked'.",
        )
    if not question.allow_missing:
        raise AnswerValueError(
            "missing_not_allowed",
            "« Ne sait pas » / « Refus » non permis ici.",
            "'Don't know' / 'refused' are not allowed here.",
        )
    return kind


def _text(question: Question, raw: Any) -> str:
    if not isinstance(raw, str):
        raise AnswerValueError("type", "Texte attendu.", "Text expected.")
    if len(raw) > MAX_TEXT:
        raise AnswerValueError("too_long", "Texte trop long.", "Text too long.")
    return raw.strip() if question.type == "text" else raw.rstrip()


def _integer(question: Question, raw: Any) -> int:
    if isinstance(raw, bool):
        raise AnswerValueError("type", "Nombre entier attendu.", "Whole number expected.")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and _INTEGER_RE.match(raw.strip()):
        return int(raw.strip())
    raise AnswerValueError("type", "Nombre entier attendu.", "Whole number expected.")


def _decimal(question: Question, raw: Any) -> float:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str) and _DECIMAL_RE.match(raw.strip()):
        return float(raw.strip().replace(",", "."))  # French decimal comma
    raise AnswerValueError("type", "Nombre attendu.", "Number expected.")


def _date(question: Question, raw: Any) -> str:
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    try:
        return dt.date.fromisoformat(str(raw).strip()[:10]).isoformat()
    except ValueError:
        raise AnswerValueError(
            "type", "Date attendue (AAAA-MM-JJ).", "Date expected (YYYY-MM-DD)."
        ) from None


def _select_one(question: Question, raw: Any) -> str:
    value = str(raw).strip()
    if value not in question.choice_values():
        raise AnswerValueError(
            "choice", f"Choix inconnu : {value!r}.", f"Unknown choice: {value!r}."
        )
    return value


def _select_multiple(question: Question, raw: Any) -> list[str]:
    values = raw.split() if isinstance(raw, str) else [str(v).strip() for v in raw]
    unknown = [v for v in values if v not in question.choice_values()]
    if unknown:
        raise AnswerValueError(
            "choice",
            f"Choix inconnu(s) : {', '.join(unknown)}.",
            f"Unknown choice(s): {', '.join(unknown)}.",
        )
    if any(v in MISSING_KINDS for v in values) or len(set(values)) != len(values):
        raise AnswerValueError("choice", "Choix répété.", "Repeated choice.")
    return values


def _consent(question: Question, raw: Any) -> str:
    if raw is True or (
        isinstance(raw, str) and raw.strip().lower() in ("yes", "oui", "on", "true", "1")
    ):
        return CONSENT_YES
    if raw is False or (
        isinstance(raw, str) and raw.strip().lower() in ("no", "non", "off", "false", "0")
    ):
        return CONSENT_NO
    raise AnswerValueError("type", "Réponse oui/non attendue.", "Yes/no answer expected.")


_CONVERTERS = {
    "text": _text,
    "long_text": _text,
    "integer": _integer,
    "decimal": _decimal,
    "date": _date,
    "select_one": _select_one,
    "likert": _select_one,
    "frequency": _select_one,
    "select_multiple": _select_multiple,
    "consent": _consent,
}


def _visibility(
    instrument: Instrument, answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, bool]]:
    """Return (answers with hidden questions as not_asked, key -> shown), in question order.

    Consent questions are always shown; the rest only once the required consents are
    given (as the XLSForm's consent gate does), and then as their `relevant` says.
    """
    gate_open = consent_given(answers, instrument)
    effective: dict[str, Any] = {}
    shown: dict[str, bool] = {}
    for q in iter_questions(instrument):
        if q.type == "consent":
            visible = True
        else:
            visible = gate_open and (q.relevant is None or expr.evaluate(q.relevant, effective))
        shown[q.key] = visible
        effective[q.key] = answers.get(q.key) if visible else NOT_ASKED
    return effective, shown


def visible_questions(instrument: Instrument, answers: Mapping[str, Any]) -> list[Question]:
    """Return the questions shown given the answers (consent gate, then skip logic)."""
    _, shown = _visibility(instrument, answers)
    return [q for q in iter_questions(instrument) if shown[q.key]]


def consent_given(answers: Mapping[str, Any], instrument: Instrument | None = None) -> bool:
    """Tell whether every required consent (data processing, taking part) is a yes."""
    if instrument is None:
        keys = list(DEFAULT_CONSENT_KEYS)
    else:
        keys = [q.key for q in instrument.consent_questions if q.required]
    return all(answers.get(k) in (True, CONSENT_YES) for k in keys)


def validate_answers(
    instrument: Instrument, answers: Mapping[str, Any], *, final: bool
) -> list[AnswerError]:
    """Check answers: types, choices, constraints, consent; `required` only if shown and final."""
    errors = [
        AnswerError(k, "unknown", f"Question inconnue : {k!r}.", f"Unknown question: {k!r}.")
        for k in answers
        if k not in {q.key for q in iter_questions(instrument)}
    ]
    effective, shown = _visibility(instrument, answers)
    for q in iter_questions(instrument):
        if shown[q.key]:
            errors += _check_one(q, answers.get(q.key), effective, final)
    errors += _consent_errors(instrument, answers)
    return errors


def _check_one(q: Question, raw: Any, effective: dict[str, Any], final: bool) -> list[AnswerError]:
    if is_empty(raw) or raw == NOT_ASKED:
        if final and q.required:
            return [
                AnswerError(q.key, "required", "Réponse obligatoire.", "An answer is required.")
            ]
        return []
    try:
        value = coerce_value(q, raw)
    except AnswerValueError as exc:
        return [AnswerError(q.key, exc.code, exc.fr, exc.en)]
    if (
        q.constraint
        and value not in MISSING_KINDS
        and not expr.evaluate(q.constraint, effective, value)
    ):
        msg = q.constraint_message or {}
        return [
            AnswerError(
                q.key,
                "constraint",
                msg.get("fr", f"Valeur refusée par la contrainte « {q.constraint} »."),
                msg.get("en", f"Value breaks the constraint '{q.constraint}'."),
            )
        ]
    return []


def _consent_errors(instrument: Instrument, answers: Mapping[str, Any]) -> list[AnswerError]:
    """Refuse any answer beyond consent while the required consents are not given."""
    if consent_given(answers, instrument):
        return []
    consent_keys = {q.key for q in instrument.consent_questions}
    if all(is_empty(v) or v == NOT_ASKED for k, v in answers.items() if k not in consent_keys):
        return []
    first = instrument.consent_questions[0].key
    return [
        AnswerError(
            first,
            "consent",
            "Aucune réponse ne peut être enregistrée avant le consentement.",
            "No answer can be saved before consent is recorded.",
        )
    ]


def clean_answers(instrument: Instrument, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return stored values for every question: coerced, None if blank, not_asked if hidden.

    Call it on answers that passed validate_answers; invalid values raise AnswerValueError.
    """
    _, shown = _visibility(instrument, answers)
    cleaned: dict[str, Any] = {}
    for q in iter_questions(instrument):
        raw = answers.get(q.key)
        if not shown[q.key]:
            cleaned[q.key] = NOT_ASKED
        elif is_empty(raw) or raw == NOT_ASKED:
            cleaned[q.key] = None
        else:
            cleaned[q.key] = coerce_value(q, raw)
    return cleaned


def answers_long(instrument: Instrument, answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return one row {question_key, value, missing} per question for the answers_long table.

    Missing kinds go to `missing` with a None value; a shown question left empty (allowed
    when it is optional or the interview is a draft) has both None.
    """
    rows = []
    for key, value in clean_answers(instrument, answers).items():
        if value in MISSING_KINDS:
            rows.append({"question_key": key, "value": None, "missing": value})
        else:
            text = None if value is None else expr.node_string(value)
            rows.append({"question_key": key, "value": text, "missing": None})
    return rows


__all__ = [
    "AnswerError",
    "AnswerValueError",
    "DONT_KNOW",
    "REFUSED",
    "NOT_ASKED",
    "answers_long",
    "clean_answers",
    "coerce_value",
    "consent_given",
    "is_empty",
    "validate_answers",
    "visible_questions",
]
