"""Append-only audit trail: triggers refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) of
audit_event, whoever asks (issue 10, part 4).

The statements are those of web.models.account.APPEND_ONLY_DDL as of this revision, written out
here so that the revision keeps meaning what it meant; tests/migrations checks that a migrated
database refuses the changes. On SQLite a later batch migration that rebuilds audit_event drops
its triggers with the old table and must create them again.

Revision ID: 5c1e7a9d3b20
Revises: 0a0301a4b5af
Create Date: 2026-12-01 09:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5c1e7a9d3b20"
down_revision = "0a0301a4b5af"
branch_labels = None
depends_on = None

UPGRADE = {
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION USING MESSAGE = 'audit_event is append-only: ' || TG_OP || ' refused', "
        "ERRCODE = 'insufficient_privilege'; END $$",
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
    ),
    "sqlite": (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END",
    ),
}
DOWNGRADE = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
        "DROP FUNCTION IF EXISTS audit_event_append_only()",
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_event_no_update",
        "DROP TRIGGER IF EXISTS audit_event_no_delete",
    ),
}


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade():
    _run(UPGRADE)


def downgrade():
    _run(DOWNGRADE)
