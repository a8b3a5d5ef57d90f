"""The PostgreSQL role the application runs as: it uses the tables but cannot rewrite the audit trail.

The append-only triggers on audit_event (web.models.account) hold against any role, but the table's
owner or a superuser could drop them. So the schema stays owned by the role that runs migrations,
and the app connects as a plain login role that may read and write the records, only append to
audit_event, and neither own a table nor bypass triggers (`session_replication_role` needs a
superuser). Run `jiuye db grant-app-role ROLE` as the owner after every `jiuye db upgrade`: new
tables get the same grants through the default privileges, but running it again costs nothing.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..errors import DomainError, ValidationError
from .bulk import driver_connection

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class AppRoleError(DomainError):
    """The role cannot be set up here (not PostgreSQL, or a role that must not be demoted)."""

    status = 409


def _statements(role: str, password: str | None, database: str, schema: str, *, has_alembic: bool) -> list[Any]:
    """The role's attributes, then its GRANTs: connect, use the schema, read-write the records,
    append-only audit (psycopg's composition quotes every name and the password)."""
    from psycopg import sql  # PostgreSQL's driver is an optional dependency

    r, s = sql.Identifier(role), sql.Identifier(schema)
    grants = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), r),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(s, r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, r),
        # The audit trail: read and append, nothing else.
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {}.audit_event FROM {}").format(s, r),
        # Tables a later migration creates (as this owner) are usable without running this again.
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}").format(
            s, r
        ),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(s, r),
    ]
    if has_alembic:  # migrations' bookkeeping (absent from a schema built by create_all): read only
        grants.append(sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {}.alembic_version FROM {}").format(s, r))
    attributes: sql.Composable = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
    if password:
        attributes = sql.SQL("{} PASSWORD {}").format(attributes, sql.Literal(password))
    return [attributes, *grants]


def grant_app_role(session: Session, role: str, password: str | None = None) -> bool:
    """Create (or bring in line) the non-superuser role the app runs as; True if it was created."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        raise AppRoleError("an application role needs PostgreSQL; SQLite has no roles")
    if not _ROLE_NAME.match(role or ""):
        raise ValidationError.on("role", "use lower-case letters, digits and _ (at most 63)")
    me, database, schema = connection.execute(text("SELECT current_user, current_database(), current_schema()")).one()
    existing = connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
    owner = connection.scalar(text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_event'"))
    if owner is None:
        raise AppRoleError("the schema is missing: run `jiuye db upgrade` first")
    if role in (me, owner) or (existing is not None and existing.rolsuper):
        # Demoting the owner or a superuser would lock the operators out; the app needs its own role.
        raise AppRoleError(_l("%(role)s owns the schema or is a superuser; choose a new role name", role=role))
    from psycopg import sql

    has_alembic = connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    attributes, *grants = _statements(role, password, database, schema, has_alembic=has_alembic)
    verb = "CREATE ROLE" if existing is None else "ALTER ROLE"
    raw = driver_connection(connection)
    raw.execute(sql.SQL(verb + " {} {}").format(sql.Identifier(role), attributes))
    for statement in grants:
        raw.execute(statement)
    return existing is None
