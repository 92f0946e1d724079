"""Labelled SPSS (.sav) and Stata (.dta) writers of the cases table.

One row per interview: interview and organisation attributes, answers wide, and coding
counts per family and per code. Variable labels are the question texts (French), value
labels the choice labels, and the three kinds of missing answer stay distinct:

=========== ============ =============
kind        SPSS (.sav)  Stata (.dta)
=========== ============ =============
refused     -97          .a
dont_know   -98          .b
not_asked   -99          .c
=========== ============ =============

In SPSS the three codes are declared user-missing on every numeric question variable.
Free-text answers stay strings: a missing one is written empty and its kind is kept in
`answers_long` (SPSS long-string missing values are not read reliably by PSPP, and Stata
strings have no missing values at all).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from analysis.datasets import (
    MISSING_KINDS,
    MISSING_LABELS,
    Dataset,
    answers_missing,
    cases,
    categorical_is_numeric,
    choice_label,
    choice_values,
    merged_questions,
    question_kind,
    variables,
)
from analysis.writers._atomic import atomic_path
from analysis.writers.tabular import write_dictionary

PathLike = str | os.PathLike[str]

SPSS_MISSING = {"refused": -97, "dont_know": -98, "not_asked": -99}
STATA_MISSING = {"refused": "a", "dont_know": "b", "not_asked": "c"}
YES_NO = {0: "non", 1: "oui"}


@dataclass
class StatFrame:
    """A cases table ready for a labelled statistics file."""

    data: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[int | float, str]] = field(default_factory=dict)
    missing: pd.DataFrame | None = None
    numeric_missing: list[str] = field(default_factory=list)
    measure: dict[str, str] = field(default_factory=dict)
    #: SPSS print formats: F8.0 for whole numbers (codes, counts, integers), F8.2 otherwise
    formats: dict[str, str] = field(default_factory=dict)


def _encode_categories(series: pd.Series, meta: dict[str, Any]) -> tuple[pd.Series, dict[int, str]]:
    """Map text choice values onto 1..n in instrument order, with their labels."""
    values = choice_values(meta)
    codes = {v: i for i, v in enumerate(values, start=1)}
    labels = {i: f"{choice_label(c, 'fr')}" for i, c in enumerate(meta["choices"], start=1)}
    return series.map(lambda v: codes.get(str(v)) if v is not None else None).astype(
        "float64"
    ), labels


def stat_frame(ds: Dataset) -> StatFrame:
    """Return the cases table with labels, value labels and missing kinds resolved."""
    table = cases(ds)
    kinds = answers_missing(ds).set_index("interview_id").reindex(table["interview_id"])
    kinds = kinds.reset_index(drop=True)
    dictionary = variables(ds).set_index("variable")
    frame = StatFrame(data=table, missing=kinds)
    frame.labels = {
        c: str(dictionary.at[c, "label_fr"]) if c in dictionary.index else c for c in table.columns
    }
    questions = merged_questions(ds)
    for key, meta in questions.items():
        _label_question(frame, key, meta)
    _tidy_types(frame)
    _measure_numbers(frame, questions)
    return frame


#: case-table columns that identify rather than measure
IDENTIFIERS = ("interview_id", "org_id")


def _measure_numbers(frame: StatFrame, questions: dict[str, dict[str, Any]]) -> None:
    """Give every numeric column a measure and a format: counts and integers are scale F8.0."""
    for column in frame.data.columns:
        series = frame.data[column]
        if not pd.api.types.is_float_dtype(series):
            continue
        meta = questions.get(column) or {}
        whole = bool(series.dropna().map(float.is_integer).all())
        if column in IDENTIFIERS:
            frame.measure[column] = "nominal"
        elif column.startswith("n_") or meta.get("type") == "integer":
            frame.measure[column] = "scale"
        else:
            frame.measure.setdefault(column, "scale")
        integer = meta.get("type") == "integer" or column.startswith("n_")
        if frame.measure[column] != "scale" or integer or (whole and not meta):
            frame.formats[column] = "F8.0"
        else:
            frame.formats[column] = "F8.2"


def _label_question(frame: StatFrame, key: str, meta: dict[str, Any]) -> None:
    kind = question_kind(meta)
    data = frame.data
    if kind == "multi":
        for column in [c for c in data.columns if c.startswith(f"{key}_")]:
            data[column] = data[column].astype("float64")
            frame.value_labels[column] = dict(YES_NO)
            frame.numeric_missing.append(column)
            frame.measure[column] = "nominal"
        return
    if key not in data.columns:
        return
    if kind == "categorical" and not categorical_is_numeric(meta):
        data[key], frame.value_labels[key] = _encode_categories(data[key], meta)
    elif kind in {"categorical", "numeric"} and meta.get("choices"):
        frame.value_labels[key] = {int(c["value"]): choice_label(c, "fr") for c in meta["choices"]}
    if kind in {"categorical", "numeric", "multi"}:
        data[key] = pd.to_numeric(data[key], errors="coerce").astype("float64")
        frame.numeric_missing.append(key)
        frame.measure[key] = (
            "ordinal"
            if meta.get("type") in {"likert", "frequency"}
            else "nominal"
            if kind == "categorical"
            else "scale"
        )


def _tidy_types(frame: StatFrame) -> None:
    """Turn nullable and date columns into what the statistics writers accept."""
    data = frame.data
    for column in data.columns:
        series = data[column]
        if isinstance(
            series.dtype, pd.Int64Dtype | pd.BooleanDtype
        ) or pd.api.types.is_integer_dtype(series):
            data[column] = series.astype("float64")
        elif column == "interview_date" or pd.api.types.is_datetime64_any_dtype(series):
            data[column] = pd.to_datetime(series, errors="coerce").dt.date
        elif series.dtype == object and column not in frame.numeric_missing:
            data[column] = series.map(
                lambda v: (
                    ""
                    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                    else str(v)
                )
            )


def _safe_names(columns: list[str], limit: int) -> dict[str, str]:
    """Map column names onto unique names valid in SPSS and Stata."""
    seen: set[str] = set()
    names = {}
    for column in columns:
        name = re.sub(r"[^0-9A-Za-z_]", "_", column)
        if not re.match(r"[A-Za-z]", name):
            name = f"v_{name}"
        name = name[:limit]
        base, n = name, 1
        while name.lower() in seen:
            n += 1
            name = f"{base[: limit - len(str(n)) - 1]}_{n}"
        seen.add(name.lower())
        names[column] = name
    return names


# --- SPSS ------------------------------------------------------------------------------


def spss_frame(ds: Dataset) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the cases table coded for SPSS and the pyreadstat keyword arguments."""
    frame = stat_frame(ds)
    data = frame.data
    missing_ranges: dict[str, list[Any]] = {}
    for column in frame.numeric_missing:
        kinds = frame.missing[column] if column in frame.missing else None
        if kinds is not None:
            codes = kinds.map(SPSS_MISSING)
            data[column] = data[column].mask(codes.notna(), codes).astype("float64")
        missing_ranges[column] = sorted(SPSS_MISSING.values())
        labels = frame.value_labels.setdefault(column, {})
        labels.update({code: MISSING_LABELS[k]["fr"] for k, code in SPSS_MISSING.items()})
    names = _safe_names(list(data.columns), 64)
    data = data.rename(columns=names)
    kwargs = {
        "column_labels": {names[c]: frame.labels[c][:256] for c in names},
        "variable_value_labels": {names[c]: v for c, v in frame.value_labels.items()},
        "missing_ranges": {names[c]: v for c, v in missing_ranges.items()},
        "variable_measure": {names[c]: m for c, m in frame.measure.items()},
        "variable_format": {names[c]: f for c, f in frame.formats.items()},
    }
    return data, kwargs


