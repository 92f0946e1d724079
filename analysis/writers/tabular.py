"""CSV, Parquet and XLSX writers, and the data dictionary that ships with every export."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.datasets import Dataset, DatasetError, all_tables, cases, variables
from analysis.writers._atomic import atomic_dir, atomic_path
from analysis.writers.xlsx import CELL_LIMIT, write_workbook

PathLike = str | os.PathLike[str]


def select_tables(ds: Dataset, tables: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Return the export tables (all by default, always with `cases`) by name."""
    available = {"cases": cases(ds), **all_tables(ds)}
    if tables is None:
        return available
    wanted = list(tables)
    unknown = [t for t in wanted if t not in available]
    if unknown:
        raise DatasetError(f"unknown table {unknown[0]!r}; choose from {', '.join(available)}")
    return {t: available[t] for t in wanted}


# --- data dictionary -------------------------------------------------------------------


def dictionary_markdown(dictionary: pd.DataFrame, title: str = "Data dictionary") -> str:
    """Render the data dictionary as a Markdown table."""
    def cell(value: Any) -> str:
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title}", "", "| " + " | ".join(dictionary.columns) + " |",
             "|" + "---|" * len(dictionary.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in dictionary.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_dictionary(ds: Dataset, path: PathLike) -> list[Path]:
    """Write the data dictionary as CSV at `path` and as Markdown beside it (.md)."""
    target = Path(path)
    csv_path = target if target.suffix.lower() == ".csv" else target.with_suffix(".csv")
    md_path = csv_path.with_suffix(".md")
    dictionary = variables(ds)
    with atomic_path(csv_path) as tmp:
        dictionary.to_csv(tmp, index=False, encoding="utf-8")
    with atomic_path(md_path) as tmp:
        tmp.write_text(dictionary_markdown(dictionary, f"Data dictionary: {ds.name}"), "utf-8")
    return [csv_path, md_path]


def _dictionary_files(ds: Dataset, folder: Path) -> None:
    dictionary = variables(ds)
    dictionary.to_csv(folder / "dictionary.csv", index=False, encoding="utf-8")
    (folder / "dictionary.md").write_text(
        dictionary_markdown(dictionary, f"Data dictionary: {ds.name}"), encoding="utf-8")


# --- folder-or-zip bundles --------------------------------------------------------------


def _write_bundle(ds: Dataset, path: PathLike, tables: Iterable[str] | None,
                  suffix: str, write_one: Any) -> list[Path]:
    target = Path(path)
    frames = select_tables(ds, tables)
    if target.suffix.lower() == ".zip":
        with atomic_path(target) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, frame in frames.items():
                    with archive.open(f"{name}{suffix}", "w", force_zip64=True) as handle:
                        write_one(frame, handle)
                dictionary = variables(ds)
                archive.writestr("dictionary.csv", dictionary.to_csv(index=False))
                archive.writestr("dictionary.md", dictionary_markdown(dictionary, ds.name))
        return [target]
    with atomic_dir(target) as tmp:
        for name, frame in frames.items():
            with open(tmp / f"{name}{suffix}", "wb") as handle:
                write_one(frame, handle)
        _dictionary_files(ds, tmp)
    return [target]


def _csv_one(frame: pd.DataFrame, handle: Any) -> None:
    handle.write(frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S%z").encode("utf-8"))


def write_csv(ds: Dataset, path: PathLike, tables: Iterable[str] | None = None) -> list[Path]:
    """Write every table as UTF-8 CSV (long and wide) into a folder, or a zip if `*.zip`."""
    return _write_bundle(ds, path, tables, ".csv", _csv_one)


def _parquet_one(frame: pd.DataFrame, handle: Any) -> None:
    frame.to_parquet(handle, index=False)


def write_parquet(ds: Dataset, path: PathLike,
                  tables: Iterable[str] | None = None) -> list[Path]:
    """Write every table as Parquet into a folder, or a zip if `path` ends in .zip."""
    return _write_bundle(ds, path, tables, ".parquet", _parquet_one)


# --- XLSX ------------------------------------------------------------------------------


def _xlsx_frames(ds: Dataset, tables: Iterable[str] | None) -> dict[str, pd.DataFrame]:
    frames = select_tables(ds, tables)
    if "transcripts" in frames:
        transcripts = frames["transcripts"].copy()
        transcripts["text_truncated"] = transcripts["text"].fillna("").str.len() > CELL_LIMIT
        frames["transcripts"] = transcripts
    frames["dictionary"] = variables(ds)
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
