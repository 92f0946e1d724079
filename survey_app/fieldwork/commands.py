"""Fieldwork commands that need the database: load instruments, import ODK/Kobo submissions."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.instruments.definitions import MISSING_KINDS
from survey_app.instruments.expr import node_string
from survey_app.instruments.submissions import SubmissionsError, parse_submissions_csv
from survey_app.models import InstrumentVersion, Interview, Organisation, User

#: a submission's meta column that names its organisation by pseudonym
ORGANISATION_COLUMNS = ("milieu_organisation", "_organisation", "_organisation_code", "_org")


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
    organisation comes from the form's milieu_organisation question (export-xlsform
    --organisations), an `_organisation` column (its pseudonym, e.g. PME_004) or from
    --organisation. Imported interviews are filed as submitted.

    Exports are cumulative: import the same file again and each submission (by its ODK
    KEY / instanceID or Kobo _uuid) is skipped when unchanged and updated when edited,
    unless its interview was reviewed since. The counts new / unchanged / updated /
    refused are printed.
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
    counts = {"new": 0, "unchanged": 0, "updated": 0, "refused": 0}
    refusals: list[str] = []
    for record in records:
        org = _organisation_of(record, default_org, version.respondent_type)
        outcome = _import_one(record, version, org, user)
        if outcome in counts:
            counts[outcome] += 1
        else:
            counts["refused"] += 1
            refusals.append(f"row {record['row']}: {outcome}")
    db.session.commit()
    click.echo(
        f"Imported {len(records)} submission(s) into {version.instrument_key} "
        f"v{version.version} filed under {user.username}: "
        + ", ".join(f"{n} {what}" for what, n in counts.items())
        + "."
    )
    for line in refusals:
        click.echo(f"Refused: {line}", err=True)


#: imported interviews a re-import may still change (not once reviewed)
UPDATABLE = ("submitted", "has_issues")


def _import_one(record: dict, version: InstrumentVersion, org: Organisation, user: User) -> str:
    """File one submission; return new, unchanged, updated or why it is refused."""
    answers = {k: v for k, v in record["answers"].items() if v is not None}
    sid = record.get("submission_id")
    found = (
        db.session.scalar(sa.select(Interview).where(Interview.instance_id == sid)) if sid else None
    )
    if found is None:
        interview = ops.create_interview(user, version, org, _date_of(record.get("submitted_at")))
        interview.instance_id = sid
        ops.save_answers(interview, answers, interview.version, user)
        ops.submit_interview(interview, interview.version, user)
        return "new"
    if found.instrument_version_id != version.id:
        other = found.instrument_version
        return (
            f"submission {sid} was imported as interview {found.id} of "
            f"{other.instrument_key} v{other.version}"
        )
    if _comparable(ops.stored_answers(found)) == _comparable(answers) and (
        found.organisation_id == org.id
    ):
        return "unchanged"
    if found.status not in UPDATABLE:
        return (
            f"submission {sid} changed but interview {found.id} is {found.status}: not overwritten"
        )
    found.organisation = org
    cleared = {k: None for k in ops.stored_answers(found) if k not in answers}
    ops.save_answers(found, {**cleared, **answers}, found.version, user)
    ops.submit_interview(found, found.version, user)
    return "updated"


def _comparable(answers: dict[str, Any]) -> dict[str, str]:
    """Answers as they are stored (numbers and lists as text; missing kinds by name)."""
    out = {}
    for key, value in answers.items():
        text = value if isinstance(value, str) and value in MISSING_KINDS else node_string(value)
        if text:
            out[key] = text
    return out


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
