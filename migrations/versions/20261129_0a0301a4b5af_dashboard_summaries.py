"""Dashboard summaries: per-day changes of the figures per county, city and province
(region_day_stat) and of each enterprise's and workshop's workers (employer_day_stat).

The tables start empty: on a database that already holds records run `jiuye stats refresh` once
(web.services.summaries); the seeds build them and every committed change keeps them exact.

Revision ID: 0a0301a4b5af
Revises: e79684661b18
Create Date: 2026-11-29 10:31:53.389392

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0a0301a4b5af"
down_revision = "e79684661b18"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "region_day_stat",
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("laborers_at_work", sa.Integer(), nullable=False),
        sa.Column("at_work_opening", sa.Integer(), nullable=False),
        sa.Column("at_work_batch", sa.Integer(), nullable=False),
        sa.Column("at_work_welfare_post", sa.Integer(), nullable=False),
        sa.Column("poor_at_work", sa.Integer(), nullable=False),
        sa.Column("poor_at_work_opening", sa.Integer(), nullable=False),
        sa.Column("poor_at_work_batch", sa.Integer(), nullable=False),
        sa.Column("poor_at_work_welfare_post", sa.Integer(), nullable=False),
        sa.Column("poor_households", sa.Integer(), nullable=False),
        sa.Column("households_without_work", sa.Integer(), nullable=False),
        sa.Column("welfare_posts", sa.Integer(), nullable=False),
        sa.Column("welfare_posts_filled", sa.Integer(), nullable=False),
        sa.CheckConstraint("grain IN (0, 2, 4, 6)", name=op.f("ck_region_day_stat_grain_allowed")),
        sa.PrimaryKeyConstraint("grain", "region_code", "day", name=op.f("pk_region_day_stat")),
    )
    op.create_table(
        "employer_day_stat",
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("poor_workers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["employer.id"],
            name=op.f("fk_employer_day_stat_employer_id_employer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("employer_id", "day", name=op.f("pk_employer_day_stat")),
    )


def downgrade():
    op.drop_table("employer_day_stat")
    op.drop_table("region_day_stat")
