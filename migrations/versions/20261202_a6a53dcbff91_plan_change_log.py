"""Reviewing a plan before confirming (issue 14, part 7): `plan_change` records each assignment an office
removed or moved to another target, who did it and when: the plan's change log.

Revision ID: a6a53dcbff91
Revises: c4e8a2f61b90
Create Date: 2026-12-02 07:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a6a53dcbff91"
down_revision = "c4e8a2f61b90"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plan_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "removed",
                "swapped",
                name="plan_change_action",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("laborer_id", sa.Integer(), nullable=False),
        sa.Column("from_kind", sa.String(length=16), nullable=False),
        sa.Column("from_target_id", sa.Integer(), nullable=False),
        sa.Column("to_kind", sa.String(length=16), nullable=True),
        sa.Column("to_target_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(action = 'removed' AND to_kind IS NULL AND to_target_id IS NULL)"
            " OR (action = 'swapped' AND to_kind IS NOT NULL AND to_target_id IS NOT NULL)",
            name=op.f("ck_plan_change_target_by_action"),
        ),
        sa.ForeignKeyConstraint(["by_user_id"], ["user.id"], name=op.f("fk_plan_change_by_user_id_user")),
        sa.ForeignKeyConstraint(["laborer_id"], ["laborer.id"], name=op.f("fk_plan_change_laborer_id_laborer")),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_plan_change_plan_id_plan"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_change")),
    )
    with op.batch_alter_table("plan_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_change_plan_id"), ["plan_id"], unique=False)


def downgrade():
    with op.batch_alter_table("plan_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_change_plan_id"))
    op.drop_table("plan_change")
