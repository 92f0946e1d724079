"""One writer per export format, each taking a Dataset and a path, writing atomically.

`WRITERS[format](ds, path, **options)` returns the paths written; every export carries its
data dictionary (inside the file, beside it, or in the bundle).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from analysis.datasets import Dataset
from analysis.writers.stats import write_dta, write_sav
from analysis.writers.tabular import write_csv, write_dictionary, write_parquet, write_xlsx

Writer = Callable[..., list[Path]]


def write_qdpx(ds: Dataset, path: str | Path, **options: Any) -> list[Path]:
    """Write a REFI-QDA project (.qdpx); see analysis.writers.refi.write_qdpx."""
    from analysis.writers import refi

    return refi.write_qdpx(ds, path, **options)


def write_qdc(ds: Dataset, path: str | Path, **options: Any) -> list[Path]:
    """Write a REFI-QDA codebook (.qdc); see analysis.writers.refi.write_qdc."""
    from analysis.writers import refi

    return refi.write_qdc(ds, path, **options)


#: Format name -> writer, used by `milieu export` and the exports page.
WRITERS: dict[str, Writer] = {
    "csv": write_csv,
    "xlsx": write_xlsx,
    "parquet": write_parquet,
    "sav": write_sav,
    "dta": write_dta,
    "qdpx": write_qdpx,
    "qdc": write_qdc,
}

#: The file name suffix each format's single-file output takes by default.
SUFFIXES = {
    "csv": ".zip",
    "xlsx": ".xlsx",
    "parquet": ".zip",
    "sav": ".sav",
    "dta": ".dta",
    "qdpx": ".qdpx",
    "qdc": ".qdc",
}


def export(ds: Dataset, fmt: str, path: str | Path, **options: Any) -> list[Path]:
    """Write `ds` in format `fmt` to `path`; raise ValueError on an unknown format."""
    try:
        writer = WRITERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown export format {fmt!r}; choose from {', '.join(WRITERS)}"
        ) from None
    return writer(ds, path, **options)


__all__ = [
    "SUFFIXES",
    "WRITERS",
    "export",
    "write_csv",
    "write_dictionary",
    "write_dta",
    "write_parquet",
    "write_qdc",
    "write_qdpx",
    "write_sav",
    "write_xlsx",
]
