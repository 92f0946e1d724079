"""Fieldwork commands that need the database: load instruments, import ODK/Kobo submissions."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.instruments.submissions import SubmissionsError, parse_submissions_csv
from survey_app.models import InstrumentVersion, Organisation, User

#: a submission's meta column that names its organisation by pseudonym
ORGANISATION_COLUMNS = ("_organisation", "_organisation_code", "_org")


@click.group("fieldwork")
def fieldwork_group() -> None:
    """Fieldwork data: import submissions collected offline with ODK Collect or KoboToolbox."""


@fieldwork_group.command("import-submissions")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--instrument",
    "instrument_ref",
    required=True,
    help="Instrument id (its newest loaded version) or ID@VERSION.",
)
@click.option("--fieldworker", required=True, help="User name the interviews are filed under.")
@click.option(
    "--organisation",
    "default_org",
    help="Organisation pseudonym for rows without an _organisation column.",
)
@with_appcontext
def import_submissions(
    file: Path, instrument_ref: str, fieldworker: str, default_org: str | None
) -> None:
    """Import the CSV export of ODK Central or KoboToolbox; one bad value imports nothing.

    Columns are matched to question keys whatever their group prefix. Each row's
    organisation comes from an `_organisation` column (its pseudonym, e.g. PME_004) or
    from --organisation. Imported interviews are filed as submitted.
    """
    if not file.is_file():
        raise click.ClickException(f"{file}: no such file")
    version = _instrument_version(instrument_ref)
    user = db.session.scalar(sa.select(User).where(User.username == fieldworker.lower()))
    if user is None:
        raise click.ClickException(f"no user named {fieldworker!r}")
    instrument = ops.instrument_of(version)
    try:
        records = parse_submissions_csv(file, instrument)
    except SubmissionsError as err:
        raise click.ClickException(str(err)) from None
    except (UnicodeDecodeError, ValueError) as err:
        raise click.ClickException(f"{file}: cannot read it as CSV ({err})") from None
    if not records:
        raise click.ClickException(f"{file}: no submission in the file")
    for record in records:
        org = _organisation_of(record, default_org, version.respondent_type)
        interview = ops.create_interview(user, version, org, _date_of(record.get("submitted_at")))
        answers = {k: v for k, v in record["answers"].items() if v is not None}
        ops.save_answers(interview, answers, interview.version, user)
        ops.submit_interview(interview, interview.version, user)
    db.session.commit()
    click.echo(
        f"Imported {len(records)} submission(s) as interviews of {version.instrument_key} "
        f"v{version.version} filed under {user.username}."
    )


def _instrument_version(ref: str) -> InstrumentVersion:
    key, _, wanted = ref.partition("@")
    stmt = sa.select(InstrumentVersion).where(InstrumentVersion.instrument_key == key)
    if wanted:
        stmt = stmt.where(InstrumentVersion.version == wanted)
    version = db.session.scalars(stmt.order_by(InstrumentVersion.loaded_dt.desc())).first()
    if version is None:
        raise click.ClickException(
            f"instrument {ref!r} is not loaded (milieu instruments load FILE)"
        )
    return version


def _organisation_of(record: dict, default: str | None, kind: str) -> Organisation:
    meta = {k.lower(): v for k, v in (record.get("meta") or {}).items()}
    code = next((meta[c] for c in ORGANISATION_COLUMNS if meta.get(c)), None) or default
    row = record["row"]
    if not code:
        raise click.ClickException(
            f"row {row}: no organisation (add an _organisation column or give --organisation)"
        )
    org = db.session.scalar(sa.select(Organisation).where(Organisation.pseudonym == code.strip()))
    if org is None:
        raise click.ClickException(f"row {row}: no organisation with pseudonym {code!r}")
    if org.kind != kind:
        raise click.ClickException(
            f"row {row}: organisation {code} is not of the instrument's kind"
        )
    return org


def _date_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None
