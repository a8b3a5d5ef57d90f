"""`jiuye user create`: add a user from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..errors import DomainError
from ..models import Role
from ..services.accounts import create_user
from ..unit_of_work import unit_of_work

user = AppGroup("user", help="Manage users.")


@user.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default=None, help="Name shown on pages.")
@click.option("--employer-id", type=int, default=None, help="For employer users.")
@click.option("--region", "region_code", default=None, help="For office users: region code.")
@click.option("--village", "village_codes", multiple=True, help="For cadres: village code (repeat).")
@click.option("--phone", default=None, help="For cadres: given to employers of agreed placements.")
def create(username, role, password, display_name, employer_id, region_code, village_codes, phone):
    """Create a user with a role and the scope that role needs."""
    try:
        with unit_of_work() as session:
            created = create_user(
                session,
                username,
                password,
                role,
                display_name,
                employer_id=employer_id,
                region_code=region_code,
                village_codes=village_codes,
                phone=phone,
            )
    except DomainError as error:
        raise click.ClickException(error.english()) from error
    click.echo(f"created {created.role.value} user {created.username} (id {created.id})")
