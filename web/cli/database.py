"""`jiuye db grant-app-role ROLE`: the PostgreSQL role the app runs as (web.services.app_role).

It joins Flask-Migrate's `db` group, beside `jiuye db upgrade`, which the schema's owner runs.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate.cli import db as db_group

from ..errors import DomainError
from ..extensions import db


@db_group.command("grant-app-role")
@click.argument("role")
@click.option("--password", default=None, help="Set the role's login password.")
@with_appcontext
def grant_app_role(role: str, password: str | None) -> None:
    """Create or update ROLE: uses the tables, only appends to the audit trail, owns nothing."""
    from ..services.app_role import grant_app_role as grant

    try:
        created = grant(db.session(), role, password)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.english()) from None
    db.session.commit()
    url = db.engine.url
    login = f"{role}:PASSWORD" if password else role
    where = f"{url.host or ''}{f':{url.port}' if url.port else ''}/{url.database}"
    click.echo(f"{'Created' if created else 'Updated'} role {role}.")
    click.echo(f"Run the app with DATABASE_URL={url.drivername}://{login}@{where}")
