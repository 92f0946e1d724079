"""Small file helpers shared by the analysis commands: tabular reading and atomic writing."""

from __future__ import annotations

import csv
import gzip
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas loads on first use: the command line must start fast
    import pandas as pd


class InputError(ValueError):
    """Raised when an input file is missing, unreadable or lacks what is needed."""


def suffix_of(path: str | Path) -> str:
    """Return the lower-case format suffix, keeping '.csv.gz' whole."""
    name = Path(path).name.lower()
    for double in (".csv.gz", ".txt.gz", ".tsv.gz"):
        if name.endswith(double):
            return double
    return Path(name).suffix


def read_header(path: str | Path) -> tuple[list[str], str]:
    """Return the header column names and the delimiter of a CSV (plain or gzip)."""
    opener = gzip.open if str(path).lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            line = fh.readline()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if not line.strip():
        raise InputError(f"{path} is empty (no header line)")
    delim = max((",", ";", "\t", "|"), key=line.count)
    names = next(csv.reader([line.rstrip("\r\n")], delimiter=delim))
    return [n.strip() for n in names], delim


def read_table(path: str | Path, header_marker: str | None = None) -> pd.DataFrame:
    """Read a small CSV/XLSX/Parquet table as strings.

    header_marker names a column that marks the header row, so INSEE files with title
    lines above the header are read correctly.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    suffix = suffix_of(p)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(p, header_marker)
    if suffix == ".parquet":
        return pd.read_parquet(p).astype("string").astype(object)
    names, delim = read_header(p)
    skip = 0
    if header_marker and header_marker not in names:
        skip = _find_header_line(p, delim, header_marker)
    try:
        return pd.read_csv(
            p,
            sep=delim,
            dtype=str,
            skiprows=skip,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse {p}: {exc}") from exc


def _find_header_line(p: Path, delim: str, marker: str) -> int:
    opener = gzip.open if str(p).lower().endswith(".gz") else open
    with opener(p, "rt", encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.reader(fh, delimiter=delim)):
            if marker in [c.strip() for c in row]:
                return i
            if i > 30:
                break
    raise InputError(f"{p}: no header row with column {marker}")


def _read_xlsx(p: Path, marker: str | None, sheet: str | None = None) -> pd.DataFrame:
    """Read the first sheet holding the marker column (all sheets scanned)."""

    sheets = read_xlsx_sheets(p)
    for _name, rows in sheets.items():
        frame = _rows_to_frame(rows, marker)
        if frame is not None:
            return frame
    raise InputError(f"{p}: no sheet with a header row containing {marker or 'data'}")


def read_xlsx_sheets(p: Path) -> dict[str, list[tuple]]:
    """Return every sheet of a workbook as a list of row tuples."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on corrupt files
        raise InputError(f"cannot read workbook {p}: {exc}") from exc
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    finally:
        wb.close()


def _rows_to_frame(rows: list[tuple], marker: str | None) -> pd.DataFrame | None:
    import pandas as pd

    for i, row in enumerate(rows[:40]):
        cells = ["" if c is None else str(c).strip() for c in row]
        if (marker is None and any(cells)) or (marker is not None and marker in cells):
            body = [[_cell(c) for c in r] for r in rows[i + 1 :]]
            frame = pd.DataFrame(body, columns=cells[: len(row)]).replace("", None)
            return frame.dropna(how="all")
    return None


def _cell(value: object) -> str:
    """Return a worksheet cell as text; whole numbers lose the '.0' Excel gives them."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_number(values: pd.Series) -> pd.Series:
    """Parse numbers written the French or English way ('1 234,5' or '1234.5')."""
    import pandas as pd

    text = values.astype(str).str.replace("\u00a0", "", regex=False).str.replace(" ", "")
    return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder, renamed onto it on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as CSV, or Parquet when the path ends in .parquet, atomically."""

    writer: Callable[[Path], None]
    if suffix_of(path) == ".parquet":

        def writer(tmp: Path) -> None:
            frame.to_parquet(tmp, index=False)
    elif suffix_of(path) in (".csv", ".csv.gz"):

        def writer(tmp: Path) -> None:
            frame.to_csv(
                tmp, index=False, compression="gzip" if str(path).endswith(".gz") else None
            )
    else:
        raise InputError(f"unsupported output format for {path}: use .csv or .parquet")
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)
