"""Imported codes: an IMPORTED family, long keys, parent and colour; transcript memos.

Codes from other QDA tools keep their own names (often longer than 32 characters), their
hierarchy and colour; a source's description and notes are kept on its transcript.

Revision ID: c17a0e5f3b21
Revises: 5f2c1e9b7d41
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "c17a0e5f3b21"
down_revision = "5f2c1e9b7d41"
branch_labels = None
depends_on = None

OLD_FAMILIES = ("GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER")
NEW_FAMILIES = (*OLD_FAMILIES, "IMPORTED")


def _family(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="code_family", native_enum=False, create_constraint=True)


def _sqlite_foreign_keys(on: bool) -> None:
    # SQLite rebuilds the table to alter it: with foreign keys enforced, dropping the old
    # `codes` table would fail on the codings that point at it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("codes") as batch:
        batch.alter_column(
            "family",
            existing_type=_family(OLD_FAMILIES),
            type_=_family(NEW_FAMILIES),
            existing_nullable=False,
        )
        batch.alter_column("key", existing_type=sa.String(length=32), type_=sa.String(length=200))
        batch.alter_column(
            "replaced_by_key",
            existing_type=sa.String(length=32),
            type_=sa.String(length=200),
            existing_nullable=True,
        )
        batch.add_column(sa.Column("parent_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("color", sa.String(length=7), nullable=True))
    _sqlite_foreign_keys(True)
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("memo", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("memo")
    # imported codes fall back to OTHER (a key longer than 32 characters stops the downgrade)
    op.execute("UPDATE codes SET family = 'OTHER' WHERE family = 'IMPORTED'")
    _sqlite_foreign_keys(False)
    with op.batch_alter_table("codes") as batch:
        batch.drop_column("color")
        batch.drop_column("parent_key")
        batch.alter_column(
            "replaced_by_key",
            existing_type=sa.String(length=200),
            type_=sa.String(length=32),
            existing_nullable=True,
        )
        batch.alter_column("key", existing_type=sa.String(length=200), type_=sa.String(length=32))
        batch.alter_column(
            "family",
            existing_type=_family(NEW_FAMILIES),
            type_=_family(OLD_FAMILIES),
            existing_nullable=False,
        )
    _sqlite_foreign_keys(True)
