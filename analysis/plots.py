"""Charts of the 4D profile: one per territory and a comparison, as PNG and SVG bytes.

Labels come in French (the default) or English from analysis.texts.

Uses matplotlib's Agg canvas through the object API (no pyplot, no display, no global
backend switch), so it is safe in a web worker.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analysis.file_io import atomic_path
from analysis.profile import is_thin, too_few
from analysis.texts import (
    DEFAULT_LANG,
    check_lang,
    decimal_text,
    territory_label,
    texts,
    translate_note,
)

# Headline rows drawn as filled markers; coding scores drawn hollow beside them.
HEADLINE = [
    ("D1", "registry"),
    ("D2", "registry"),
    ("D3", "likert"),
    ("D4_GOV", "likert"),
    ("D4_STRAT", "likert"),
]
FORMATS = ("png", "svg")


def _render(fig: Figure, fmt: str, salt: str) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    meta = {"Date": None} if fmt == "svg" else {}
    # A fixed salt per chart keeps SVG ids stable (same profile, same file) and distinct
    # between charts inlined in one HTML page.
    with rc_context({"svg.hashsalt": f"milieu-{salt}"}):
        fig.savefig(buf, format=fmt, dpi=110, bbox_inches="tight", metadata=meta)
    return buf.getvalue()


def _row(frame: pd.DataFrame, dim: str, source: str) -> tuple[float, float, float]:
    hit = frame[(frame["dimension"] == dim) & (frame["source"] == source)]
    if hit.empty:
        return (np.nan, np.nan, np.nan)
    r = hit.iloc[0]
    return float(r["value"]), float(r["ci_low"]), float(r["ci_high"])


def _too_few(frame: pd.DataFrame, dim: str, source: str, lang: str) -> str:
    """The chart's words for a row resting on too few interviews, else ""."""
    hit = frame[(frame["dimension"] == dim) & (frame["source"] == source)]
    if hit.empty or "n_basis" not in hit:
        return ""
    n, value = float(hit.iloc[0]["n_basis"]), float(hit.iloc[0]["value"])
    return translate_note(too_few(source, n), lang) if is_thin(source, value, n) else ""


def _whiskers(ax, y: float, v: float, lo: float, hi: float, **style) -> bool:  # noqa: ANN001
    """Draw one point with its interval; return False when there is no value to draw."""
    if np.isnan(v):
        return False
    xerr = None
    if np.isfinite(lo) and np.isfinite(hi):
        xerr = [[max(v - lo, 0)], [max(hi - v, 0)]]
    ax.errorbar([v], [y], xerr=xerr, capsize=4, **style)
    return True


def _score_axis(ax, t: dict[str, str]) -> None:  # noqa: ANN001
    """Scores run from 0 to 1, ticks written with the language's decimal mark (0,2 in French)."""
    ax.set_xlim(0, 1)
    ax.set_xticks(np.linspace(0, 1, 6))
    mark = t["decimal_mark"]
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: decimal_text(x, mark, 1)))


