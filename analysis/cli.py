"""`milieu analyse` commands: registry counts, 4D profile, report."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.files import InputError, suffix_of, write_table
from analysis.registry import LEVELS, compute_registry
from analysis.typology import TypologyError, load_typology

analyse_group = click.Group(
    "analyse", help="Compute D1-D4 of territories: registry counts, profile, report."
)


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _check_out(path: Path, allowed: tuple[str, ...]) -> None:
    if suffix_of(path) not in allowed:
        raise click.UsageError(f"--out {path.name}: use a file ending in {' or '.join(allowed)}")


@analyse_group.command("registry")
@click.option("--registry", "registry", required=True, type=click.Path(path_type=Path),
              help="SIRENE establishment stock (.csv, .csv.gz or .parquet), columns by name.")
@click.option("--geography", required=True, type=click.Path(path_type=Path),
              help="INSEE table d'appartenance géographique (CSV or XLSX): CODGEO, LIBGEO, "
                   "DEP, REG, ZE2020.")
@click.option("--level", "levels", multiple=True, required=True,
              type=click.Choice(list(LEVELS)),
              help="Territorial level; repeat for several (e.g. departement and zone_emploi).")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Long tidy table to write (.csv or .parquet).")
@click.option("--population", type=click.Path(path_type=Path),
              help="Population by commune: CODGEO and PMUN (or PTOT, P21_POP, population).")
@click.option("--area", type=click.Path(path_type=Path),
              help="Area in km² by commune: CODGEO and SUPERF (or area_km2).")
@click.option("--employers-only", is_flag=True,
              help="Firm base = employer establishments only (caractereEmployeur = O).")
@click.option("--typology", type=click.Path(path_type=Path),
              help="Relay typology YAML (default: the packaged relay_typology.yaml).")
def registry_command(registry: Path, geography: Path, levels: tuple[str, ...], out: Path,
                     population: Path | None, area: Path | None, employers_only: bool,
                     typology: Path | None) -> None:
    """Count relay actors (D1) and their diversity (D2) per territory from SIRENE.

    Writes one long table with the columns territory_level, territory_code,
    territory_name, indicator, value, ci_low, ci_high, note. Only active establishments
    count; NAF rules apply only to NAFRev2 codes; Paris/Lyon/Marseille arrondissements are
    mapped to their commune. Malformed rows are counted and reported on stderr.
    """
    _check_out(out, (".csv", ".parquet"))
    try:
        typ = load_typology(typology) if typology else load_typology()
        result = compute_registry(registry, geography, levels, population, area,
                                  employers_only, typ, progress=_progress)
    except (InputError, TypologyError) as exc:
        raise click.ClickException(str(exc)) from exc
    write_table(result.table, out)
    for line in result.summary_lines():
        _progress(line)
    _progress(f"wrote {len(result.table):,} rows to {out} (typology {result.typology_version})")
