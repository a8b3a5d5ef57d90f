"""Households' requests for a welfare post with a dated receipt (issue 13, part 2): `post_request`, one open
request per household (a partial unique index), receipt numbers unique per county and year.

Revision ID: d7a3f9b2c5e1
Revises: 3f9a6c2e8d15
Create Date: 2026-12-02 07:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "d7a3f9b2c5e1"
down_revision = "3f9a6c2e8d15"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "post_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("laborer_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("receipt_year", sa.Integer(), nullable=False),
        sa.Column("receipt_seq", sa.Integer(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "assigned",
                "refused",
                name="post_request_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue_on", sa.Date(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("placement_id", sa.Integer(), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(status = 'pending') = (answered_on IS NULL)", name=op.f("ck_post_request_answered_unless_pending")
        ),
        sa.CheckConstraint(
            "status != 'refused' OR refusal_reason IS NOT NULL", name=op.f("ck_post_request_refusal_has_reason")
        ),
        sa.CheckConstraint("due_on >= requested_on", name=op.f("ck_post_request_due_after_request")),
        sa.CheckConstraint("receipt_seq > 0", name=op.f("ck_post_request_receipt_seq_positive")),
        sa.ForeignKeyConstraint(["answered_by_id"], ["user.id"], name=op.f("fk_post_request_answered_by_id_user")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_post_request_household_id_household")
        ),
        sa.ForeignKeyConstraint(["laborer_id"], ["laborer.id"], name=op.f("fk_post_request_laborer_id_laborer")),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placement.id"], name=op.f("fk_post_request_placement_id_placement")
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user.id"], name=op.f("fk_post_request_recorded_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_request")),
        sa.UniqueConstraint(
            "county_code",
            "receipt_year",
            "receipt_seq",
            name=op.f("uq_post_request_county_code_receipt_year_receipt_seq"),
        ),
    )
    op.create_index(op.f("ix_post_request_household_id"), "post_request", ["household_id"], unique=False)
    op.create_index(op.f("ix_post_request_laborer_id"), "post_request", ["laborer_id"], unique=False)
    op.create_index("ix_post_request_status_due_on", "post_request", ["status", "due_on"], unique=False)
    op.create_index(
        "uq_post_request_household_pending",
        "post_request",
        ["household_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade():
    op.drop_index("uq_post_request_household_pending", table_name="post_request")
    op.drop_index("ix_post_request_status_due_on", table_name="post_request")
    op.drop_index(op.f("ix_post_request_laborer_id"), table_name="post_request")
    op.drop_index(op.f("ix_post_request_household_id"), table_name="post_request")
    op.drop_table("post_request")
