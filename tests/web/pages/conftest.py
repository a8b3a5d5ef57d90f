"""Fixtures of the page tests: a client that picks the language afresh on each request, and login."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from flask_babel import refresh

from tests.conftest import PASSWORD
from web.extensions import db


class FreshLocaleClient(FlaskClient):
    """The `app` fixture keeps one app context open, where Flask-Babel caches the locale of the
    first request; a real server starts each request with a fresh context, so forget it here."""

    def open(self, *args, **kwargs):
        refresh()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshLocaleClient
    return app.test_client()


@pytest.fixture
def login(client):
    """A function: log `user` in through the form (session cookie kept by the client)."""

    def log_in(user):
        db.session.commit()
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return log_in
