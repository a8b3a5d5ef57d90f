"""After the match, the common parts (issue 13, parts 1, 6 and 8): the inbox (`message`), the outbox of
texts to laborers (`text_message`), the record of daily ticks (`tick_run`), and an offer's clock
(`placement.offered_at`, `placement.answer_by`). Offers already waiting get seven days from when they
were made (the backfill reads days in Asia/Shanghai, the default zone).

Revision ID: c4e8a2f61b90
Revises: 8b3e6f1c2d47
Create Date: 2026-12-02 07:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "c4e8a2f61b90"
down_revision = "8b3e6f1c2d47"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=True),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_message_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("user_id", "dedupe_key", name=op.f("uq_message_user_id_dedupe_key")),
    )
    op.create_index("ix_message_user_unread", "message", ["user_id", "read_at"], unique=False)
    op.create_table(
        "text_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("laborer_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backend", sa.String(length=40), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["laborer_id"], ["laborer.id"], name=op.f("fk_text_message_laborer_id_laborer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_text_message_dedupe_key")),
    )
    op.create_index("ix_text_message_pending", "text_message", ["sent_at"], unique=False)
    op.create_index(op.f("ix_text_message_laborer_id"), "text_message", ["laborer_id"], unique=False)
    op.create_table(
        "tick_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tick_run")),
    )
    op.create_index(op.f("ix_tick_run_day"), "tick_run", ["day"], unique=False)
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answer_by", sa.Date(), nullable=True))
        batch_op.create_index("ix_placement_status_answer_by", ["status", "answer_by"], unique=False)
    placement = sa.table(
        "placement",
        sa.column("status", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("offered_at", sa.DateTime(timezone=True)),
    )
    op.execute(placement.update().where(placement.c.status == "offered").values(offered_at=placement.c.created_at))
    # The answer day of waiting offers: seven days after they were made (dialect date arithmetic).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE placement SET answer_by = (created_at AT TIME ZONE 'Asia/Shanghai')::date + 7 "
            "WHERE status = 'offered'"
        )
    else:
        op.execute("UPDATE placement SET answer_by = date(created_at, '+8 hours', '+7 days') WHERE status = 'offered'")


def downgrade():
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.drop_index("ix_placement_status_answer_by")
        batch_op.drop_column("answer_by")
        batch_op.drop_column("offered_at")
    op.drop_index(op.f("ix_tick_run_day"), table_name="tick_run")
    op.drop_table("tick_run")
    op.drop_index(op.f("ix_text_message_laborer_id"), table_name="text_message")
    op.drop_index("ix_text_message_pending", table_name="text_message")
    op.drop_table("text_message")
    op.drop_index("ix_message_user_unread", table_name="message")
    op.drop_table("message")
