"""full-text search over speaker turns: SQLite FTS5, PostgreSQL tsvector ('french')

Revision ID: 5e7c2b9d41f0
Revises: 5c1e9d2a7b40
Create Date: 2026-12-04 13:20:00

One row per speaker turn (segments of kind 'turn'), filled by a trigger on segments, so each
new transcript version is indexed in the same transaction that stores it. The tables are not
in the models: see survey_app/transcripts/search.py, which also tells autogenerate to leave
them alone.
"""

import sqlalchemy as sa
from alembic import op

revision = "5e7c2b9d41f0"
down_revision = "5c1e9d2a7b40"
branch_labels = None
depends_on = None

TURN_TEXT = 'substr(v.text, {s}.start + 1, {s}."end" - {s}.start)'

SQLITE_UP = [
    # unicode61 without diacritics: "region" finds "région"; queries add a prefix (plurals)
    "CREATE VIRTUAL TABLE transcript_fts USING fts5("
    "body, transcript_version_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER transcript_fts_insert AFTER INSERT ON segments WHEN new.kind = 'turn' "
    "BEGIN INSERT INTO transcript_fts (rowid, body, transcript_version_id) "
    f"SELECT new.id, {TURN_TEXT.format(s='new')}, new.transcript_version_id "
    "FROM transcript_versions v WHERE v.id = new.transcript_version_id; END",
    "CREATE TRIGGER transcript_fts_delete AFTER DELETE ON segments WHEN old.kind = 'turn' "
    "BEGIN DELETE FROM transcript_fts WHERE rowid = old.id; END",
    "INSERT INTO transcript_fts (rowid, body, transcript_version_id) "
    f"SELECT s.id, {TURN_TEXT.format(s='s')}, s.transcript_version_id "
    "FROM segments s JOIN transcript_versions v ON v.id = s.transcript_version_id "
    "WHERE s.kind = 'turn'",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS transcript_fts_insert",
    "DROP TRIGGER IF EXISTS transcript_fts_delete",
    "DROP TABLE IF EXISTS transcript_fts",
]

POSTGRES_UP = [
    "CREATE TEXT SEARCH CONFIGURATION milieu_french (COPY = french)",
    "CREATE TABLE transcript_fts ("
    "segment_id integer PRIMARY KEY REFERENCES segments (id) ON DELETE CASCADE, "
    "transcript_version_id integer NOT NULL, body text NOT NULL, "
    "tsv tsvector GENERATED ALWAYS AS (to_tsvector('milieu_french'::regconfig, body)) STORED)",
    "CREATE INDEX ix_transcript_fts_tsv ON transcript_fts USING gin (tsv)",
    "CREATE INDEX ix_transcript_fts_version ON transcript_fts (transcript_version_id)",
    "CREATE FUNCTION transcript_fts_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.kind = 'turn' THEN "
    "INSERT INTO transcript_fts (segment_id, transcript_version_id, body) "
    f"SELECT NEW.id, NEW.transcript_version_id, {TURN_TEXT.format(s='NEW')} "
    "FROM transcript_versions v WHERE v.id = NEW.transcript_version_id; "
    "END IF; RETURN NULL; END $$",
    "CREATE TRIGGER transcript_fts_insert AFTER INSERT ON segments "
    "FOR EACH ROW EXECUTE FUNCTION transcript_fts_add()",
    "INSERT INTO transcript_fts (segment_id, transcript_version_id, body) "
    f"SELECT s.id, s.transcript_version_id, {TURN_TEXT.format(s='s')} "
    "FROM segments s JOIN transcript_versions v ON v.id = s.transcript_version_id "
    "WHERE s.kind = 'turn'",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS transcript_fts_insert ON segments",
    "DROP FUNCTION IF EXISTS transcript_fts_add()",
    "DROP TABLE IF EXISTS transcript_fts",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS milieu_french",
]


def _unaccent_available(bind) -> bool:
    """Create the unaccent extension when the server has it and we may; else go without."""
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")
    ).scalar()
    if not available:
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        return
    statements = list(POSTGRES_UP)
    if _unaccent_available(bind):
        # the 'french' configuration plus accent folding: "region" finds "région"
        statements.insert(
            1,
            "ALTER TEXT SEARCH CONFIGURATION milieu_french "
            "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem",
        )
    for statement in statements:
        op.execute(statement)


def downgrade():
    bind = op.get_bind()
    for statement in SQLITE_DOWN if bind.dialect.name == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
