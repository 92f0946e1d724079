"""Alembic environment, run through Flask-Migrate inside the application context."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

import survey_app.models  # noqa: F401  (autogenerate sees every table)
from survey_app.transcripts.search import include_name

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
target_metadata = migrate_ext.db.metadata


def render_item(type_, obj, autogen_context):
    """Render project column types as plain SQLAlchemy types, so revisions stand alone."""
    from survey_app.models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations_offline() -> None:
    url = migrate_ext.db.engine.url.render_as_string(hide_password=False)
    context.configure(
        url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(ctx, revision, directives):
        # an autogenerate that finds nothing must not write an empty revision
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    args = dict(migrate_ext.configure_args)
    args.setdefault("process_revision_directives", skip_empty)
    args.setdefault("compare_type", True)
    args.setdefault("render_item", render_item)
    args.setdefault("include_name", include_name)
    with migrate_ext.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
