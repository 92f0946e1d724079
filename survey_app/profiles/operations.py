"""The 4D territory profile from the web: registry counts plus the project's interviews."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import ngettext

from analysis.texts import TEXTS, code_label, decimal_text, texts, translate_note
from survey_app.config import LANGUAGES
from survey_app.core.job_queue import JobError, job_kind
from survey_app.models import Job

if TYPE_CHECKING:  # the statistics stack loads where it is used, not at application start
    from analysis.profile import ProfileResult

LEVELS = ("departement", "zone_emploi", "region")
#: the language of the charts and report of profiles computed before they were translated
LEGACY_LANG = "en"


def registry_sources() -> dict[str, Path | None]:
    """The business-register files the profile uses: configured, else the demo extract."""
    from analysis.synthetic_registry import demo_paths

    def configured(name: str) -> Path | None:
        value = current_app.config.get(f"{name.upper()}_FILE")
        return Path(value) if value else None

    demo = {name: path for name, path in demo_paths().items() if name != "interviews"}
    if not configured("registry"):
        # the demo extract carries the legal category; a curated list may still be added
        return {**demo, "legal_units": None, "curated": configured("curated")}
    return {name: configured(name) for name in [*demo, "legal_units", "curated"]}


def uses_demo_registry() -> bool:
    return not current_app.config.get("REGISTRY_FILE")


def profile_folder(job_id: int) -> Path:
    return Path(current_app.instance_path) / "profiles" / str(job_id)


def _translated(job_id: int, lang: str) -> bool:
    # jobs write charts/<lang>/ and report.<lang>.html for every language; folders from
    # before that hold charts/ and report.html in English only
    return (profile_folder(job_id) / "charts" / lang).is_dir()


def output_lang(job_id: int, lang: str) -> str:
    """The language the job's charts and report exist in: lang, else the legacy English."""
    return lang if _translated(job_id, lang) else LEGACY_LANG


def chart_folder(job_id: int, lang: str) -> Path:
    """The folder of the job's charts in lang (the only folder of a legacy job)."""
    charts = profile_folder(job_id) / "charts"
    return charts / lang if _translated(job_id, lang) else charts


def report_file(job_id: int, lang: str) -> Path:
    """The job's HTML report in lang (the only report of a legacy job)."""
    folder = profile_folder(job_id)
    return folder / (f"report.{lang}.html" if _translated(job_id, lang) else "report.html")


def score_text(value: float, lang: str) -> str:
    """A score as the page shows it: three decimals with the language's decimal mark
    (0,498 in French), a dash when missing."""
    return "—" if value != value else decimal_text(value, TEXTS["decimal_mark"][lang])


def interval_text(low: float, high: float, lang: str) -> str:
    """An interval as the page shows it ([0,408 ; 0,559] in French), a dash when missing."""
    if low != low or high != high:
        return "—"
    return TEXTS["interval"][lang].format(low=score_text(low, lang), high=score_text(high, lang))


