"""Welfare posts month by month (issue 13, part 3): each holder's attendance and stipend due per month
(`welfare_attendance`), and the recorded renewals and ends of posts' terms (`welfare_term_step`).

Revision ID: 3f9a6c2e8d15
Revises: a6a53dcbff91
Create Date: 2026-12-02 06:55:28.450957

"""

import sqlalchemy as sa
from alembic import op

revision = "3f9a6c2e8d15"
down_revision = "a6a53dcbff91"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "welfare_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("welfare_post_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("days_present", sa.Integer(), nullable=False),
        sa.Column("days_expected", sa.Integer(), nullable=False),
        sa.Column("month_work_days", sa.Integer(), nullable=False),
        sa.Column("stipend_cents", sa.Integer(), nullable=False),
        sa.Column("due_cents", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "days_expected >= 0 AND days_expected <= month_work_days",
            name=op.f("ck_welfare_attendance_days_expected_range"),
        ),
        sa.CheckConstraint(
            "days_present >= 0 AND days_present <= days_expected", name=op.f("ck_welfare_attendance_days_present_range")
        ),
        sa.CheckConstraint(
            "due_cents >= 0 AND due_cents <= stipend_cents", name=op.f("ck_welfare_attendance_due_range")
        ),
        sa.CheckConstraint(
            "month_work_days > 0 AND month_work_days <= 31", name=op.f("ck_welfare_attendance_month_work_days_range")
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placement.id"], name=op.f("fk_welfare_attendance_placement_id_placement")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user.id"], name=op.f("fk_welfare_attendance_recorded_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["welfare_post_id"], ["welfare_post.id"], name=op.f("fk_welfare_attendance_welfare_post_id_welfare_post")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_welfare_attendance")),
        sa.UniqueConstraint("placement_id", "month", name=op.f("uq_welfare_attendance_placement_id_month")),
    )
    with op.batch_alter_table("welfare_attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_welfare_attendance_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_welfare_attendance_placement_id"), ["placement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_welfare_attendance_welfare_post_id"), ["welfare_post_id"], unique=False)

    op.create_table(
        "welfare_term_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("welfare_post_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum("renewed", "ended", name="term_action", native_enum=False, create_constraint=True, length=24),
            nullable=False,
        ),
        sa.Column("old_end_on", sa.Date(), nullable=True),
        sa.Column("new_end_on", sa.Date(), nullable=True),
        sa.Column("placement_id", sa.Integer(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["by_user_id"], ["user.id"], name=op.f("fk_welfare_term_step_by_user_id_user")),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placement.id"], name=op.f("fk_welfare_term_step_placement_id_placement")
        ),
        sa.ForeignKeyConstraint(
            ["welfare_post_id"], ["welfare_post.id"], name=op.f("fk_welfare_term_step_welfare_post_id_welfare_post")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_welfare_term_step")),
    )
    with op.batch_alter_table("welfare_term_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_welfare_term_step_welfare_post_id"), ["welfare_post_id"], unique=False)


def downgrade():
    with op.batch_alter_table("welfare_term_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_welfare_term_step_welfare_post_id"))

    op.drop_table("welfare_term_step")
    with op.batch_alter_table("welfare_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_welfare_attendance_welfare_post_id"))
        batch_op.drop_index(batch_op.f("ix_welfare_attendance_placement_id"))
        batch_op.drop_index(batch_op.f("ix_welfare_attendance_month"))

    op.drop_table("welfare_attendance")
