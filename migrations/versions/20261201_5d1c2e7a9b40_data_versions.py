"""Data versions: counters bumped by the transactions that change matching inputs, so that cached
rankers learn of a change by reading an indexed row instead of scanning the tables
(web.services.versions). The table starts empty: a scope never bumped reads as version 0.

Revision ID: 5d1c2e7a9b40
Revises: 5f1c2a9d7e3b
Create Date: 2026-11-30 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5d1c2e7a9b40"
down_revision = "5f1c2a9d7e3b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_version",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_data_version")),
    )
    op.create_index(op.f("ix_data_version_version"), "data_version", ["version"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_data_version_version"), table_name="data_version")
    op.drop_table("data_version")
