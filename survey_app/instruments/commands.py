"""`milieu instruments ...`: validate instrument files and convert them to and from XLSForm.

Validation and the XLSForm conversions work on files alone; ``load`` stores versions in the
database.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
import yaml
from flask.cli import with_appcontext

from coding.codebook import CodebookError
from survey_app.codings.codebook_versions import CodebookLoadError, load_codebook_file
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops

from .definitions import Instrument, InstrumentError, load_instrument
from .validate import PROJECT_INSTRUMENTS
from .xlsform import ORGANISATIONS_FILE, export_xlsform, import_xlsform

instruments_group = click.Group(
    "instruments",
    help="Interview instruments (instruments/*.yaml): validate, export to and import from XLSForm.",
)


def _fail(error: InstrumentError, path: str | Path) -> click.ClickException:
    """Turn an InstrumentError into a one-line-per-problem click error naming the file."""
    return click.ClickException(f"{path}: " + str(error).replace("\n", f"\n{path}: "))


def resolve_instrument(id_or_file: str, folder: Path | None = None) -> Path:
    """Return the YAML file of an instrument given its path or its `id` in instruments/."""
    candidate = Path(id_or_file)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise click.ClickException(f"no such instrument file: {id_or_file}")
        return candidate
    folder = folder or Path(os.environ.get("MILIEU_INSTRUMENTS_DIR", PROJECT_INSTRUMENTS))
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("id") == id_or_file and "sections" in data:
            return path
    raise click.ClickException(f"no instrument with id {id_or_file!r} in {folder}")


def _load(path: Path) -> Instrument:
    try:
        return load_instrument(path)
    except InstrumentError as exc:
        raise _fail(exc, path) from exc


INSTRUMENT_FIELDS = ("id", "sections", "respondent_type", "choice_lists")


def _other_data_file(path: Path) -> bool:
    """Tell whether a YAML file is clearly another kind of data (so `instruments/*.yaml` works)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # load_instrument reports it
    return isinstance(data, dict) and not any(field in data for field in INSTRUMENT_FIELDS)


@instruments_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate_command(files: tuple[str, ...]) -> None:
    """Check instrument YAML files against the schema and the semantic rules.

    Prints one line per problem with the path of the faulty question, e.g.
    `sections[2].questions[1].relevant: unknown question 'a99'`, and exits 1. Other YAML
    data (the codebook, the relay typology) is skipped, so `instruments/*.yaml` works.
    """
    failed = 0
    for name in files:
        if _other_data_file(Path(name)):
            click.echo(f"{name}: skipped, not an instrument (a codebook or typology?)", err=True)
            continue
        try:
            instrument = load_instrument(name)
        except InstrumentError as exc:
            failed += 1
            for line in str(exc).splitlines():
                click.echo(f"Error: {name}: {line}", err=True)
            continue
        click.echo(
            f"{name}: OK ({instrument.id} {instrument.version}, "
            f"{len(instrument.questions)} questions, sha256 {instrument.sha256})"
        )
    if failed:
        raise SystemExit(1)


@instruments_group.command("export-xlsform")
@click.argument("id_or_file")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The .xlsx file to write (for ODK Central, KoboToolbox, ODK Collect).",
)
@click.option(
    "--organisations",
    "with_organisations",
    is_flag=True,
    help="Open the form with a question on the organisation (pseudonyms from the database, "
    "written beside it as organisations.csv), so each submission files itself.",
)
def export_command(id_or_file: str, out: str, with_organisations: bool) -> None:
    """Write an instrument (its id in instruments/ or a YAML file) as an XLSForm."""
    if not out.endswith(".xlsx"):
        raise click.UsageError("--out must end with .xlsx")
    if not Path(out).parent.is_dir():
        raise click.ClickException(f"folder does not exist: {Path(out).parent}")
    instrument = _load(resolve_instrument(id_or_file))
    pseudonyms = _pseudonyms(instrument.respondent_type) if with_organisations else None
    try:
        export_xlsform(instrument, out, organisations=pseudonyms)
    except InstrumentError as exc:
        raise _fail(exc, out) from exc
    click.echo(f"wrote {out} ({instrument.id} {instrument.version})")
    if pseudonyms is not None:
        beside = Path(out).parent / ORGANISATIONS_FILE
        click.echo(f"wrote {beside} ({len(pseudonyms)} organisations): upload it with the form")


def _pseudonyms(kind: str) -> list[str]:
    """Return the pseudonyms of the database's organisations of this kind (sme or relay)."""
    import sqlalchemy as sa
    from flask.cli import ScriptInfo

    from survey_app.models import Organisation

    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():
        stmt = sa.select(Organisation.pseudonym).where(Organisation.kind == kind)
        return list(db.session.scalars(stmt.order_by(Organisation.pseudonym)))


@instruments_group.command("import-xlsform")
@click.argument("xlsx", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The instrument YAML file to write.",
)
@click.option(
    "--respondent-type",
    type=click.Choice(["sme", "relay"]),
    default=None,
    help="Needed when the XLSForm was not exported by Milieu.",
)
def import_command(xlsx: str, out: str, respondent_type: str | None) -> None:
    """Convert an XLSForm (.xlsx or .xls) into an instrument YAML file, validated first.

    The workbook is read by pyxform. A form without Milieu's consent questions gets them put
    in front (with a warning); what Milieu cannot represent is refused with its row.
    """
    notes: list[str] = []
    try:
        data = import_xlsform(xlsx, respondent_type=respondent_type, warnings=notes)
    except InstrumentError as exc:
        raise _fail(exc, xlsx) from exc
    target = Path(out)
    if not target.parent.is_dir():
        raise click.ClickException(f"folder does not exist: {target.parent}")
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    fd, tmp = tempfile.mkstemp(prefix=".instrument-", suffix=".yaml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for note in notes:
        click.echo(f"Warning: {xlsx}: {note}", err=True)
    click.echo(f"wrote {out} ({data['id']} {data['version']})")


@instruments_group.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def load_command(files: tuple[Path, ...]) -> None:
    """Load interview guides or the codebook into the database as immutable versions.

    All files load or none does; loading an unchanged file again changes nothing.
    """
    lines = []
    for path in files:
        if not path.is_file():
            raise click.ClickException(f"{path}: no such file")
        try:
            lines.append(f"{path}: {_load_one(path)}")
        except InstrumentError as err:
            raise click.ClickException(str(err)) from None
        except (CodebookLoadError, CodebookError) as err:
            raise click.ClickException(f"{path}: {err}") from None
        except ops.FieldworkError as err:
            raise click.ClickException(err.message_en) from None
    db.session.commit()
    for line in lines:
        click.echo(line)


def _load_one(path: Path) -> str:
    if _is_codebook(path):
        book, new = load_codebook_file(path)
        label, sha = f"codebook v{book.version}", book.sha256
    else:
        version, new = ops.load_instrument_file(path)
        label, sha = f"{version.instrument_key} v{version.version}", version.sha256
    return f"{label} {'loaded' if new else 'already loaded, unchanged'} (sha256 {sha[:12]})"


def _is_codebook(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "families" in data and "sections" not in data
