"""The database itself refuses bad rows: check constraints, unique keys, one post per household.

Each test writes a valid row through the factories, then breaks it with plain SQL past the ORM, so
that what refuses it is the database's own constraint, not a Python-side check.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from web.extensions import db
from web.models import Placement


def _refused(sql: str, **params) -> None:
    """The statement breaks a constraint: the database raises, and nothing changes."""
    with pytest.raises(IntegrityError):
        db.session.execute(text(sql), params)
    db.session.rollback()


def test_opening_slots_must_be_positive(factory):
    opening = factory.opening()
    db.session.commit()
    _refused("UPDATE opening SET slots = 0 WHERE id = :id", id=opening.id)
    _refused("UPDATE transport_batch SET seats = -1 WHERE id = :id", id=factory.batch().id)


def test_min_age_cannot_exceed_max_age(factory):
    opening = factory.opening()
    db.session.commit()
    _refused("UPDATE opening SET min_age = 60, max_age = 40 WHERE id = :id", id=opening.id)
    _refused("UPDATE opening SET min_age = 12 WHERE id = :id", id=opening.id)


def test_latitude_and_longitude_ranges_are_checked(factory):
    employer = factory.employer()
    db.session.commit()
    _refused("UPDATE employer SET lat = 95.0 WHERE id = :id", id=employer.id)
    _refused("UPDATE employer SET lon = -181.0 WHERE id = :id", id=employer.id)


def test_unknown_enum_value_refused(factory):
    opening = factory.opening()
    db.session.commit()
    _refused("UPDATE opening SET physical_demand = 'extreme' WHERE id = :id", id=opening.id)
    _refused("UPDATE opening SET status = 'gone' WHERE id = :id", id=opening.id)


def test_id_number_is_unique(factory):
    first, second = factory.laborer(), factory.laborer()
    db.session.commit()
    _refused(
        "UPDATE laborer SET id_number = :number WHERE id = :id",
        number=first.id_number,
        id=second.id,
    )


def test_household_code_is_unique(factory):
    factory.household(code="H-1")
    other = factory.household(code="H-2")
    db.session.commit()
    _refused("UPDATE household SET code = 'H-1' WHERE id = :id", id=other.id)


def test_placement_needs_exactly_one_target(factory):
    laborer = factory.laborer()
    opening = factory.opening()
    post = factory.welfare_post()
    placement = Placement(laborer_id=laborer.id, household_id=laborer.household_id, opening_id=opening.id)
    db.session.add(placement)
    db.session.commit()
    _refused("UPDATE placement SET welfare_post_id = :post WHERE id = :id", post=post.id, id=placement.id)
    _refused("UPDATE placement SET opening_id = NULL WHERE id = :id", id=placement.id)


def test_one_welfare_post_per_household_is_held_by_the_database(factory):
    household = factory.household()
    first, second = factory.laborer(household), factory.laborer(household)
    post_a, post_b = factory.welfare_post(), factory.welfare_post(post_type="road_keeper")
    db.session.add(
        Placement(
            laborer_id=first.id,
            household_id=household.id,
            welfare_post_id=post_a.id,
            status="working",
        )
    )
    # A declined offer does not hold the post, so it is allowed beside the working one...
    declined = Placement(
        laborer_id=second.id,
        household_id=household.id,
        welfare_post_id=post_b.id,
        status="declined",
    )
    db.session.add(declined)
    db.session.commit()
    # ...but a second live post for the same household is not.
    _refused("UPDATE placement SET status = 'offered' WHERE id = :id", id=declined.id)


def test_user_scope_matches_role(factory):
    office = factory.user("office")
    db.session.commit()
    _refused('UPDATE "user" SET region_code = NULL WHERE id = :id', id=office.id)
    _refused("UPDATE \"user\" SET role = 'employer' WHERE id = :id", id=office.id)
