"""Web hardening: security headers, login lock-out, API tokens that expire and can be revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.statements import statements
from web import clock
from web.extensions import db
from web.models import AuditEvent, User
from web.services import accounts


def test_every_answer_carries_security_headers(client, factory):
    for path in ("/", "/login", "/api/v1/openapi.json"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_http_only_and_same_site(app, client, factory):
    user = factory.user("office")
    db.session.commit()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True)
def test_secure_cookie_when_configured(client, factory):
    user = factory.user("office")
    db.session.commit()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]


def test_page_login_locks_out_after_repeated_failures(client, factory):
    user = factory.user("office")
    db.session.commit()
    for _ in range(5):
        wrong = client.post("/login", data={"username": user.username, "password": "wrong-password"})
        assert wrong.status_code == 200
    locked = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.username == user.username)).all()
    assert actions.count("login_failed") == 5 and "login_locked" in actions and "login" not in actions


def test_api_login_locks_out_too(client, factory):
    user = factory.user("cadre")
    db.session.commit()
    for _ in range(5):
        assert (
            client.post("/api/v1/auth/token", json={"username": user.username, "password": "nope-nope"}).status_code
            == 401
        )
    locked = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429 and "username" in locked.json["error"]["fields"]


def test_success_resets_the_failure_count(client, factory, api_token):
    user = factory.user("cadre")
    db.session.commit()
    for _ in range(4):
        client.post("/api/v1/auth/token", json={"username": user.username, "password": "nope-nope"})
    api_token(user)  # succeeds, and clears the count
    for _ in range(4):
        client.post("/api/v1/auth/token", json={"username": user.username, "password": "nope-nope"})
    api_token(user)


def test_revoked_token_is_refused(client, factory, api_token):
    user = factory.user("office")
    db.session.commit()
    headers = api_token(user)
    assert client.get("/api/v1/households", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    refused = client.get("/api/v1/households", headers={**headers, "Accept-Language": "en"})
    assert refused.status_code == 401 and "revoked" in refused.json["error"]["message"]


@pytest.mark.app_config(API_TOKEN_LIFETIME_S=-1)
def test_expired_token_is_refused(client, factory, api_token):
    user = factory.user("office")
    db.session.commit()
    assert client.get("/api/v1/households", headers=api_token(user)).status_code == 401


def test_a_token_once_read_costs_no_statement_until_its_user_or_token_changes(client, factory, api_token):
    """The token and its user are kept per accounts version (`accounts._Known`): a change committed by any
    transaction, as another server process would commit it, moves the version and is seen next request."""
    user = factory.user("office")
    db.session.commit()
    headers = api_token(user)
    english = {**headers, "Accept-Language": "en"}
    with statements(lambda statement: "FROM api_token" in statement) as reads:
        assert client.get("/api/v1/households", headers=headers).status_code == 200
        assert client.get("/api/v1/households", headers=headers).status_code == 200
        assert client.get("/api/v1/households", headers=headers).status_code == 200
    assert len(reads) == 1  # the first request read the token; the next two knew it

    db.session.get(User, user.id).is_enabled = False
    db.session.commit()
    refused = client.get("/api/v1/households", headers=english)
    assert refused.status_code == 401 and "revoked" in refused.json["error"]["message"]
    db.session.get(User, user.id).is_enabled = True
    db.session.commit()
    assert client.get("/api/v1/households", headers=headers).status_code == 200

    # Revoked in a transaction of its own, not through this client's request.
    assert accounts.revoke_token(db.session, headers["Authorization"].partition(" ")[2])
    db.session.commit()
    assert client.get("/api/v1/households", headers=english).status_code == 401


def test_a_known_token_still_expires_and_a_changed_scope_is_used_at_once(app, client, factory, api_token, monkeypatch):
    county = factory.user("office", region_code="141030")
    factory.household("141030100201")
    factory.household("141030101201")
    db.session.commit()
    headers = api_token(county)

    def households() -> int:
        listing = client.get("/api/v1/households", headers=headers)
        assert listing.status_code == 200
        return len(listing.json["items"])

    assert households() == 2
    db.session.get(User, county.id).region_code = "141030100"  # the office is narrowed to one town
    db.session.commit()
    assert households() == 1

    later = clock.now() + timedelta(seconds=app.config["API_TOKEN_LIFETIME_S"] + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert client.get("/api/v1/households", headers=headers).status_code == 401


def test_a_page_session_is_checked_from_what_is_known_of_its_user_until_the_user_changes(factory):
    """`user_for_session` (every page's user loader) keeps the user as the token check does."""
    user = factory.user("office")
    db.session.commit()
    cookie = user.get_id()
    assert accounts.user_for_session(db.session, cookie).id == user.id
    db.session.commit()
    with statements(lambda statement: "FROM user" in statement.replace('"', "")) as user_reads:
        known = accounts.user_for_session(db.session, cookie)
        assert known.id == user.id and known.username == user.username and user_reads == []
        db.session.commit()
        db.session.get(User, user.id).is_enabled = False
        db.session.commit()
        assert accounts.user_for_session(db.session, cookie) is None
        db.session.commit()
    assert len(user_reads) == 2  # the disabled user read again (once by the test, once by the check)


def test_passwords_are_hashed_with_a_modern_scheme(factory):
    user = factory.user("office")
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:sha256:"))


def test_times_come_back_as_utc_on_every_database(client, factory):
    user = factory.user("office")
    db.session.commit()
    token = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD}).json
    assert token["expires_at"].endswith("+00:00")
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login"))
    assert event.at.utcoffset().total_seconds() == 0


def test_language_switch_never_redirects_off_site(client):
    home = client.get("/lang/en", headers={"Referer": "http://localhost/login?next=x"})
    assert home.headers["Location"] == "/login?next=x"
    evil = client.get("/lang/en", headers={"Referer": "https://evil.example/phish"})
    assert evil.headers["Location"] == "/"
    sneaky = client.get("/lang/zh", headers={"Referer": "//evil.example/phish"})
    assert sneaky.headers["Location"] == "/"


def test_nul_characters_are_refused_at_the_door(client, factory, api_token):
    """PostgreSQL cannot store NUL; it is refused with the field named, never a 500."""
    token = client.post("/api/v1/auth/token", json={"username": "a\x00b", "password": "whatever1"})
    assert token.status_code == 422 and "username" in token.json["error"]["fields"]
    user = factory.user("office")
    db.session.commit()
    listing = client.get("/api/v1/households?region=14%00", headers=api_token(user))
    assert listing.status_code == 422 and "region" in listing.json["error"]["fields"]
    page = client.post("/login", data={"username": "x\x00", "password": "y"})
    assert page.status_code == 422
