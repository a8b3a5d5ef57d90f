"""Every role lands on its home; other roles' pages answer 403; anonymous users are sent to log in."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("role", ["cadre", "employer", "office"])
def test_each_role_lands_on_its_home(client, factory, login, role):
    response = login(factory.user(role))
    assert response.location == f"/{role}/"
    assert client.get(response.location).status_code == 200


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("cadre", "/office/"),
        ("cadre", "/employer/"),
        ("employer", "/cadre/laborers"),
        ("office", "/cadre/"),
        ("employer", "/office/plans"),
    ],
)
def test_other_roles_pages_are_forbidden(client, factory, login, role, path):
    login(factory.user(role))
    assert client.get(path).status_code == 403


def test_anonymous_is_sent_to_log_in(client, factory):
    response = client.get("/cadre/laborers")
    assert response.status_code == 302
    assert "/login" in response.location


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_forms_refuse_a_post_without_csrf_token(client, factory, login):
    user = factory.user("cadre")
    from web.extensions import db

    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": user.username, "password": "correct-horse-9", "csrf_token": token})
    response = client.post("/cadre/households/new", data={"code": "X"})
    assert response.status_code == 400
