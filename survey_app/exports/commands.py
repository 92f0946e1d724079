"""`milieu export` and `milieu import-refi`: the project in and out of the database."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import with_appcontext

from analysis.writers import WRITERS
from survey_app.exports.operations import (
    TERRITORY_LEVELS,
    ExportError,
    ExportOptions,
    check_options,
    parse_terms,
    write_export,
)
from survey_app.extensions import db


def _progress(fraction: float, message: str) -> None:
    click.echo(f"[{fraction:4.0%}] {message}", err=True)


def _check_out(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise click.UsageError(f"--out {path} is a folder; give a file name")
    if not folder.is_dir():
        raise click.UsageError(f"--out {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise click.UsageError(f"--out {path}: folder {folder} is not writable")


@click.command("export")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(list(WRITERS)),
    help="File format: csv and parquet (zip bundles), xlsx, sav (SPSS), dta "
    "(Stata), qdpx (REFI-QDA project) or qdc (REFI-QDA codebook).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write; the data dictionary is written inside or beside it.",
)
@click.option(
    "--pseudonymise",
    is_flag=True,
    help="Replace person, firm and place names by stable tokens (PERS_001...); the "
    "key stays in the database, visible to admins only.",
)
@click.option(
    "--coarsen-territory",
    "territory",
    default="commune",
    type=click.Choice(list(TERRITORY_LEVELS)),
    help="Blank territory codes finer than this level (default: keep communes).",
)
@click.option(
    "--coarsen-roles", is_flag=True, help="Replace each relay-actor category by its family."
)
@click.option(
    "--tables",
    default=None,
    help="Comma-separated tables (csv, parquet, xlsx only), e.g. cases,codings.",
)
@click.option(
    "--terms",
    "terms_file",
    type=click.File(encoding="utf-8"),
    default=None,
    help="Extra names to pseudonymise, one KIND,term per line (PERS, FIRM, LIEU).",
)
@with_appcontext
def export_command(
    fmt: str,
    out: Path,
    pseudonymise: bool,
    territory: str,
    coarsen_roles: bool,
    tables: str | None,
    terms_file,
) -> None:
    """Export the whole project (every interview) to one format, with its data dictionary.

    Progress goes to stderr; the files written are listed on stdout. A failed export leaves
    nothing behind.
    """
    _check_out(out)
    try:
        options = check_options(
            ExportOptions(
                fmt=fmt,
                tables=tuple(t.strip() for t in tables.split(",") if t.strip()) if tables else None,
                pseudonymise=pseudonymise,
                territory_level=territory,
                coarsen_roles=coarsen_roles,
                extra_terms=parse_terms(terms_file) if terms_file else {},
            )
        )
        if options.extra_terms and not pseudonymise:
            raise ExportError("--terms needs --pseudonymise")
        paths = write_export(None, options, out, _progress)
    except ExportError as err:
        db.session.rollback()
        raise click.UsageError(str(err)) from None
    except OSError as err:
        db.session.rollback()
        raise click.ClickException(f"cannot write {out}: {err.strerror or err}") from None
    db.session.commit()  # the new key entries, the audit event
    for path in paths:
        click.echo(str(path))


@click.command("import-refi")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--create-interviews",
    is_flag=True,
    help="Create the organisations and interviews of sources that match none.",
)
@click.option(
    "--owner",
    default=None,
    help="User name recorded as fieldworker of created interviews (default: the first admin).",
)
@click.option(
    "--position-unit",
    default="auto",
    type=click.Choice(["auto", "codepoint", "utf16"]),
    help="How the file counts characters: auto (decided per source from the positions and "
    "the tool), codepoint (QualCoder) or utf16 (NVivo, MAXQDA, ATLAS.ti).",
)
@click.option(
    "--map",
    "code_map",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A .csv (file's code, Milieu code) or .yaml (name: code) file mapping the file's "
    "codes onto Milieu codes; unmapped codes come in under their own names.",
)
@with_appcontext
def import_refi_command(
    file: Path,
    create_interviews: bool,
    owner: str | None,
    position_unit: str,
    code_map: Path | None,
) -> None:
    """Import a REFI-QDA project (.qdpx) or codebook (.qdc) into the database.

    Codes map onto the current codebook by name or through --map; other codes come in under
    their own names, parents and colours (a new codebook version is made only when the file
    brings new codes); sources become transcripts of the interviews they name, titled after
    the source; codings keep their exact offsets, coders and memos. All of it is imported,
    or nothing.
    """
    from analysis.writers.refi import RefiError
    from survey_app.exports.refi_import import RefiImportError, import_refi

    if not file.is_file():
        raise click.UsageError(f"{file}: no such file")
    if code_map is not None and not code_map.is_file():
        raise click.UsageError(f"--map {code_map}: no such file")
    try:
        report = import_refi(
            file,
            create_interviews=create_interviews,
            owner_name=owner,
            position_unit=position_unit,
            progress=_progress,
            code_map=code_map,
        )
    except (RefiError, RefiImportError) as err:
        db.session.rollback()
        raise click.ClickException(str(err)) from None
    db.session.commit()
    for line in report.lines():
        click.echo(line)
