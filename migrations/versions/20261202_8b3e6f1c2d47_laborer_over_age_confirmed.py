"""Working age: `laborer.over_age_confirmed` records the cadre's confirmation that a person older than
MAX_LABOR_AGE still wants and is able to work (issue 11, part 1). Existing rows start unconfirmed;
`jiuye check data` lists those it concerns.

Revision ID: 8b3e6f1c2d47
Revises: a7e3c1d9b5f2
Create Date: 2026-12-02 00:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "8b3e6f1c2d47"
down_revision = "a7e3c1d9b5f2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("laborer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("over_age_confirmed", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("laborer", schema=None) as batch_op:
        batch_op.drop_column("over_age_confirmed")
