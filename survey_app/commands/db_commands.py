"""`milieu db`: Flask-Migrate's commands plus backup and restore."""

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade
from flask_migrate.cli import db

from survey_app.core.audit import record
from survey_app.core.backup import BackupError, backup, restore
from survey_app.extensions import db as database

db.help = "Create, upgrade, back up and restore the database."


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent copy of the database to PATH (safe while the app runs)."""
    try:
        backup(path)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"Backed up the database to {path}.")


@db.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database by the backup at PATH (a safety copy is made first)."""
    if not yes:
        click.confirm("This replaces the current database. Go on?", abort=True)
    try:
        safety = restore(path)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    upgrade()  # an older backup is brought up to the current schema
    record("db.restore", object_type="database", payload={"source": str(path)})
    database.session.commit()
    database.session.remove()
    database.engine.dispose()  # no pooled connection may outlive the database it was opened on
    if safety:
        click.echo(f"The previous database was saved to {safety}.")
    click.echo(f"Restored the database from {path}.")
