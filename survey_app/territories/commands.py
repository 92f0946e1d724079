"""`milieu territories load`: communes, départements, régions and zones d'emploi from INSEE."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from analysis.file_io import InputError
from survey_app.extensions import db
from survey_app.territories.operations import load_territories


@click.group("territories")
def territories_group() -> None:
    """Territories: communes with their département, région and zone d'emploi."""


@territories_group.command("load")
@click.option(
    "--geography",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="INSEE table d'appartenance géographique (CSV or XLSX): CODGEO, LIBGEO, DEP, REG, ZE2020.",
)
@click.option(
    "--population",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Table keyed by CODGEO with a population column (PMUN, PTOT...).",
)
@click.option(
    "--area",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Table keyed by CODGEO with an area in km² (SUPERF...).",
)
@with_appcontext
def load_territories_command(geography: Path, population: Path | None, area: Path | None) -> None:
    """Add or update territories from INSEE's geography table (safe to run again)."""
    for path in (geography, population, area):
        if path is not None and not path.is_file():
            raise click.ClickException(f"{path}: no such file")
    try:
        added = load_territories(geography, population, area)
    except InputError as err:
        raise click.ClickException(str(err)) from None
    db.session.commit()
    click.echo("Territories added: " + ", ".join(f"{n} {level}" for level, n in added.items()))
