"""Fixtures for the API tests: a logged-in user of each role, and row counting."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from web.extensions import db


@pytest.fixture
def cadre(factory, api_token):
    """A cadre of 安古村 (141030100201) and their Authorization header."""
    user = factory.user("cadre")
    db.session.commit()
    return user, api_token(user)


@pytest.fixture
def office(factory, api_token):
    """The Daning County office (141030) and its Authorization header."""
    user = factory.user("office")
    db.session.commit()
    return user, api_token(user)


@pytest.fixture
def employer(factory, api_token):
    """An employer user (a workshop in 安古村) and its Authorization header."""
    user = factory.user("employer")
    db.session.commit()
    return user, api_token(user)


def count(model) -> int:
    """How many rows the table holds now (the test's own session sees committed state)."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def assert_refused(response, field: str, status: int = 422) -> None:
    """A refusal in the one error format, naming the field."""
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["status"] == status
    assert field in error["fields"], error
