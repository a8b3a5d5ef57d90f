"""A user's phone (issue 11, part 10): the village cadre an employer calls about an agreed placement.

Revision ID: a7e3c1d9b5f2
Revises: 5d1c2e7a9b40
Create Date: 2026-12-02 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7e3c1d9b5f2"
down_revision = "5d1c2e7a9b40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("phone")