def shown_result(result: ProfileResult, lang: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The profile rows and warnings as the page shows them in lang: notes and warnings
    translated (stored in English), dimensions and sources named, codes kept beside, and
    what each row rests on; below the saturation threshold, no interval."""
    from analysis.profile import is_thin, too_few
    from analysis.report import translated_notes

    words = texts(lang)
    frame = translated_notes(result.profile, lang)
    for col in ("n_basis", "n_items", "n_coders", "n_firms"):
        if col not in frame:  # profiles computed before these columns
            frame[col] = float("nan")
    for col in ("dimension", "source"):
        frame[f"{col}_label"] = [code_label(col, c, words) or c for c in frame[col]]
    frame["value_text"] = [score_text(v, lang) for v in frame["value"]]
    frame["interval_text"] = [
        interval_text(lo, hi, lang)
        for lo, hi in zip(frame["ci_low"], frame["ci_high"], strict=True)
    ]
    frame["basis_text"] = [basis_text(rec) for rec in frame.to_dict("records")]

    def number(value: Any) -> float:
        found = _number(value)
        return float("nan") if found is None else found

    thin = [
        is_thin(rec["source"], number(rec["value"]), number(rec["n_basis"]))
        for rec in frame.to_dict("records")
    ]
    frame["too_few"] = thin
    frame["too_few_text"] = [
        translate_note(too_few(src, n), lang) if is_thin else ""
        for src, n, is_thin in zip(frame["source"], frame["n_basis"], thin, strict=True)
    ]
    # the interval cell says it; the note keeps its other phrases
    joiner = " ; " if lang == "fr" else "; "
    frame["note"] = [
        joiner.join(p for p in re.split(r" ?; ", str(note)) if p != said) if said else note
        for note, said in zip(frame["note"], frame["too_few_text"], strict=True)
    ]
    return frame.to_dict("records"), [translate_note(w, lang) for w in result.warnings]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def basis_text(row: dict[str, Any]) -> str:
    """What one profile row rests on, in the interface language."""
    n, items = _number(row.get("n_basis")), _number(row.get("n_items"))
    coders, firms = _number(row.get("n_coders")), _number(row.get("n_firms"))
    if n is None:
        return ""
    n = int(n)
    if row["source"] == "coding":
        text = ngettext("%(num)d coded transcript", "%(num)d coded transcripts", n)
        if coders:
            text += ", " + ngettext("%(num)d coder", "%(num)d coders", int(coders))
        return text
    if row["source"] == "likert":
        text = ngettext("%(num)d interview answered", "%(num)d interviews answered", n)
        if items:
            text += ", " + ngettext("%(num)d item", "%(num)d items", int(items))
        return text
    if row["source"] == "registry":
        text = ngettext("register: %(num)d relay actor", "register: %(num)d relay actors", n)
        if firms:
            text += ", " + ngettext("%(num)d firm", "%(num)d firms", int(firms))
        return text
    return ""


@job_kind("profile")
def profile_job(job: Job, progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Compute the profile at the job's level, with the registry and every interview."""
    # the statistics and plotting stacks load in the worker, not at application start
    from analysis.datasets import merged_questions
    from analysis.plots import draw_charts, save_charts
    from analysis.profile import build_profile
    from analysis.registry import RegistryError, compute_registry
    from analysis.report import save_profile, write_report
    from survey_app.exports.builder import build_dataset

    level = job.params["level"]
    n_boot = int(job.params.get("n_boot", 1000))
    sources = registry_sources()
    progress(0.05, "registry")
    try:
        registry = compute_registry(
            sources["registry"],
            sources["geography"],
            [level],
            sources["population"],
            sources["area"],
            legal_units=sources["legal_units"],
            curated=sources["curated"],
        )
    except (RegistryError, OSError) as err:
        raise JobError(f"registry: {err}") from None
    progress(0.3, "interviews")
    ds = build_dataset(None)
    progress(0.4, "bootstrap")
    result = build_profile(
        registry.table,
        ds.interviews,
        ds.answers_long,
        ds.codings,
        merged_questions(ds),
        level=level,
        n_boot=n_boot,
        statuses=job.params.get("statuses") or None,
    )
    if result.profile.empty:
        raise JobError("no territory to profile at this level")
    folder = profile_folder(job.id)
    progress(0.85, "charts and report")
    save_profile(result, folder)
    for lang in LANGUAGES:  # every interface language, so each viewer reads their own
        charts = draw_charts(result.profile, lang)  # once: written and inlined in the report
        save_charts(charts, folder / "charts" / lang)
        write_report(result, folder / f"report.{lang}.html", lang, charts)
    return {
        "folder": str(folder),
        "territories": int(result.profile["territory_code"].nunique()),
        "warnings": result.warnings,
        "demo_registry": uses_demo_registry(),
        "malformed_rows": sum(registry.malformed.values()),
    }


def read_result(job: Job):
    """Load a finished profile job's result from its folder."""
    from analysis.report import load_profile

    return load_profile(profile_folder(job.id))
