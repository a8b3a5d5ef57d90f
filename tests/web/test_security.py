"""Web hardening: security headers, login lock-out, API tokens that expire and can be revoked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from web.extensions import db
from web.models import AuditEvent


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