def territory_figure(profile: pd.DataFrame, code: str, lang: str = DEFAULT_LANG) -> Figure:
    """Build the figure of one territory's four D's with their interval whiskers."""
    t = texts(lang)
    frame = profile[profile["territory_code"].astype(str) == str(code)]
    name = str(frame["territory_name"].iloc[0]) if len(frame) else ""
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    ys = np.arange(len(HEADLINE))[::-1]
    for y, (dim, source) in zip(ys, HEADLINE, strict=True):
        _whiskers(ax, y, *_row(frame, dim, source), fmt="o", color="#1f5f8b", ms=8)
        _say_too_few(ax, y, frame, dim, source, lang, "#1f5f8b")
        if source == "likert":
            _whiskers(
                ax,
                y - 0.25,
                *_row(frame, dim, "coding"),
                fmt="o",
                color="#b35c1e",
                mfc="white",
                ms=6,
            )
            _say_too_few(ax, y - 0.25, frame, dim, "coding", lang, "#b35c1e")
    missing = [t[d] for d, s in HEADLINE if np.isnan(_row(frame, d, s)[0])]
    ax.set_yticks(ys, [t[d] for d, _ in HEADLINE])
    _score_axis(ax, t)
    ax.set_ylim(-0.7, len(HEADLINE) - 0.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(t["chart.territory_axis"])
    title = territory_label(name, str(code))
    if missing:
        title += "\n" + t["chart.missing"] + ", ".join(missing)
    ax.set_title(title, fontsize=10)
    return fig


def _say_too_few(ax, y, frame, dim, source, lang, colour) -> None:  # noqa: ANN001
    """Write "too few … (n = 3)" beside a point drawn without an interval."""
    words = _too_few(frame, dim, source, lang)
    if not words:
        return
    v = _row(frame, dim, source)[0]
    left = v < 0.55  # write on the side with room
    ax.annotate(
        words,
        (v, y),
        xytext=(8 if left else -8, 0),
        textcoords="offset points",
        ha="left" if left else "right",
        va="center",
        fontsize=7,
        color=colour,
    )


def territory_chart(
    profile: pd.DataFrame, code: str, fmt: str = "png", lang: str = DEFAULT_LANG
) -> bytes:
    """Draw the four D's of one territory with their interval whiskers."""
    return _render(territory_figure(profile, code, lang), fmt, f"territory-{code}")


def comparison_figure(profile: pd.DataFrame, lang: str = DEFAULT_LANG) -> Figure:
    """Build the figure of every territory's headline D's side by side with whiskers."""
    t = texts(lang)
    codes = list(dict.fromkeys(profile["territory_code"].astype(str)))
    fig = Figure(figsize=(7.2, 0.9 + 0.9 * len(HEADLINE)))
    ax = fig.add_subplot()
    ys = np.arange(len(HEADLINE))[::-1]
    width = 0.7 / max(len(codes), 1)
    colours = ["#1f5f8b", "#b35c1e", "#3d8b37", "#7b3f99", "#a83232", "#5a5a5a"]
    for k, code in enumerate(codes):
        frame = profile[profile["territory_code"].astype(str) == code]
        # on the territory's first drawn point: D1 may be missing
        label = territory_label(str(frame["territory_name"].iloc[0]), code)
        for i, (dim, source) in enumerate(HEADLINE):
            if _whiskers(
                ax,
                ys[i] + 0.35 - (k + 0.5) * width,
                *_row(frame, dim, source),
                fmt="o",
                color=colours[k % len(colours)],
                ms=6,
                label=label,
            ):
                label = None
    ax.set_yticks(ys, [t[d] for d, _ in HEADLINE])
    _score_axis(ax, t)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(t["chart.comparison_axis"])
    if ax.get_legend_handles_labels()[1]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return fig


def comparison_chart(profile: pd.DataFrame, fmt: str = "png", lang: str = DEFAULT_LANG) -> bytes:
    """Draw every territory's headline D's side by side with whiskers."""
    return _render(comparison_figure(profile, lang), fmt, "comparison")


def safe_name(code: str) -> str:
    """Return a file-name-safe version of a territory code."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(code)) or "territory"


def territory_stem(code: str) -> str:
    """The file name (without extension) of a territory's chart."""
    return f"territory_{safe_name(code)}"


COMPARISON_STEM = "comparison"


def draw_charts(profile: pd.DataFrame, lang: str = DEFAULT_LANG) -> dict[str, bytes]:
    """Draw every chart of the profile in lang: file name -> PNG or SVG bytes.

    The report inlines the SVGs drawn here, so a caller writing both draws each chart once.
    """
    check_lang(lang)
    jobs = [
        (territory_stem(c), lambda f, c=c: territory_chart(profile, c, f, lang))
        for c in dict.fromkeys(profile["territory_code"].astype(str))
    ]
    jobs.append((COMPARISON_STEM, lambda f: comparison_chart(profile, f, lang)))
    return {f"{stem}.{fmt}": draw(fmt) for stem, draw in jobs for fmt in FORMATS}


def save_charts(charts: dict[str, bytes], folder: str | Path) -> list[Path]:
    """Write drawn charts into folder, each file atomically."""
    written = []
    for name, data in charts.items():
        path = Path(folder) / name
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        written.append(path)
    return written


def write_charts(profile: pd.DataFrame, folder: str | Path, lang: str = DEFAULT_LANG) -> list[Path]:
    """Write territory_<code>.png/.svg and comparison.png/.svg into folder, labelled in lang."""
    return save_charts(draw_charts(profile, lang), folder)
