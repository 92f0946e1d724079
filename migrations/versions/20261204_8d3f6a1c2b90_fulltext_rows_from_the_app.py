"""full-text rows written by the application, not by a per-row trigger on segments

Revision ID: 8d3f6a1c2b90
Revises: 5e7c2b9d41f0
Create Date: 2026-12-04 15:00:00

The insert trigger of 5e7c2b9d41f0 cut each turn's text out of its transcript version with
substr(). Both databases then read the whole version text once per turn (PostgreSQL detoasts
it, SQLite walks the UTF-8 up to the offset), so storing a transcript took time quadratic in
its length: a 1.9 MB paste of 25,000 turns took 37 s on SQLite and minutes on PostgreSQL.
The application already holds the text and the offsets; `survey_app.transcripts.search.
index_turns` now writes the rows in the same transaction that stores the segments. Deleting
stays the database's job (SQLite's delete trigger, PostgreSQL's ON DELETE CASCADE).
"""

from alembic import op

revision = "8d3f6a1c2b90"
down_revision = "5e7c2b9d41f0"
branch_labels = None
depends_on = None

TURN_TEXT = 'substr(v.text, {s}.start + 1, {s}."end" - {s}.start)'


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS transcript_fts_insert")
        return
    op.execute("DROP TRIGGER IF EXISTS transcript_fts_insert ON segments")
    op.execute("DROP FUNCTION IF EXISTS transcript_fts_add()")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER transcript_fts_insert AFTER INSERT ON segments WHEN new.kind = 'turn' "
            "BEGIN INSERT INTO transcript_fts (rowid, body, transcript_version_id) "
            f"SELECT new.id, {TURN_TEXT.format(s='new')}, new.transcript_version_id "
            "FROM transcript_versions v WHERE v.id = new.transcript_version_id; END"
        )
        return
    op.execute(
        "CREATE FUNCTION transcript_fts_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.kind = 'turn' THEN "
        "INSERT INTO transcript_fts (segment_id, transcript_version_id, body) "
        f"SELECT NEW.id, NEW.transcript_version_id, {TURN_TEXT.format(s='NEW')} "
        "FROM transcript_versions v WHERE v.id = NEW.transcript_version_id; "
        "END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER transcript_fts_insert AFTER INSERT ON segments "
        "FOR EACH ROW EXECUTE FUNCTION transcript_fts_add()"
    )
