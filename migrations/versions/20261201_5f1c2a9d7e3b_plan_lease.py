"""Plan leases: a running plan's runner renews `lease_expires_at` and names itself in `worker`
(host:pid), so that a plan whose runner was killed is recovered instead of staying running forever.

Revision ID: 5f1c2a9d7e3b
Revises: 7d2b4f8e1a63
Create Date: 2026-11-30 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5f1c2a9d7e3b"
down_revision = "7d2b4f8e1a63"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("worker")
        batch_op.drop_column("lease_expires_at")
