"""A failed plan's cause as a code and its values (`plan.failure`), so that pages word it in their language
instead of reading it back out of the exception's English text (`plan.error` stays, for developers).

Plans that failed before this revision: an interrupted one gets its code; any other, the code of an
unexpected error (its words are general; its text stays in `error`).

Revision ID: b5e2c8f4a913
Revises: c4d9e2a7f1b6
Create Date: 2026-12-03 15:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "b5e2c8f4a913"
down_revision = "c4d9e2a7f1b6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan") as batch:
        batch.add_column(sa.Column("failure", sa.JSON(), nullable=True))
    plan = sa.table("plan", sa.column("status", sa.String), sa.column("error", sa.Text), sa.column("failure", sa.JSON))
    failed = plan.c.status == "failed"
    op.execute(plan.update().where(failed, plan.c.error == "interrupted").values(failure={"code": "interrupted"}))
    op.execute(plan.update().where(failed, plan.c.failure.is_(None)).values(failure={"code": "error"}))


def downgrade():
    with op.batch_alter_table("plan") as batch:
        batch.drop_column("failure")
