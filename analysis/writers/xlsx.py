"""A streaming XLSX (SpreadsheetML) writer for large tidy tables.

openpyxl builds a Python object per cell: about 10 µs a cell, 24 s for the 2,000-interview
benchmark project. Tidy tables are plain typed columns, so each column is formatted into
cell XML in one pass and rows are streamed into the zip: the same workbook in about a
tenth of the time. The output is a minimal, standard workbook (inline strings, one bold
header row, ISO date and date-time formats) that Excel, LibreOffice, openpyxl and pandas
read.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
EPOCH = pd.Timestamp("1899-12-30")
STYLE_HEADER, STYLE_DATE, STYLE_DATETIME = 1, 2, 3
#: Excel refuses longer strings in a cell.
CELL_LIMIT = 32_767

STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>\
<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>\
</cellStyles></styleSheet>"""

# XML 1.0 forbids most control characters: drop them; escape the markup characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")


def column_letter(index: int) -> str:
    """Return the spreadsheet letters of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: Any) -> str:
    text = str(value)[:CELL_LIMIT]
    if _SPECIAL.search(text) is None:  # the common case: nothing to escape
        return text
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _CONTROL.sub("", text)


def _serial(series: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(series, errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        # Excel has no time zones: `_dt` columns are UTC, written as UTC wall time.
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return (stamps - EPOCH) / pd.Timedelta(days=1)


def _object_kind(values: pd.Series) -> str:
    present = values.dropna()
    if not len(present):
        return "empty"
    sample = present.iloc[: min(len(present), 200)]
    if all(isinstance(v, bool | np.bool_) for v in sample):
        return "bool"
    if all(isinstance(v, datetime | pd.Timestamp) for v in sample):
        return "datetime"
    if all(isinstance(v, date) for v in sample):
        return "date"
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in sample):
        return "number"
    return "text"


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return _object_kind(series)


def _cells(series: pd.Series, letter: str) -> list[str]:
    """Format one column into cell XML, row 2 onwards (row 1 is the header)."""
    kind = _kind(series)
    rows = range(2, len(series) + 2)
    missing = series.isna().to_numpy()
    if kind in {"date", "datetime"}:
        style = STYLE_DATE if kind == "date" else STYLE_DATETIME
        values = _serial(series).to_numpy()
        return [
            "" if m or np.isnan(v) else f'<c r="{letter}{r}" s="{style}"><v>{v!r}</v></c>'
            for r, v, m in zip(rows, values.tolist(), missing, strict=True)
        ]
    values = series.tolist()
    if kind == "bool":
        return [
            "" if m else f'<c r="{letter}{r}" t="b"><v>{int(bool(v))}</v></c>'
            for r, v, m in zip(rows, values, missing, strict=True)
        ]
    if kind == "number":
        return [
            "" if m else f'<c r="{letter}{r}"><v>{_number(v)}</v></c>'
            for r, v, m in zip(rows, values, missing, strict=True)
        ]
    return [
        ""
        if m
        else f'<c r="{letter}{r}" t="inlineStr"><is><t xml:space="preserve">{_text(v)}</t></is></c>'
        for r, v, m in zip(rows, values, missing, strict=True)
    ]


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _sheet_chunks(frame: pd.DataFrame, batch: int = 2000) -> Iterator[bytes]:
    yield (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">'
        f'<sheetData><row r="1">'.encode()
    )
    letters = [column_letter(i) for i in range(len(frame.columns))]
    yield "".join(
        f'<c r="{L}1" s="{STYLE_HEADER}" t="inlineStr"><is><t>{_text(c)}</t></is></c>'
        for L, c in zip(letters, frame.columns, strict=True)
    ).encode("utf-8")
    yield b"</row>"
    columns = [_cells(frame[c], L) for c, L in zip(frame.columns, letters, strict=True)]
    rows = zip(*columns, strict=True) if columns else iter(())
    buffer: list[str] = []
    for number, cells in enumerate(rows, start=2):
        buffer.append(f'<row r="{number}">{"".join(cells)}</row>')
        if len(buffer) >= batch:
            yield "".join(buffer).encode("utf-8")
            buffer = []
    yield ("".join(buffer) + "</sheetData></worksheet>").encode("utf-8")


def _package_parts(names: list[str]) -> dict[str, str]:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_TYPE}"/>'
        for i in range(1, len(names) + 1)
    )
    sheets = "".join(
        f'<sheet name={quoteattr(n[:31])} sheetId="{i}" r:id="rId{i}"/>'
        for i, n in enumerate(names, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return {
        "[Content_Types].xml": f'{head}<Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        f'officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>',
        "_rels/.rels": f'{head}<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'{head}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{sheets}'
        "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'{head}<Relationships xmlns="{PKG_REL}">{rels}'
        f'<Relationship Id="rId{len(names) + 1}" Type="{REL}/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/styles.xml": STYLES,
    }


def write_workbook(frames: dict[str, pd.DataFrame], target: Path | IO[bytes]) -> None:
    """Write one sheet per DataFrame (in order) into an .xlsx file or binary stream."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in _package_parts(list(frames)).items():
            archive.writestr(name, text)
        for index, frame in enumerate(frames.values(), start=1):
            with archive.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as handle:
                for chunk in _sheet_chunks(frame):
                    handle.write(chunk)
