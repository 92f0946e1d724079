import click
from flask.cli import with_appcontext

from survey_app.demo.loader import DEMO_USERS, demo_password, load_demo
from survey_app.extensions import db


@click.command()
@with_appcontext
def demo() -> None:
    """Load the demo: users, territories, organisations, interviews (safe to re-run)."""
    added = load_demo()
    db.session.commit()
    summary = ", ".join(f"{n} {what}" for what, n in added.items())
    click.echo(f"Demo loaded ({summary} added).")
    click.echo(f"Demo logins (password: {demo_password()}):")
    for username, role, _name in DEMO_USERS:
        click.echo(f"  {username:<10} {role}")
