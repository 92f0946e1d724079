"""The `milieu` command: the contract other tools and scripts rely on.

Every command lives beside its feature; this module only lists them. A command's module is
imported when that command runs (or its help is asked for), so `milieu --help`, `milieu
analyse ...` and `milieu coding ...` load neither Flask nor the database.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

#: name -> (module, attribute, one-line help, needs the web app)
COMMANDS: dict[str, tuple[str, str, str, bool]] = {
    "analyse": (
        "analysis.commands",
        "analyse_group",
        "Territory profiles: registry counts (D1, D2), 4D profile, report.",
        False,
    ),
    "coding": (
        "coding.commands",
        "coding_group",
        "Theme classifier and agreement: train, predict, evaluate, agreement.",
        False,
    ),
    "db": (
        "survey_app.core.commands",
        "db",
        "Create, upgrade, back up and restore the database.",
        True,
    ),
    "demo": (
        "survey_app.demo.commands",
        "demo",
        "Load the demo: users, territories, interviews, transcripts, codings.",
        True,
    ),
    "export": (
        "survey_app.exports.commands",
        "export_command",
        "Export the project: CSV, XLSX, Parquet, SPSS, Stata, REFI-QDA, with dictionary.",
        True,
    ),
    "fieldwork": (
        "survey_app.fieldwork.commands",
        "fieldwork_group",
        "Import submissions collected offline with ODK Collect or KoboToolbox.",
        True,
    ),
    "import-refi": (
        "survey_app.exports.commands",
        "import_refi_command",
        "Import a REFI-QDA project (.qdpx) or codebook (.qdc).",
        True,
    ),
    "instruments": (
        "survey_app.instruments.commands",
        "instruments_group",
        "Interview guides as versioned data: validate, load, XLSForm export/import.",
        True,
    ),
    "rounds": (
        "survey_app.rounds.commands",
        "rounds_group",
        "Blind double-coding rounds: list them, print their agreement.",
        True,
    ),
    "serve": (
        "survey_app.core.commands",
        "serve",
        "Serve the web app with the production WSGI server (waitress).",
        True,
    ),
    "territories": (
        "survey_app.territories.commands",
        "territories_group",
        "Communes, départements, régions and zones d'emploi from INSEE tables.",
        True,
    ),
    "users": ("survey_app.auth.commands", "users", "Manage user accounts.", True),
    "worker": (
        "survey_app.core.commands",
        "worker",
        "Run the background job consumer (suggestions, retraining, exports).",
        True,
    ),
}


def _create_app():
    from survey_app import create_app

    return create_app()


class MilieuGroup(click.Group):
    """A group whose commands are imported on first use, from the table above."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands without importing any of them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _help, needs_app = COMMANDS[name]
        command = getattr(importlib.import_module(module), attr)
        if needs_app:
            _provide_app(ctx)
        return command


def _provide_app(ctx: click.Context) -> None:
    """Let Flask's `with_appcontext` find the app (a test runner may have given its own)."""
    from flask.cli import ScriptInfo

    root = ctx.find_root()
    if not isinstance(root.obj, ScriptInfo):
        root.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False)
    ctx.obj = root.obj


@click.group(cls=MilieuGroup)
def cli() -> None:
    """Milieu: interviews, coding and 4D territory profiles for internationalising milieus."""


def _database_error(err: BaseException) -> Any:
    """The SQLAlchemy OperationalError behind err, if SQLAlchemy was loaded at all."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(err, exc.OperationalError)


def main() -> None:
    """Run the command line; database trouble ends in one line, not a traceback."""
    try:
        cli.main(prog_name="milieu", standalone_mode=True)
    except Exception as err:
        if not _database_error(err):
            raise
        reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        click.echo(f"Error: cannot use the database: {reason}", err=True)
        sys.exit(1)
