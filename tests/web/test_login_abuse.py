"""Logins that resist abuse (issue 10, part 6): a stranger's failures lock only the stranger's
address; a slower per-username throttle remains; the counters are shared by every process and
atomic; unknown usernames cost a real hash check; weak passwords are refused in the user's
language; logout and password change end every session and token."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_babel import refresh
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from web import create_app
from web.extensions import db
from web.models import AuditEvent, LoginCounter, User
from web.services import accounts
from web.services.login_guard import LockedOutError

STRANGER, OWNER, ELSEWHERE = "10.0.0.66", "10.0.0.7", "10.0.0.8"
REDIS_URL = os.environ.get("JIUYE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class FreshClient(FlaskClient):
    """Each request starts as on a real server: no user or language left in `g` by the previous
    request (the `app` fixture keeps one app context open across requests)."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        refresh()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshClient
    return app.test_client()


@pytest.fixture
def new_client(app):
    """A function: one more browser."""
    app.test_client_class = FreshClient
    return app.test_client


def page_login(client, username, password=PASSWORD, addr=OWNER):
    return client.post("/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": addr})


def api_login(client, username, password=PASSWORD, addr=OWNER):
    return client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": addr}
    )


def events(action: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def test_a_strangers_failures_do_not_lock_the_owner_out(client, new_client, factory):
    owner = factory.user("office")
    db.session.commit()
    for _ in range(8):
        page_login(client, owner.username, "wrong-password", STRANGER)
    assert page_login(client, owner.username, PASSWORD, STRANGER).status_code == 429
    assert api_login(client, owner.username, PASSWORD, STRANGER).status_code == 429
    assert page_login(new_client(), owner.username).status_code == 302  # the owner, elsewhere
    assert api_login(new_client(), owner.username).status_code == 201
    assert events("login_failed") == 5 and events("login_locked") == 4


@pytest.mark.app_config(LOGIN_USER_MAX_FAILURES=8)
def test_a_slower_per_username_throttle_remains(client, factory):
    owner = factory.user("cadre")
    db.session.commit()
    for _ in range(20):  # one address: 5 checks, the rest refused before they count per username
        api_login(client, owner.username, "wrong-password", STRANGER)
    assert api_login(client, owner.username, addr=OWNER).status_code == 201
    for addr in ("10.1.0.1", "10.1.0.2"):  # spread over addresses: 8 checks, then no more
        for _ in range(4):
            assert api_login(client, owner.username, "wrong-password", addr).status_code == 401
    refused = api_login(client, owner.username, addr=ELSEWHERE)
    assert refused.status_code == 429 and "username" in refused.json["error"]["fields"]


def test_counters_are_shared_by_every_process(app, factory, database_url):
    """Two app instances on one database stand for two workers: together they allow what one does."""
    owner = factory.user("office")
    db.session.commit()
    other = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": database_url})
    workers = [app.test_client(), other.test_client()]
    answers = [api_login(workers[i % 2], owner.username, "wrong", STRANGER).status_code for i in range(10)]
    assert answers == [401] * 5 + [429] * 5
    assert db.session.scalar(select(func.count()).select_from(LoginCounter)) == 2  # pair, username
    with other.app_context():
        db.engine.dispose()


@pytest.mark.app_config(REDIS_URL=REDIS_URL, LOGIN_COUNTER_PREFIX=f"jiuye-test:{uuid.uuid4().hex}:")
def test_counters_live_in_redis_when_there_is_one(app, factory, live_redis):
    connection = live_redis
    prefix = app.config["LOGIN_COUNTER_PREFIX"]
    owner = factory.user("office")
    db.session.commit()
    other = create_app(dict(app.config))
    workers = [app.test_client(), other.test_client()]
    try:
        answers = [api_login(workers[i % 2], owner.username, "wrong", STRANGER).status_code for i in range(7)]
        assert answers == [401] * 5 + [429] * 2
        assert len(connection.keys(prefix + "*")) == 2
        assert db.session.scalar(select(func.count()).select_from(LoginCounter)) == 0
        assert api_login(workers[0], owner.username, addr=OWNER).status_code == 201
        assert len(connection.keys(prefix + "*")) == 1  # success cleared the owner's address and name
    finally:
        for key in connection.keys(prefix + "*"):
            connection.delete(key)
        with other.app_context():
            db.engine.dispose()


def test_twenty_concurrent_guesses_get_at_most_five_password_checks(app, factory):
    """Every attempt is counted before its password is checked, in one atomic step."""
    username = factory.user("office").username
    db.session.commit()
    db.session.remove()
    start = threading.Barrier(20)
    answers: list[int] = []

    def guess() -> None:
        client = app.test_client()
        start.wait()
        answers.append(api_login(client, username, "wrong-guess", STRANGER).status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [401] * 5 + [429] * 15
    assert events("login_failed") == 5  # one per password check


def test_an_unknown_username_costs_a_real_check_with_a_fixed_dummy_hash(factory, monkeypatch):
    known = factory.user("office")
    db.session.commit()
    checked: list[str] = []
    made: list[str] = []
    real_check, real_make = accounts.check_password_hash, accounts.generate_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: checked.append(h) or real_check(h, p))
    monkeypatch.setattr(accounts, "generate_password_hash", lambda *a, **k: made.append(1) or real_make(*a, **k))
    accounts.dummy_hash(known.password_hash.split("$")[0])  # made once, e.g. at the first unknown name
    made.clear()
    for name in ("nobody", "no-one-else", known.username):
        assert accounts.authenticate(db.session, name, "wrong-password", remote_addr=STRANGER) is None
    assert made == []  # no hash is made per call
    dummy, again, real = checked
    assert dummy == again != real
    assert dummy.split("$")[0] == real.split("$")[0]  # the same method and cost


def test_weak_passwords_are_refused_in_the_users_language(runner, client, factory):
    made = runner.invoke(
        args=["user", "create", "clerk", "--role", "office", "--region", "141030", "--password", "12345678"]
    )
    assert made.exit_code == 1 and "太容易被猜到" in made.output and "Traceback" not in made.output
    with pytest.raises(accounts.ValidationError) as refused:
        accounts.create_user(db.session, "clerk", "password1", "office", region_code="141030")
    assert "password" in refused.value.fields
    user = factory.user("office")
    db.session.commit()
    page_login(client, user.username)
    form = {"current_password": PASSWORD, "new_password": "12345678", "confirm": "12345678"}
    english = client.post("/password", data=form, headers={"Accept-Language": "en"})
    assert english.status_code == 422 and "too easy to guess" in english.get_data(as_text=True)
    chinese = client.post("/password", data=form, headers={"Accept-Language": "zh"})
    assert chinese.status_code == 422 and "太容易被猜到" in chinese.get_data(as_text=True)


def test_logout_voids_a_copied_session_cookie_and_the_tokens(client, new_client, factory):
    user = factory.user("cadre")
    db.session.commit()
    assert page_login(client, user.username).status_code == 302
    thief = new_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/cadre/").status_code == 200  # the copy works while the session lives
    token = {"Authorization": "Bearer " + api_login(new_client(), user.username).json["token"]}
    assert client.post("/logout").status_code == 302
    assert thief.get("/cadre/").status_code == 302  # back to the login page
    assert client.get("/api/v1/households", headers=token).status_code == 401


def test_password_change_ends_other_sessions_and_tokens(client, new_client, factory):
    user = factory.user("employer")
    db.session.commit()
    page_login(client, user.username)
    other = new_client()
    page_login(other, user.username, addr=ELSEWHERE)
    token = {"Authorization": "Bearer " + api_login(new_client(), user.username).json["token"]}
    new = "quiet-river-lantern-42"
    form = {"current_password": PASSWORD, "new_password": new, "confirm": new}
    wrong = client.post("/password", data={**form, "current_password": "not-it-at-all"})
    assert wrong.status_code == 422
    assert client.post("/password", data=form).status_code == 302
    assert client.get("/employer/").status_code == 200  # this session goes on
    assert other.get("/employer/").status_code == 302
    assert client.get("/api/v1/openings", headers=token).status_code == 401
    assert api_login(new_client(), user.username).status_code == 401  # the old password
    assert api_login(new_client(), user.username, new).status_code == 201
    assert events("password_changed") == 1


def test_a_locked_attempt_is_refused_before_any_password_check(factory, monkeypatch):
    user = factory.user("office")
    db.session.commit()
    for _ in range(5):
        accounts.authenticate(db.session, user.username, "wrong-password", remote_addr=STRANGER)
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: pytest.fail("checked a password"))
    with pytest.raises(LockedOutError):
        accounts.authenticate(db.session, user.username, PASSWORD, remote_addr=STRANGER)
    assert db.session.get(User, user.id).is_enabled


def test_the_rate_limiter_shares_redis_when_there_is_one(tmp_path):
    """Flask-Limiter's counters follow REDIS_URL; without it they are per process (documented), and
    the lock-out above does not rely on them."""
    with_redis = create_app(
        {"REDIS_URL": REDIS_URL, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.sqlite'}"}
    )
    assert with_redis.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    alone = create_app({"SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.sqlite'}"})
    assert alone.config["RATELIMIT_STORAGE_URI"] == "memory://"
