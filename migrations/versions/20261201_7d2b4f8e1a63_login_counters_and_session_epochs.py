"""Login counters and session epochs (issue 10, part 6).

login_counter holds the login guard's fixed-window counters when there is no Redis
(web.services.login_guard); user.auth_epoch, raised by logout and password change, voids the
sessions issued before it.

Revision ID: 7d2b4f8e1a63
Revises: 5c1e7a9d3b20
Create Date: 2026-12-01 20:20:43.180351

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7d2b4f8e1a63"
down_revision = "5c1e7a9d3b20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_counter",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("window_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_counter")),
    )
    with op.batch_alter_table("login_counter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_counter_window_ends_at"), ["window_ends_at"], unique=False)
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auth_epoch", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("auth_epoch")
    with op.batch_alter_table("login_counter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_counter_window_ends_at"))
    op.drop_table("login_counter")
