"""A self-contained HTML report of the 4D profile (inline SVG charts, escaped text).

The report is written in French (the default) or English; its words come from
analysis.texts. Dimensions, sources and respondent types are named in that language with
their code on hover; notes are translated; numbers are as computed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path

import pandas as pd

from analysis import plots
from analysis.file_io import InputError, atomic_path, write_table
from analysis.profile import ProfileResult
from analysis.texts import (
    DEFAULT_LANG,
    code_label,
    decimal_text,
    territory_label,
    texts,
    translate_note,
)

CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.2rem .45rem;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{background:#fff4e0;border-left:4px solid #e0a030;padding:.4rem .8rem}
.flag{color:#a83232;font-weight:600}figure{margin:1rem 0}svg{max-width:100%;height:auto}
"""


def _fmt(value: object, mark: str = ".") -> str:
    """A cell's text: numbers with the reader's decimal mark, NaN as an empty cell."""
    if isinstance(value, float):
        return "" if math.isnan(value) else decimal_text(value, mark)
    return escape(str(value))


def _table(frame: pd.DataFrame, t: dict[str, str], flag_col: str | None = None) -> str:
    # the header says the column's name in the CSV files on hover
    head = "".join(
        f'<th title="{escape(str(c))}">{escape(t.get(f"column.{c}", str(c)))}</th>'
        for c in frame.columns
    )
    rows = []
    for rec in frame.itertuples(index=False):
        cells = []
        for col, val in zip(frame.columns, rec, strict=True):
            attrs = (
                ' class="num"' if isinstance(val, float | int) and not isinstance(val, bool) else ""
            )
            text = _fmt(val, t["decimal_mark"])
            label = code_label(col, val, t)
            if label is not None:  # named in the reader's language, the code on hover
                attrs, text = f' title="{escape(str(val))}"', escape(label)
            if col == flag_col:
                text = f'<span class="flag">{escape(t["report.gap"])}</span>' if bool(val) else ""
            cells.append(f"<td{attrs}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _svg(data: bytes) -> str:
    """Strip the XML prologue so the SVG can sit inline in HTML."""
    text = data.decode("utf-8")
    return text[text.index("<svg") :]


def _territory_section(
    result: ProfileResult,
    code: str,
    name: str,
    t: dict[str, str],
    lang: str,
    charts: Mapping[str, bytes] | None,
) -> str:
    frame = result.profile[result.profile["territory_code"].astype(str) == str(code)]
    counts = ["n_basis", "n_items", "n_coders", "n_firms"]
    cols = ["dimension", "source", "value", "ci_low", "ci_high", *counts, "n_sme", "n_relay"]
    cols = [c for c in [*cols, "flag", "note"] if c in frame]  # older profiles lack n_basis
    frame = frame[cols].copy()
    for col in (c for c in counts if c in frame):  # whole numbers, blank where not relevant
        frame[col] = ["" if pd.isna(v) else str(int(v)) for v in frame[col]]
    title = escape(territory_label(name, code))
    chart = _chart_svg(
        charts,
        plots.territory_stem(code),
        lambda: plots.territory_chart(result.profile, code, "svg", lang),
    )
    return f"<h2>{title}</h2><figure>{chart}</figure>" + _table(
        translated_notes(frame, lang), t, flag_col="flag"
    )


def _chart_svg(charts: Mapping[str, bytes] | None, stem: str, draw: Callable[[], bytes]) -> str:
    """The chart's SVG, inline: taken from charts already drawn, else drawn now."""
    return _svg(charts[f"{stem}.svg"] if charts is not None else draw())


def translated_notes(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return a copy of frame with its note column in lang (the files keep English).

    The report and the web page show notes through this one function."""
    out = frame.copy()
    out["note"] = [translate_note("" if pd.isna(n) else str(n), lang) for n in out["note"]]
    return out


def _triangulation(result: ProfileResult, t: dict[str, str]) -> str:
    resp = result.respondents
    if resp.empty:
        return f"<p>{escape(t['report.no_respondents'])}</p>"
    both = resp.dropna(subset=["likert", "coding"])
    summary = (
        both.groupby(["territory_code", "dimension"])
        .agg(respondents=("interview_id", "nunique"), flagged=("flag", "sum"))
        .reset_index()
    )
    summary["share_flagged"] = summary["flagged"] / summary["respondents"]
    return _table(summary, t)


def _settings(result: ProfileResult, t: dict[str, str]) -> str:
    return escape(
        ", ".join(
            t["setting"].format(
                name=t.get(f"setting.{k}", str(k)),
                value=", ".join(
                    code_label(k, x, t) or str(x) for x in (v if isinstance(v, list) else [v])
                ),
            )
            for k, v in result.settings.items()
        )
    )


def render_report_html(
    result: ProfileResult,
    title: str | None = None,
    lang: str = DEFAULT_LANG,
    charts: Mapping[str, bytes] | None = None,
) -> str:
    """Return a self-contained HTML page (no external assets) for a profile result.

    lang ("fr" or "en") sets the words, the charts' labels and `<html lang>`; title
    defaults to the report's title in that language. charts: the output of
    plots.draw_charts in the same language, when the caller has drawn them already.
    """
    t = texts(lang)
    title = t["report.title"] if title is None else title
    warn = "".join(f"<li>{escape(translate_note(w, lang))}</li>" for w in result.warnings)
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1><p>{_settings(result, t)}</p>",
        f"<p>{escape(t['report.method'])}</p>",
        (f'<div class="warn"><strong>{escape(t["report.warnings"])}</strong><ul>{warn}</ul></div>')
        if warn
        else "",
        f"<h2>{escape(t['report.comparison'])}</h2><figure>",
        _chart_svg(
            charts,
            plots.COMPARISON_STEM,
            lambda: plots.comparison_chart(result.profile, "svg", lang),
        ),
        "</figure>",
    ]
    parts += [_territory_section(result, c, n, t, lang, charts) for c, n in result.territories()]
    parts += [
        f"<h2>{escape(t['report.alpha'])}</h2>",
        _table(translated_notes(result.alphas, lang), t),
        f"<h2>{escape(t['report.triangulation'])}</h2>",
        _triangulation(result, t),
        "</body></html>",
    ]
    return "".join(parts)


def save_profile(result: ProfileResult, folder: str | Path) -> list[Path]:
    """Write the profile tables (CSV and Parquet) and settings into folder."""
    out = Path(folder)
    written = []
    for stem, frame in (
        ("profile", result.profile),
        ("respondent_scores", result.respondents),
        ("scale_alpha", result.alphas),
    ):
        for ext in ("csv", "parquet"):
            written.append(write_table(frame, out / f"{stem}.{ext}"))
    meta = {"settings": result.settings, "warnings": result.warnings}
    with atomic_path(out / "profile_meta.json") as tmp:
        tmp.write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return written + [out / "profile_meta.json"]


def load_profile(folder: str | Path) -> ProfileResult:
    """Read back a profile written by save_profile."""
    base = Path(folder)
    try:
        text = {"territory_code": str, "territory_name": str, "note": str}
        profile = pd.read_csv(
            base / "profile.csv", dtype=text, keep_default_na=False, na_values=[""]
        )
        resp = pd.read_csv(base / "respondent_scores.csv", dtype={"territory_code": str})
        alphas = pd.read_csv(
            base / "scale_alpha.csv", dtype={"note": str}, keep_default_na=False, na_values=[""]
        )
        meta = json.loads((base / "profile_meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{base} does not hold a saved profile: {exc}") from exc
    for col in ("territory_name", "note"):
        profile[col] = profile[col].fillna("")
    alphas["note"] = alphas["note"].fillna("")
    return ProfileResult(
        profile, resp, alphas, list(meta.get("warnings", [])), dict(meta.get("settings", {}))
    )


def write_report(
    result: ProfileResult,
    path: str | Path,
    lang: str = DEFAULT_LANG,
    charts: Mapping[str, bytes] | None = None,
) -> Path:
    """Write the HTML report in lang ("fr" or "en") atomically (charts: see
    render_report_html)."""
    html = render_report_html(result, lang=lang, charts=charts)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return Path(path)
