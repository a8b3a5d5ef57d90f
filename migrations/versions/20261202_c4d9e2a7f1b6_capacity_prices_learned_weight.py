"""Capacity prices of optimal plans and the office's learned-weight decisions (issue 14, parts 3 and 6).

capacity_price keeps, per plan and target, the dual price of the target's capacity and the
capacity it was priced at (interactive ranking deducts it between plans); learned_weight records
each decision on the learned model's weight in the score, with the figures it was taken on.

Revision ID: c4d9e2a7f1b6
Revises: c4e9a2f17b38
Create Date: 2026-12-02 07:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4d9e2a7f1b6"
down_revision = "c4e9a2f17b38"
branch_labels = None
depends_on = None

_ONE_TARGET = (
    "(CASE WHEN opening_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN batch_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN welfare_post_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade():
    op.create_table(
        "capacity_price",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("opening_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("welfare_post_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(_ONE_TARGET, name=op.f("ck_capacity_price_one_target")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_capacity_price_price_nonnegative")),
        sa.CheckConstraint("slots >= 0", name=op.f("ck_capacity_price_slots_nonnegative")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["transport_batch.id"], name=op.f("fk_capacity_price_batch_id_transport_batch")
        ),
        sa.ForeignKeyConstraint(["opening_id"], ["opening.id"], name=op.f("fk_capacity_price_opening_id_opening")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_capacity_price_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["welfare_post_id"], ["welfare_post.id"], name=op.f("fk_capacity_price_welfare_post_id_welfare_post")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_price")),
    )
    with op.batch_alter_table("capacity_price", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capacity_price_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_capacity_price_opening_id"), ["opening_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_capacity_price_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_capacity_price_welfare_post_id"), ["welfare_post_id"], unique=False)
    op.create_table(
        "learned_weight",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("model_auc", sa.Float(), nullable=False),
        sa.Column("hand_auc", sa.Float(), nullable=False),
        sa.Column("n_test", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("weight >= 0 AND weight <= 1", name=op.f("ck_learned_weight_weight_range")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_learned_weight_decided_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_weight")),
    )


def downgrade():
    op.drop_table("learned_weight")
    with op.batch_alter_table("capacity_price", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacity_price_welfare_post_id"))
        batch_op.drop_index(batch_op.f("ix_capacity_price_plan_id"))
        batch_op.drop_index(batch_op.f("ix_capacity_price_opening_id"))
        batch_op.drop_index(batch_op.f("ix_capacity_price_batch_id"))
    op.drop_table("capacity_price")