def write_sav(ds: Dataset, path: PathLike, dictionary: bool = True) -> list[Path]:
    """Write the labelled cases table to an SPSS .sav file (plus its data dictionary)."""
    data, kwargs = spss_frame(ds)
    with atomic_path(path) as tmp:
        pyreadstat.write_sav(data, tmp, file_label=f"Milieu export: {ds.name}"[:64], **kwargs)
    return [Path(path), *(_dictionary_beside(ds, path) if dictionary else [])]


# --- Stata -----------------------------------------------------------------------------


def stata_frame(ds: Dataset) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the cases table coded for Stata and the pyreadstat keyword arguments."""
    frame = stat_frame(ds)
    data = frame.data
    user_missing: dict[str, list[str]] = {}
    for column in frame.numeric_missing:
        kinds = frame.missing[column] if column in frame.missing else None
        if kinds is None or not kinds.notna().any():
            continue
        letters = kinds.map(STATA_MISSING)
        # pyreadstat takes Stata's extended missing values as single letters in the column.
        data[column] = data[column].astype(object).mask(letters.notna(), letters)
        user_missing[column] = sorted(STATA_MISSING.values())
        labels = frame.value_labels.setdefault(column, {})
        labels.update({letter: MISSING_LABELS[k]["fr"] for k, letter in STATA_MISSING.items()})
    names = _safe_names(list(data.columns), 32)
    data = data.rename(columns=names)
    kwargs = {
        "column_labels": {names[c]: frame.labels[c][:80] for c in names},
        "variable_value_labels": {names[c]: v for c, v in frame.value_labels.items()},
        "missing_user_values": {names[c]: v for c, v in user_missing.items()},
    }
    return data, kwargs


def write_dta(ds: Dataset, path: PathLike, dictionary: bool = True) -> list[Path]:
    """Write the labelled cases table to a Stata .dta file (plus its data dictionary)."""
    data, kwargs = stata_frame(ds)
    with atomic_path(path) as tmp:
        pyreadstat.write_dta(data, tmp, file_label=f"Milieu export: {ds.name}"[:80], **kwargs)
        name_label_sets_after_variables(Path(tmp), list(data.columns))
    return [Path(path), *(_dictionary_beside(ds, path) if dictionary else [])]


def name_label_sets_after_variables(path: Path, columns: list[str]) -> None:
    """Rename a .dta file's value-label sets after their variables (``role``, not ``role13``).

    pyreadstat names each set variable + counter. In the dta 117-119 layouts both the
    variables' label names and each ``<lbl>`` table header are fixed-width fields, so the
    names are rewritten in place and nothing else in the file moves.
    """
    raw = bytearray(path.read_bytes())
    start = raw.find(b"<value_label_names>")
    end = raw.find(b"</value_label_names>")
    if start < 0 or end < 0 or not columns:
        return
    start += len(b"<value_label_names>")
    width, rest = divmod(end - start, len(columns))
    if rest or width < 33:
        raise ValueError(f"{path.name}: unexpected value-label name table")
    renamed: dict[bytes, bytes] = {}
    for i, column in enumerate(columns):
        at = start + i * width
        old = bytes(raw[at : at + width]).rstrip(b"\0")
        if old:
            new = column.encode("utf-8")[: width - 1]
            renamed[old] = new
            raw[at : at + width] = new.ljust(width, b"\0")
    little = b"<byteorder>LSF</byteorder>" in raw[:200]
    at = raw.find(b"<value_labels>")
    while at >= 0:
        at = raw.find(b"<lbl>", at)
        if at < 0:
            break
        size = int.from_bytes(raw[at + 5 : at + 9], "little" if little else "big")
        name_at = at + 9
        old = bytes(raw[name_at : name_at + width]).rstrip(b"\0")
        if old in renamed:
            raw[name_at : name_at + width] = renamed[old].ljust(width, b"\0")
        at = name_at + width + 3 + size + len(b"</lbl>")
    path.write_bytes(bytes(raw))


def _dictionary_beside(ds: Dataset, path: PathLike) -> list[Path]:
    target = Path(path)
    return write_dictionary(ds, target.with_name(f"{target.stem}_dictionary.csv"))


__all__ = ["MISSING_KINDS", "SPSS_MISSING", "STATA_MISSING", "write_dta", "write_sav"]
