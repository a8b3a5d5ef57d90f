"""Quotas and reserves in plans (issue 14, part 2): `plan.quotas` records the caps and reserves the office
chose (JSON list, empty for plans without), and `laborer.has_disability` the group reserves may name.
Existing plans have no quotas; existing laborers start without a recorded disability.

Revision ID: c4e9a2f17b38
Revises: 3f9a1c7e5b24
Create Date: 2026-12-02 07:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4e9a2f17b38"
down_revision = "3f9a1c7e5b24"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quotas", sa.JSON(), nullable=True))
    with op.batch_alter_table("laborer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("has_disability", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("laborer", schema=None) as batch_op:
        batch_op.drop_column("has_disability")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("quotas")
