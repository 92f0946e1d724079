"""Validate instrument data: the JSON Schema first, then the rules a schema cannot express."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import milieu_instruments as instrument_files
import yaml

from . import expr

MISSING_CHOICES = ("dont_know", "refused", "not_asked")
CHOICE_TYPES = frozenset({"select_one", "select_multiple", "likert", "frequency"})
#: Names SPSS or Stata reserve, and the names of the expression language.
RESERVED_KEYS = frozenset(
    {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"}
    | {"_n", "_all", "_b", "_coef", "_cons", "_pi", "_rc", "_se", "byte", "double", "float"}
    | {"int", "long", "str", "in", "if", "using"}
    | set(expr.FUNCTIONS)
)
PROJECT_INSTRUMENTS = instrument_files.path()


class InstrumentError(ValueError):
    """An instrument that breaks the schema or a semantic rule; lists every problem."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        self.source = source
        lines = [f"{path}: {message}" if path else message for path, message in problems]
        super().__init__("\n".join(lines))


def _data_file(name: str) -> Path:
    """Find a data file of the instruments folder."""
    return instrument_files.path(name)


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """Return the instrument JSON Schema."""
    return json.loads(_data_file("schema.json").read_text(encoding="utf-8"))


def format_path(parts: Iterable[str | int]) -> str:
    """Format a JSON path as `sections[2].questions[1].relevant`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def schema_problems(data: Any) -> list[tuple[str, str]]:
    """Return the JSON Schema violations, deepest first by path order."""
    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [(format_path(e.absolute_path), _schema_message(e)) for e in errors]


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s)")
    return error.message


def codebook_codes(path: Path | None = None) -> set[str] | None:
    """Return the codes of the codebook, or None when there is no readable codebook."""
    path = path or _data_file("codebook.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    codes = set(_codes_in(data))
    return codes or None


def _codes_in(data: Any) -> Iterator[str]:
    """Yield code names from a codebook, whatever its nesting (lenient on purpose)."""
    code_re = re.compile(r"^[A-Z]{3}\.[A-Z0-9_]+$")
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and code_re.match(key):
                yield key
            elif key == "code" and isinstance(value, str) and code_re.match(value):
                yield value
            yield from _codes_in(value)
    elif isinstance(data, list):
        for item in data:
            yield from _codes_in(item)


def validate_instrument_data(data: Any, *, codes: set[str] | None = None, source: str = "") -> None:
    """Check instrument data against the schema and semantic rules; raise InstrumentError."""
    problems = schema_problems(data)
    if not problems:
        problems = semantic_problems(data, codes)
    if problems:
        raise InstrumentError(problems, source)


def semantic_problems(data: dict[str, Any], codes: set[str] | None) -> list[tuple[str, str]]:
    """Return the problems a schema cannot see (data must already match the schema)."""
    problems = list(_choice_list_problems(data.get("choice_lists") or {}))
    problems += _section_key_problems(data["sections"])
    seen: list[str] = []
    in_consent = True
    for s_i, section in enumerate(data["sections"]):
        for q_i, q in enumerate(section["questions"]):
            path = f"sections[{s_i}].questions[{q_i}]"
            problems += _question_problems(q, path, data, seen, codes)
            if q["type"] == "consent" and not in_consent:
                problems.append((f"{path}.type", "consent questions must come first"))
            in_consent = in_consent and q["type"] == "consent"
            seen.append(q["key"])
    first = data["sections"][0]["questions"][0]
    if first["type"] != "consent":
        problems.append(("sections[0].questions[0]", "the first question must be a consent"))
    elif not any(
        q.get("required")
        for s in data["sections"]
        for q in s["questions"]
        if q["type"] == "consent"
    ):
        problems.append(
            (
                "sections[0].questions[0].required",
                "at least one consent must be required (data processing, taking part)",
            )
        )
    return problems


def _choice_list_problems(lists: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, str]]:
    for name, choices in lists.items():
        values = [c["value"] for c in choices]
        for c_i, value in enumerate(values):
            path = f"choice_lists.{name}[{c_i}].value"
            if value in MISSING_CHOICES:
                yield path, f"{value!r} is reserved for missing answers"
            if values.index(value) != c_i:
                yield path, f"duplicate choice value {value!r}"


def _section_key_problems(sections: list[dict[str, Any]]) -> list[tuple[str, str]]:
    keys = [s["key"] for s in sections]
    return [
        (f"sections[{i}].key", f"duplicate section key {k!r}")
        for i, k in enumerate(keys)
        if keys.index(k) != i
    ]


def _question_problems(
    q: dict[str, Any], path: str, data: dict[str, Any], seen: list[str], codes: set[str] | None
) -> list[tuple[str, str]]:
    problems = _key_problems(q["key"], f"{path}.key", seen)
    problems += _choices_problems(q, path, data.get("choice_lists") or {})
    problems += _expression_problems(q, path, seen)
    if q.get("reverse") and q["type"] != "likert":
        problems.append((f"{path}.reverse", "only likert items can be reverse-scored"))
    if q["type"] == "consent":
        for field in ("relevant", "allow_missing"):
            if q.get(field):
                problems.append((f"{path}.{field}", "not allowed on a consent question"))
    if codes is not None:
        for c_i, code in enumerate(q.get("codes") or []):
            if code not in codes:
                problems.append((f"{path}.codes[{c_i}]", f"unknown codebook code {code!r}"))
    return problems


def _key_problems(key: str, path: str, seen: list[str]) -> list[tuple[str, str]]:
    if key in seen:
        return [(path, f"duplicate question key {key!r}")]
    if key in RESERVED_KEYS:
        return [(path, f"{key!r} is a reserved word in SPSS, Stata or the expression language")]
    if "__" in key or key.endswith("_"):
        return [(path, f"{key!r}: no double underscore and no trailing underscore in keys")]
    return []


def _choices_problems(q: dict[str, Any], path: str, lists: dict[str, Any]) -> list[tuple[str, str]]:
    name = q.get("choices")
    if q["type"] in CHOICE_TYPES:
        if name not in lists:
            return [(f"{path}.choices", f"unknown choice list {name!r}")]
    elif name:
        return [(f"{path}.choices", f"a {q['type']} question takes no choice list")]
    return []


def _expression_problems(q: dict[str, Any], path: str, seen: list[str]) -> list[tuple[str, str]]:
    problems = []
    for field in ("relevant", "constraint"):
        source = q.get(field)
        if not source:
            continue
        try:
            node = expr.parse(source)
        except expr.ExprError as exc:
            problems.append((f"{path}.{field}", f"{exc.short} (position {exc.pos})"))
            continue
        for key in sorted(expr.refs(node)):
            if key == q["key"]:
                problems.append(
                    (f"{path}.{field}", f"refer to the question itself as '.', not {key!r}")
                )
            elif key not in seen:
                problems.append(
                    (f"{path}.{field}", f"unknown question {key!r} (only earlier questions)")
                )
        if field == "relevant" and expr.uses_current(node):
            problems.append((f"{path}.relevant", "'.' is only meaningful in a constraint"))
    return problems
