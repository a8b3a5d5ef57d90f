"""The database itself refuses bad rows: check constraints, unique keys, one post per household."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from web.extensions import db
from web.models import Placement


def _refused(factory_call) -> None:
    with pytest.raises((IntegrityError, StatementError)):
        factory_call()
        db.session.flush()
    db.session.rollback()


def test_opening_slots_must_be_positive(factory):
    _refused(lambda: factory.opening(slots=0))


def test_min_age_cannot_exceed_max_age(factory):
    _refused(lambda: factory.opening(min_age=60, max_age=40))


def test_latitude_range_is_checked(factory):
    _refused(lambda: factory.employer(lat=95.0))


def test_unknown_enum_value_refused(factory):
    _refused(lambda: factory.opening(physical_demand="extreme"))


def test_id_number_is_unique(factory):
    first = factory.laborer()
    db.session.commit()
    _refused(lambda: factory.laborer(id_number=first.id_number))


def test_household_code_is_unique(factory):
    factory.household(code="H-1")
    db.session.commit()
    _refused(lambda: factory.household(code="H-1"))


def test_placement_needs_exactly_one_target(factory):
    laborer = factory.laborer()
    opening = factory.opening()
    post = factory.welfare_post()
    db.session.commit()
    _refused(
        lambda: db.session.add(
            Placement(
                laborer_id=laborer.id,
                household_id=laborer.household_id,
                opening_id=opening.id,
                welfare_post_id=post.id,
            )
        )
    )
    _refused(
        lambda: db.session.add(Placement(laborer_id=laborer.id, household_id=laborer.household_id))
    )


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
    db.session.commit()
    # A declined offer does not hold the post, so it is allowed beside the working one...
    db.session.add(
        Placement(
            laborer_id=second.id,
            household_id=household.id,
            welfare_post_id=post_b.id,
            status="declined",
        )
    )
    db.session.commit()
    # ...but a second live post for the same household is not.
    _refused(
        lambda: db.session.add(
            Placement(
                laborer_id=second.id,
                household_id=household.id,
                welfare_post_id=post_b.id,
                status="offered",
            )
        )
    )


def test_user_scope_matches_role(factory):
    from web.models import User

    _refused(
        lambda: db.session.add(
            User(username="x", password_hash="h", display_name="x", role="office")
        )
    )
