"""`milieu analyse` commands: registry counts, 4D profile, report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from analysis.file_io import InputError, suffix_of, write_table
from analysis.territorial_levels import LEVELS
from analysis.texts import DEFAULT_LANG, LANGS
from analysis.typology import TypologyError, load_typology

if TYPE_CHECKING:  # pandas and DuckDB load inside the commands: --help must start fast
    import pandas as pd

analyse_group = click.Group(
    "analyse", help="Compute D1-D4 of territories: registry counts, profile, report."
)


def _progress(message: str) -> None:
    click.echo(message, err=True)


lang_option = click.option(
    "--lang",
    default=DEFAULT_LANG,
    show_default=True,
    type=click.Choice(LANGS),
    help="Language of the charts and the report: fr (French) or en (English).",
)


def _check_out(path: Path, allowed: tuple[str, ...]) -> None:
    if suffix_of(path) not in allowed:
        raise click.UsageError(f"--out {path.name}: use a file ending in {' or '.join(allowed)}")


@analyse_group.command("registry")
@click.option(
    "--registry",
    "registry",
    required=True,
    type=click.Path(path_type=Path),
    help="SIRENE establishment stock (.csv, .csv.gz or .parquet), columns by name.",
)
@click.option(
    "--geography",
    required=True,
    type=click.Path(path_type=Path),
    help="INSEE table d'appartenance géographique (CSV or XLSX): CODGEO, LIBGEO, DEP, REG, ZE2020.",
)
@click.option(
    "--level",
    "levels",
    multiple=True,
    required=True,
    type=click.Choice(list(LEVELS)),
    help="Territorial level; repeat for several (e.g. departement and zone_emploi).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Long tidy table to write (.csv or .parquet).",
)
@click.option(
    "--population",
    type=click.Path(path_type=Path),
    help="Population by commune: CODGEO and PMUN (or PTOT, P21_POP, population).",
)
@click.option(
    "--area",
    type=click.Path(path_type=Path),
    help="Area in km² by commune: CODGEO and SUPERF (or area_km2).",
)
@click.option(
    "--employers-only",
    is_flag=True,
    help="Firm base = employer establishments only (caractereEmployeur = O).",
)
@click.option(
    "--typology",
    type=click.Path(path_type=Path),
    help="Relay typology YAML (default: the packaged relay_typology.yaml).",
)
@click.option(
    "--legal-units",
    type=click.Path(path_type=Path),
    help="SIRENE legal-unit stock (StockUniteLegale, .csv, .csv.gz or .parquet): "
    "siren, categorieJuridiqueUniteLegale and denominationUniteLegale, "
    "joined to the establishments by siren.",
)
@click.option(
    "--curated",
    type=click.Path(path_type=Path),
    help="Relay actors SIRENE does not show (CSV, XLSX or Parquet), one per row: "
    "CODGEO (commune) and category (a typology key); added to the counts.",
)
def registry_command(
    registry: Path,
    geography: Path,
    levels: tuple[str, ...],
    out: Path,
    population: Path | None,
    area: Path | None,
    employers_only: bool,
    typology: Path | None,
    legal_units: Path | None,
    curated: Path | None,
) -> None:
    """Count relay actors (D1) and their diversity (D2) per territory from SIRENE.

    Writes one long table with the columns territory_level, territory_code,
    territory_name, indicator, value, ci_low, ci_high, note. Only active establishments
    count; NAF rules apply only to NAFRev2 codes; Paris/Lyon/Marseille arrondissements are
    mapped to their commune. Malformed rows are counted and reported on stderr.

    Required register columns: siret, etatAdministratifEtablissement,
    activitePrincipaleEtablissement, nomenclatureActivitePrincipaleEtablissement,
    codeCommuneEtablissement. Optional: caractereEmployeurEtablissement (needed by
    --employers-only), categorieJuridiqueUniteLegale and denominationUniteLegale (rules on
    legal categories and on the legal unit's name need them: the establishment stock lacks
    them, so give --legal-units, or join them beforehand), denominationUsuelleEtablissement
    / enseigne1Etablissement (rules on name keywords). Actors SIRENE cannot show (Team
    France Export advisers, foreign trade advisers, ...) come from a curated list
    (--curated).
    """
    from analysis.registry import compute_registry

    _check_out(out, (".csv", ".parquet"))
    try:
        typ = load_typology(typology) if typology else load_typology()
        result = compute_registry(
            registry,
            geography,
            levels,
            population,
            area,
            employers_only,
            typ,
            progress=_progress,
            legal_units=legal_units,
            curated=curated,
        )
    except (InputError, TypologyError) as exc:
        raise click.ClickException(str(exc)) from exc
    write_table(result.table, out)
    for line in result.summary_lines():
        _progress(line)
    _progress(f"wrote {len(result.table):,} rows to {out} (typology {result.typology_version})")


TABLE_NAMES = ("interviews", "answers_long", "codings")
# Columns that hold codes with leading zeros: always read as text.
TEXT_COLUMNS = {
    "commune": str,
    "departement": str,
    "region": str,
    "zone_emploi": str,
    "territory_code": str,
    "question_key": str,
    "value": str,
    "missing": str,
    "coder": str,
    "code": str,
    "family": str,
    "source": str,
    "status": str,
    "respondent_type": str,
}


def _find(folder: Path | None, stem: str) -> Path | None:
    if folder is None:
        return None
    for ext in (".parquet", ".csv"):
        if (folder / f"{stem}{ext}").is_file():
            return folder / f"{stem}{ext}"
    return None


def _read_tidy(path: Path | None, what: str, required: bool = True) -> pd.DataFrame:
    import pandas as pd

    if path is None:
        if required:
            raise click.UsageError(f"no {what} table: give --{what.replace('_', '-')} or --data")
        return pd.DataFrame()
    if not path.is_file():
        raise click.ClickException(f"{what} table not found: {path}")
    try:
        if suffix_of(path) == ".parquet":
            return pd.read_parquet(path)
        header = pd.read_csv(path, nrows=0).columns
        dtypes = {c: t for c, t in TEXT_COLUMNS.items() if c in header}
        return pd.read_csv(path, dtype=dtypes)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {what} table {path.name}: {exc}") from exc


def _read_questions(paths: tuple[Path, ...]) -> dict:
    import json

    import yaml

    from analysis.scores import questions_from_instrument

    merged: dict = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise click.ClickException(f"cannot read questions {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise click.ClickException(
                f"{path.name}: expected a mapping of question keys or an instrument"
            )
        merged.update(questions_from_instrument(data))
    return merged


REQUIRED_TIDY = {
    "interviews": ("interview_id", "org_id", "respondent_type", "status"),
    "answers_long": ("interview_id", "question_key", "value"),
    "codings": ("interview_id", "code", "coder", "source", "valence", "intensity"),
}


def _check_tidy(frame: pd.DataFrame, what: str, level: str | None = None) -> pd.DataFrame:
    needed = REQUIRED_TIDY[what] + ((level,) if level else ())
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise click.ClickException(f"{what} table lacks column(s): {', '.join(missing)}")
    return frame


@analyse_group.command("profile")
@click.option(
    "--registry-table",
    type=click.Path(path_type=Path),
    help="Output of `milieu analyse registry` (.csv/.parquet) at --level; without "
    "it D1 and D2 are missing.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with interviews, answers_long, codings (.csv or .parquet) and "
    "questions.json/.yaml.",
)
@click.option(
    "--interviews",
    type=click.Path(path_type=Path),
    help="interviews table: interview_id, org_id, respondent_type, status and the "
    "territory columns commune, departement, region, zone_emploi.",
)
@click.option(
    "--answers",
    type=click.Path(path_type=Path),
    help="answers_long table: interview_id, question_key, value, missing.",
)
@click.option(
    "--codings",
    type=click.Path(path_type=Path),
    help="codings table: interview_id, code, family, coder, source, valence, "
    "intensity (optional: no transcript scores without it).",
)
@click.option(
    "--questions",
    "question_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Question metadata: an instrument YAML or a JSON/YAML mapping question_key "
    "-> {type, d, reverse, choices}. Repeatable.",
)
@click.option(
    "--level",
    default="departement",
    show_default=True,
    type=click.Choice(list(LEVELS)),
    help="Territorial level of the profile.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for profile tables, charts and report.html.",
)
@click.option(
    "--bootstrap",
    "n_boot",
    default=1000,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Bootstrap replicates.",
)
@click.option(
    "--seed",
    default=20260,
    show_default=True,
    type=int,
    help="Random seed: the same seed gives the same intervals.",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    default=("approved", "submitted"),
    show_default=True,
    help="Interview statuses to include (repeatable).",
)
@click.option(
    "--territory",
    "territories",
    multiple=True,
    help="Restrict to these territory codes (repeatable).",
)
@click.option("--no-composite", is_flag=True, help="Leave out the composite rows.")
@lang_option
def profile_command(
    registry_table: Path | None,
    data_dir: Path | None,
    interviews: Path | None,
    answers: Path | None,
    codings: Path | None,
    question_files: tuple[Path, ...],
    level: str,
    out: Path,
    n_boot: int,
    seed: int,
    statuses: tuple[str, ...],
    territories: tuple[str, ...],
    no_composite: bool,
    lang: str,
) -> None:
    """Compute the 4D profile of each territory with bootstrap intervals.

    Writes into --out: profile.csv/.parquet (territory, dimension D1, D2, D3, D4_GOV,
    D4_STRAT, composite; source registry, likert, coding, geometric, arithmetic; value,
    ci_low, ci_high, n_sme, n_relay, flag, note, n_basis, n_items, n_coders, n_firms),
    respondent_scores, scale_alpha,
    profile_meta.json, charts (PNG and SVG) and report.html, labelled in --lang.
    """
    import pandas as pd

    from analysis.profile import build_profile
    from analysis.report import save_profile, write_report

    if data_dir is not None and not data_dir.is_dir():
        raise click.ClickException(f"data folder not found: {data_dir}")
    iv = _check_tidy(
        _read_tidy(interviews or _find(data_dir, "interviews"), "interviews"), "interviews", level
    )
    ans = _check_tidy(
        _read_tidy(answers or _find(data_dir, "answers_long"), "answers_long"), "answers_long"
    )
    cod = _read_tidy(codings or _find(data_dir, "codings"), "codings", required=False)
    cod = (
        _check_tidy(cod, "codings")
        if not cod.empty
        else pd.DataFrame(columns=list(REQUIRED_TIDY["codings"]) + ["family"])
    )
    qfiles = question_files or tuple(p for p in (_find_questions(data_dir),) if p)
    if not qfiles:
        raise click.UsageError(
            "no question metadata: give --questions or put questions.json in --data"
        )
    questions = _read_questions(qfiles)
    reg = _read_registry_table(registry_table)
    result = build_profile(
        reg,
        iv,
        ans,
        cod,
        questions,
        level=level,
        n_boot=n_boot,
        seed=seed,
        statuses=statuses,
        territories=territories or None,
        with_composite=not no_composite,
        progress=_progress,
    )
    if result.profile.empty:
        raise click.ClickException(f"no territory to profile at level {level}")
    save_profile(result, out)
    from analysis import plots  # matplotlib: only for the commands that draw

    drawn = plots.draw_charts(result.profile, lang)  # once: written and inlined in the report
    charts = plots.save_charts(drawn, out / "charts")
    write_report(result, out / "report.html", lang, drawn)
    for w in result.warnings:
        _progress(f"warning: {w}")
    _progress(
        f"wrote profile of {result.profile['territory_code'].nunique()} territories, "
        f"{len(charts)} charts and report.html to {out}"
    )


def _find_questions(folder: Path | None) -> Path | None:
    if folder is None:
        return None
    for name in ("questions.json", "questions.yaml", "questions.yml"):
        if (folder / name).is_file():
            return folder / name
    return None


def _read_registry_table(path: Path | None) -> pd.DataFrame:
    import pandas as pd

    from analysis.registry import OUTPUT_COLUMNS

    if path is None:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    if not path.is_file():
        raise click.ClickException(f"registry table not found: {path}")
    try:
        frame = (
            pd.read_parquet(path)
            if suffix_of(path) == ".parquet"
            else pd.read_csv(
                path, dtype={"territory_code": str, "territory_name": str, "note": str}
            )
        )
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read registry table {path.name}: {exc}") from exc
    missing = [c for c in OUTPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise click.ClickException(f"registry table lacks column(s): {', '.join(missing)}")
    frame["territory_name"] = frame["territory_name"].fillna("")
    return frame


@analyse_group.command("report")
@click.option(
    "--profile",
    "profile_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder written by `milieu analyse profile`.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (self-contained: charts inline, no external assets).",
)
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the PNG and SVG charts into this folder.",
)
@lang_option
def report_command(profile_dir: Path, out: Path, charts_dir: Path | None, lang: str) -> None:
    """Rebuild the self-contained HTML report (and charts) from a saved profile."""
    from analysis.report import load_profile, write_report

    try:
        result = load_profile(profile_dir)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    drawn = None
    if charts_dir is not None:
        from analysis import plots

        drawn = plots.draw_charts(result.profile, lang)
        plots.save_charts(drawn, charts_dir)
    write_report(result, out, lang, drawn)
    _progress(f"wrote {out}")
