import os

import click
from flask.cli import with_appcontext

from survey_app.auth.operations import UserError, create_user
from survey_app.extensions import db
from survey_app.models.users import ROLES


@click.group()
def users() -> None:
    """Manage user accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--display-name", default="", help="Name shown in the interface.")
@with_appcontext
def add_user(name: str, role: str, display_name: str) -> None:
    """Add a user; the password comes from MILIEU_PASSWORD or a hidden prompt."""
    password = os.environ.get("MILIEU_PASSWORD")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(name, role, password, display_name)
    except UserError as err:
        raise click.ClickException(str(err)) from None
    db.session.commit()
    click.echo(f"Added {user.username} ({user.role}).")
