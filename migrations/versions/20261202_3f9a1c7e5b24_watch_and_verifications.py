"""The watch on households slipping back and verifications on record (issue 13, parts 5 and 7):
follow-ups (`follow_up`, one open per household) and verifications (`verification`).

Revision ID: 3f9a1c7e5b24
Revises: d7a4b9e2c615
Create Date: 2026-12-02 06:53:25.070639

"""

import sqlalchemy as sa
from alembic import op

revision = "3f9a1c7e5b24"
down_revision = "d7a4b9e2c615"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "last_worker_ended",
                "post_term_ended",
                "long_without_work",
                name="watch_reason",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("flagged_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("overdue_on", sa.Date(), nullable=True),
        sa.Column("visited_on", sa.Date(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "found_work",
                "referred",
                "support_needed",
                "no_change",
                "not_met",
                name="visit_outcome",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("visited_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(visited_on IS NULL) = (outcome IS NULL)", name=op.f("ck_follow_up_visit_has_outcome")),
        sa.CheckConstraint("closed_on IS NULL OR visited_on IS NOT NULL", name=op.f("ck_follow_up_closed_after_visit")),
        sa.CheckConstraint("due_on >= flagged_on", name=op.f("ck_follow_up_due_order")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], name=op.f("fk_follow_up_household_id_household")),
        sa.ForeignKeyConstraint(["visited_by_id"], ["user.id"], name=op.f("fk_follow_up_visited_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up")),
    )
    op.create_index("ix_follow_up_closed_due", "follow_up", ["closed_on", "due_on"], unique=False)
    op.create_index(op.f("ix_follow_up_household_id"), "follow_up", ["household_id"], unique=False)
    op.create_index(
        "uq_follow_up_household_open",
        "follow_up",
        ["household_id"],
        unique=True,
        sqlite_where=sa.text("closed_on IS NULL"),
        postgresql_where=sa.text("closed_on IS NULL"),
    )

    op.create_table(
        "verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "subject",
            sa.Enum(
                "poverty_status",
                "ability",
                "post_eligibility",
                name="verification_subject",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("laborer_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(length=24), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "visit",
                "document",
                "registry",
                name="verification_method",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("expiry_told_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "subject = 'poverty_status' OR laborer_id IS NOT NULL", name=op.f("ck_verification_laborer_subject")
        ),
        sa.CheckConstraint("valid_until > verified_on", name=op.f("ck_verification_valid_after_verified")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_verification_household_id_household")
        ),
        sa.ForeignKeyConstraint(["laborer_id"], ["laborer.id"], name=op.f("fk_verification_laborer_id_laborer")),
        sa.ForeignKeyConstraint(["verified_by_id"], ["user.id"], name=op.f("fk_verification_verified_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification")),
    )
    op.create_index("ix_verification_household_subject", "verification", ["household_id", "subject"], unique=False)
    op.create_index(op.f("ix_verification_laborer_id"), "verification", ["laborer_id"], unique=False)
    op.create_index("ix_verification_valid_until", "verification", ["valid_until"], unique=False)


def downgrade():
    op.drop_index("ix_verification_valid_until", table_name="verification")
    op.drop_index(op.f("ix_verification_laborer_id"), table_name="verification")
    op.drop_index("ix_verification_household_subject", table_name="verification")

    op.drop_table("verification")
    op.drop_index("uq_follow_up_household_open", table_name="follow_up")
    op.drop_index(op.f("ix_follow_up_household_id"), table_name="follow_up")
    op.drop_index("ix_follow_up_closed_due", table_name="follow_up")

    op.drop_table("follow_up")
