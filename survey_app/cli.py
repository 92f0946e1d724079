"""The `milieu` command: the contract other tools and scripts rely on."""

from __future__ import annotations

import importlib
import sys

import click
from flask.cli import FlaskGroup

#: commands and groups imported only when used (the NLP and statistics stacks take seconds to load)
LAZY_GROUPS = {
    "instruments": ("survey_app.instruments.commands", "instruments_group",
                    "Interview guides as versioned data: validate, load, XLSForm export/import."),
    "fieldwork": ("survey_app.fieldwork.commands", "fieldwork_group",
                  "Import submissions collected offline with ODK Collect or KoboToolbox."),
    "territories": ("survey_app.territories.commands", "territories_group",
                    "Communes, départements, régions and zones d'emploi from INSEE tables."),
    "rounds": ("survey_app.rounds.commands", "rounds_group",
               "Blind double-coding rounds: list them, print their agreement."),
    "export": ("survey_app.exports.commands", "export_command",
               "Export the project: CSV, XLSX, Parquet, SPSS, Stata, REFI-QDA, with dictionary."),
    "import-refi": ("survey_app.exports.commands", "import_refi_command",
                    "Import a REFI-QDA project (.qdpx) or codebook (.qdc)."),
    "coding": ("coding.commands", "coding_group",
               "Theme classifier and agreement: train, predict, evaluate, agreement."),
    "analyse": ("analysis.commands", "analyse_group",
                "Territory profiles: registry counts (D1, D2), 4D profile, report."),
}


def _create_app():
    from survey_app import create_app

    return create_app()


class MilieuGroup(FlaskGroup):
    """Flask's group, with the library command groups loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_GROUPS))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands without importing the lazy groups."""
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_GROUPS:
                rows.append((name, LAZY_GROUPS[name][2]))
            else:
                rows.append((name, self.get_command(ctx, name).get_short_help_str(60)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_GROUPS:
            module, attr, _help = LAZY_GROUPS[name]
            try:
                return getattr(importlib.import_module(module), attr)
            except ModuleNotFoundError as err:
                if err.name != module:
                    raise  # a broken dependency must show, not hide the group
                return None
        return super().get_command(ctx, name)


@click.group(
    cls=MilieuGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def cli() -> None:
    """Milieu: interviews, coding and 4D territory profiles for internationalising milieus."""


# Flask's --app, --env-file and --debug make no sense for a packaged tool
cli.params = [p for p in cli.params if p.name not in {"app", "env_file", "debug"}]


def _register() -> None:
    from survey_app.auth.commands import users
    from survey_app.core.commands import db, serve, worker
    from survey_app.demo.commands import demo

    cli.add_command(db)
    cli.add_command(serve)
    cli.add_command(users)
    cli.add_command(demo)
    cli.add_command(worker)



_register()


def main() -> None:
    """Run the command line; database trouble ends in one line, not a traceback."""
    from sqlalchemy.exc import OperationalError

    try:
        cli.main(prog_name="milieu", standalone_mode=True)
    except OperationalError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        click.echo(f"Error: cannot use the database: {reason}", err=True)
        sys.exit(1)
