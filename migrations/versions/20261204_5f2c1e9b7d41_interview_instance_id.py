"""interviews.instance_id: the ODK/Kobo submission an interview was imported from

Revision ID: 5f2c1e9b7d41
Revises: a9b771893bcd
Create Date: 2026-12-04 13:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5f2c1e9b7d41"
down_revision = "a9b771893bcd"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instance_id", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_interviews_instance_id"), ["instance_id"])


def downgrade():
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_interviews_instance_id"), type_="unique")
        batch_op.drop_column("instance_id")
