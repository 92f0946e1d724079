"""CSV, Parquet and XLSX writers, and the data dictionary that ships with every export."""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.datasets import (
    Dataset,
    DatasetError,
    cases,
    table_builders,
    table_columns,
    variables,
)
from analysis.writers._atomic import atomic_dir, atomic_path
from analysis.writers.xlsx import CELL_LIMIT, write_workbook

PathLike = str | os.PathLike[str]


def select_tables(ds: Dataset, tables: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Return the export tables (all by default, `cases` first) by name, building only those."""
    available = {"cases": lambda: cases(ds), **table_builders(ds)}
    wanted = list(available) if tables is None else list(tables)
    unknown = [t for t in wanted if t not in available]
    if unknown:
        raise DatasetError(f"unknown table {unknown[0]!r}; choose from {', '.join(available)}")
    return {t: available[t]() for t in wanted}


# --- data dictionary -------------------------------------------------------------------


def markdown_table(frame: pd.DataFrame) -> list[str]:
    """Render a DataFrame as the lines of a Markdown table."""

    def cell(value: Any) -> str:
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    return lines + [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]


def dictionary_markdown(
    dictionary: pd.DataFrame, columns: pd.DataFrame | None = None, title: str = "Data dictionary"
) -> str:
    """Render the variables dictionary (and the tables' columns) as Markdown."""
    lines = [
        f"# {title}",
        "",
        "## Variables",
        "",
        "Missing answers keep their kind: refused, dont_know (don't know), not_asked. "
        "SPSS codes them -97, -98, -99 (user-missing); Stata .a, .b, .c.",
        "",
        FORMULA_NOTE,
        "",
    ]
    lines += markdown_table(dictionary)
    if columns is not None:
        lines += ["", "## Tables and columns", ""] + markdown_table(columns)
    return "\n".join(lines) + "\n"


def dictionary_documents(ds: Dataset, frames: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    """Return the dictionary files of an export of `frames`, by file name."""
    dictionary, columns = variables(ds), table_columns(frames)
    title = f"Data dictionary: {ds.name}"
    return {
        "dictionary.csv": neutralise_formulas(dictionary).to_csv(index=False).encode("utf-8"),
        "dictionary_tables.csv": neutralise_formulas(columns).to_csv(index=False).encode("utf-8"),
        "dictionary.md": dictionary_markdown(dictionary, columns, title).encode("utf-8"),
    }


def write_dictionary(
    ds: Dataset, path: PathLike, tables: Iterable[str] | None = ("cases",)
) -> list[Path]:
    """Write the data dictionary as CSV at `path`, plus `<stem>_tables.csv` and `<stem>.md`."""
    target = Path(path)
    csv_path = target if target.suffix.lower() == ".csv" else target.with_suffix(".csv")
    names = {
        "dictionary.csv": csv_path,
        "dictionary_tables.csv": csv_path.with_name(f"{csv_path.stem}_tables.csv"),
        "dictionary.md": csv_path.with_suffix(".md"),
    }
    for name, data in dictionary_documents(ds, select_tables(ds, tables)).items():
        with atomic_path(names[name]) as tmp:
            tmp.write_bytes(data)
    return list(names.values())


# --- folder-or-zip bundles --------------------------------------------------------------


def _write_bundle(
    ds: Dataset,
    path: PathLike,
    tables: Iterable[str] | None,
    suffix: str,
    write_one: Any,
    compression: int,
) -> list[Path]:
    target = Path(path)
    frames = select_tables(ds, tables)
    if target.suffix.lower() == ".zip":
        with atomic_path(target) as tmp:
            # Fast deflate: transcripts make the bulk and level 1 is ~4x faster than 6.
            with zipfile.ZipFile(tmp, "w", compression, compresslevel=1) as archive:
                for name, frame in frames.items():
                    with archive.open(f"{name}{suffix}", "w", force_zip64=True) as handle:
                        write_one(frame, handle)
                for name, data in dictionary_documents(ds, frames).items():
                    archive.writestr(name, data)
        return [target]
    with atomic_dir(target) as tmp:
        for name, frame in frames.items():
            with open(tmp / f"{name}{suffix}", "wb") as handle:
                write_one(frame, handle)
        for name, data in dictionary_documents(ds, frames).items():
            (tmp / name).write_bytes(data)
    return [target]


def _iso_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Render datetime columns as ISO 8601 text (UTC 'Z' when time-zone aware), vectorised."""
    dated = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if not dated:
        return frame
    frame = frame.copy()
    for column in dated:
        series = frame[column]
        aware = series.dt.tz is not None
        values = series.dt.tz_convert("UTC").dt.tz_localize(None) if aware else series
        text = np.datetime_as_string(values.to_numpy().astype("datetime64[s]"), unit="s")
        text = pd.Series(text, index=series.index).where(series.notna(), None)
        frame[column] = text + "Z" if aware else text
    return frame


#: a text cell a spreadsheet would read as a formula (OWASP's list), unless it is a number
_FORMULA_START = re.compile(r"[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
FORMULA_NOTE = (
    "In the CSV files, a text cell that begins with =, +, -, @, a tab or a carriage return "
    "and is not a number starts with an apostrophe ('), so that a spreadsheet opening the "
    "file shows it as text instead of running it as a formula: remove that first apostrophe "
    "to get the text as entered."
)


def is_formula(value: Any) -> bool:
    """Tell whether a spreadsheet would run this cell as a formula: a text that begins with
    =, +, -, @, a tab or a carriage return and is not a number."""
    return (
        isinstance(value, str)
        and _FORMULA_START.match(value) is not None
        and _NUMBER.fullmatch(value) is None
    )


def neutralise_cell(value: Any) -> Any:
    """Prefix a cell a spreadsheet would run as a formula with '; keep anything else."""
    return "'" + value if is_formula(value) else value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix with ' the text cells a spreadsheet would run as formulas (CSV injection)."""
    out = frame
    for column in frame.columns:
        series = frame[column]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        risky = series.map(is_formula).astype(bool)
        if risky.any():
            if out is frame:
                out = frame.copy()
            out[column] = series.where(~risky, "'" + series[risky].astype(str))
    return out


def _csv_one(frame: pd.DataFrame, handle: Any) -> None:
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    neutralise_formulas(_iso_columns(frame)).to_csv(text, index=False)
    text.flush()
    text.detach()


def write_csv(ds: Dataset, path: PathLike, tables: Iterable[str] | None = None) -> list[Path]:
    """Write every table as UTF-8 CSV (long and wide) into a folder, or a zip if `*.zip`."""
    return _write_bundle(ds, path, tables, ".csv", _csv_one, zipfile.ZIP_DEFLATED)


def _parquet_one(frame: pd.DataFrame, handle: Any) -> None:
    frame.to_parquet(handle, index=False)


def write_parquet(ds: Dataset, path: PathLike, tables: Iterable[str] | None = None) -> list[Path]:
    """Write every table as Parquet into a folder, or a zip if `path` ends in .zip."""
    # Parquet pages are compressed already: store them as they are.
    return _write_bundle(ds, path, tables, ".parquet", _parquet_one, zipfile.ZIP_STORED)


# --- XLSX ------------------------------------------------------------------------------


def _xlsx_frames(ds: Dataset, tables: Iterable[str] | None) -> dict[str, pd.DataFrame]:
    frames = select_tables(ds, tables)
    if "transcripts" in frames:
        transcripts = frames["transcripts"].copy()
        transcripts["text_truncated"] = transcripts["text"].fillna("").str.len() > CELL_LIMIT
        frames["transcripts"] = transcripts
    frames["dictionary"] = variables(ds)
    frames["dictionary_tables"] = table_columns(
        {k: v for k, v in frames.items() if k != "dictionary"}
    )
    return frames


def write_xlsx(ds: Dataset, path: PathLike, tables: Iterable[str] | None = None) -> list[Path]:
    """Write one sheet per table plus a `dictionary` sheet to an .xlsx workbook.

    Excel cells hold at most 32,767 characters: a longer transcript is cut there and flagged
    in `text_truncated` (the full text is in the CSV, Parquet and REFI-QDA exports).
    """
    frames = _xlsx_frames(ds, tables)
    with atomic_path(path) as tmp:
        write_workbook(frames, tmp)
    return [Path(path)]
