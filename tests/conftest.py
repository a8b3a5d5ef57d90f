"""Shared fixtures: the app on SQLite (default) or PostgreSQL (JIUYE_TEST_DATABASE_URL), and factories.

Tables are created once per test session; each test starts from empty tables.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from stdnum.cn import ric

from seed.people import id_region
from web import clock, create_app
from web.extensions import db
from web.models import (
    Employer,
    Household,
    Laborer,
    Opening,
    PickupPoint,
    Region,
    TransportBatch,
    WelfarePost,
)
from web.models.account import APPEND_ONLY_DDL, DROP_APPEND_ONLY_DDL
from web.services import offers
from web.services.accounts import create_user
from web.services.convert import matcher_config

POSTGRES_URL = os.environ.get("JIUYE_TEST_DATABASE_URL")
PASSWORD = "correct-horse-9"

# Daning County seat, WGS-84 (approximately).
DANING = (36.465, 110.752)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """The database every test of this process uses.

    The suite runs in parallel (pytest-xdist, `-n auto` in pyproject.toml): on SQLite each worker has
    its own file under its own temporary folder; on PostgreSQL each worker gets a database of its own
    next to JIUYE_TEST_DATABASE_URL's (``<name>_gw0``, ...), created here and dropped at the end, so that
    one worker emptying its tables never touches another's.
    """
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    worker_id = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker_id:  # not distributed (-n 0, or -p no:xdist): the database named
        yield POSTGRES_URL
        return
    given = make_url(POSTGRES_URL)
    name = f"{given.database}_{worker_id}"
    admin = create_engine(given.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield given.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _schema(database_url):
    app = create_app(_test_config(database_url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return True


def _test_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Real hashing, fewer rounds: scrypt's cost dominates a suite that logs in hundreds of times.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:2000",
        # Plans run inside the request here; tests/web/test_plan_progress.py covers the background thread.
        "PLAN_EXECUTION": "inline",
    }


def _empty_all_tables() -> None:
    """Empty every table, the append-only audit trail included (its triggers are bypassed here only:
    as the superuser on PostgreSQL, by dropping and re-creating them on SQLite)."""
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for statement in DROP_APPEND_ONLY_DDL["sqlite"]:
            db.session.execute(text(statement))
        for table in tables:
            db.session.execute(table.delete())
        for statement in APPEND_ONLY_DDL["sqlite"]:
            db.session.execute(text(statement))
    db.session.commit()


@pytest.fixture
def app(_schema, database_url, request):
    """The jiuye app with empty tables; extra config via @pytest.mark.app_config(...)."""
    config = _test_config(database_url)
    marker = request.node.get_closest_marker("app_config")
    if marker:
        config.update(marker.kwargs)
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.session.remove()
        # Each app has its own engine; close its pooled connections before the next test.
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def pytest_configure(config):
    config.addinivalue_line("markers", "app_config(**kw): extra config for the app fixture")


class Factory:
    """Builds valid records with sensible defaults; each keyword overrides one field."""

    def __init__(self) -> None:
        self._seq = itertools.count(1)

    def region_tree(self) -> dict[str, Region]:
        """Shanxi → Linfen → Daning → Xinshui town → two villages (positions near Daning's seat)."""
        lat, lon = DANING
        rows = [
            Region(
                code="14",
                name="山西省",
                level="province",
                parent_code=None,
                lat=37.87,
                lon=112.55,
                position_source="gazetteer",
            ),
            Region(
                code="1410",
                name="临汾市",
                level="city",
                parent_code="14",
                lat=36.08,
                lon=111.52,
                position_source="gazetteer",
            ),
            Region(
                code="141030",
                name="大宁县",
                level="county",
                parent_code="1410",
                lat=lat,
                lon=lon,
                position_source="gazetteer",
            ),
            Region(
                code="141030100",
                name="昕水镇",
                level="township",
                parent_code="141030",
                lat=lat,
                lon=lon,
                position_source="county_seat",
            ),
            Region(
                code="141030100201",
                name="安古村",
                level="village",
                parent_code="141030100",
                lat=lat + 0.01,
                lon=lon + 0.01,
                position_source="synthetic",
            ),
            Region(
                code="141030100202",
                name="白村",
                level="village",
                parent_code="141030100",
                lat=lat - 0.02,
                lon=lon - 0.01,
                position_source="synthetic",
            ),
            Region(
                code="141030101",
                name="曲峨镇",
                level="township",
                parent_code="141030",
                lat=lat + 0.08,
                lon=lon + 0.05,
                position_source="synthetic",
            ),
            Region(
                code="141030101201",
                name="曲峨村",
                level="village",
                parent_code="141030101",
                lat=lat + 0.08,
                lon=lon + 0.06,
                position_source="synthetic",
            ),
        ]
        for row in rows:
            db.session.merge(row)
        db.session.flush()
        return {r.code: db.session.get(Region, r.code) for r in rows}

    def id_number(self, birth_on: date = date(1962, 3, 8), sex: str = "F", region6: str = "141030") -> str:
        """A valid resident ID number with a fresh sequence."""
        seq = next(self._seq) % 500
        digit = 2 * seq + (1 if sex == "M" else 0)
        body = f"{id_region(region6, birth_on.year)}{birth_on:%Y%m%d}{digit:03d}"
        return body + ric.calc_check_digit(body + "0")

    def household(self, village_code: str = "141030100201", **kw) -> Household:
        n = next(self._seq)
        village = db.session.get(Region, village_code)
        values = dict(
            code=f"{village_code}-{n:04d}",
            village_code=village_code,
            head_name=f"户主{n}",
            poverty_status="registered_poor",
            lat=village.lat,
            lon=village.lon,
            position_source="synthetic",
        )
        values.update(kw)
        row = Household(**values)
        db.session.add(row)
        db.session.flush()
        return row

    def laborer(
        self,
        household: Household | None = None,
        *,
        birth_on: date = date(1962, 3, 8),
        sex: str = "F",
        **kw,
    ) -> Laborer:
        household = household or self.household()
        values = dict(
            household_id=household.id,
            name=f"劳动力{next(self._seq)}",
            id_number=self.id_number(birth_on, sex),
            birth_on=birth_on,
            sex=sex,
            phone="13912345678",
            physical_ability="light",
            skills=[],
            work_area="local",
            max_commute_km=10.0,
            job_types=["packaging"],
            pay_type="piece",
            needs_flexible_hours=False,
            status="seeking",
            lat=household.lat,
            lon=household.lon,
            position_source="synthetic",
        )
        values.update(kw)
        row = Laborer(**values)
        db.session.add(row)
        db.session.flush()
        return row

    def employer(self, **kw) -> Employer:
        lat, lon = DANING
        values = dict(
            name=f"安古村扶贫车间{next(self._seq)}",
            kind="workshop",
            region_code="141030100201",
            lat=lat + 0.01,
            lon=lon + 0.012,
            position_source="typed",
            phone="13800000000",
        )
        values.update(kw)
        row = Employer(**values)
        db.session.add(row)
        db.session.flush()
        return row

    def opening(self, employer: Employer | None = None, **kw) -> Opening:
        employer = employer or self.employer()
        values = dict(
            employer_id=employer.id,
            title="手套包装",
            job_type="packaging",
            slots=5,
            min_age=18,
            max_age=70,
            physical_demand="light",
            skills=[],
            pay_type="piece",
            pay_cents=6000,
            is_flexible_hours=True,
            start_on=date.today() + timedelta(days=7),
            status="open",
            region_code=employer.region_code,
            lat=employer.lat,
            lon=employer.lon,
            position_source="typed",
        )
        values.update(kw)
        row = Opening(**values)
        db.session.add(row)
        db.session.flush()
        return row

    def batch(self, employer: Employer | None = None, pickups: int = 1, **kw) -> TransportBatch:
        employer = employer or self.employer(kind="enterprise", name=f"太原电子厂{next(self._seq)}")
        values = dict(
            employer_id=employer.id,
            title="点对点专车",
            destination="太原市",
            job_type="assembly",
            departs_at=datetime.now(UTC) + timedelta(days=10),
            seats=40,
            min_age=18,
            max_age=55,
            physical_demand="moderate",
            skills=[],
            pay_type="monthly",
            pay_cents=400000,
            status="planning",
            region_code="141030",
        )
        values.update(kw)
        row = TransportBatch(**values)
        lat, lon = DANING
        row.pickup_points = [
            PickupPoint(
                name=f"上车点{i + 1}",
                region_code="141030100",
                lat=lat + 0.01 * i,
                lon=lon,
                position_source="typed",
            )
            for i in range(pickups)
        ]
        db.session.add(row)
        db.session.flush()
        return row

    def welfare_post(self, **kw) -> WelfarePost:
        lat, lon = DANING
        values = dict(
            post_type="cleaner",
            title="保洁员",
            region_code="141030100201",
            slots=1,
            min_age=18,
            max_age=70,
            physical_demand="light",
            stipend_cents=50000,
            term_start_on=date.today(),
            lat=lat + 0.01,
            lon=lon + 0.01,
            position_source="synthetic",
        )
        values.update(kw)
        row = WelfarePost(**values)
        db.session.add(row)
        db.session.flush()
        return row

    def user(self, role: str = "office", username: str | None = None, **kw):
        username = username or f"{role}{next(self._seq)}"
        if role == "cadre":
            kw.setdefault("village_codes", ["141030100201"])
        elif role == "employer" and "employer_id" not in kw:
            kw["employer_id"] = self.employer().id
        elif role == "office":
            kw.setdefault("region_code", "141030")
        return create_user(db.session, username, PASSWORD, role, **kw)


@pytest.fixture
def factory(app) -> Factory:
    """Record builders; the Daning region tree is loaded first."""
    made = Factory()
    made.region_tree()
    db.session.commit()
    return made


@pytest.fixture
def api_token(client):
    """A function: log a user in through the API and return the Authorization header."""

    def login(user) -> dict[str, str]:
        response = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
        assert response.status_code == 201, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}

    return login


@pytest.fixture
def live_redis(app):
    """A connection to the app's REDIS_URL; skipped without a Redis server, except in CI, where it fails."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(app.config["REDIS_URL"])
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail(f"no Redis at {app.config['REDIS_URL']}; CI starts one (.ci/run)")
        pytest.skip(f"no Redis at {app.config['REDIS_URL']}")
    return connection


# -- after the match (issue 13) -----------------------------------------------------------------

#: The day `waiting_offer` is made on.
OFFERED_ON = date(2026, 3, 2)


def freeze_day(monkeypatch, day: date) -> None:
    """Set the deployment's clock to 10:00 on `day`."""
    moment = datetime.combine(day, time(10, 0), clock.zone())
    monkeypatch.setattr(clock, "now", lambda: moment)


@pytest.fixture
def waiting_offer(app, factory, monkeypatch):
    """An opening's one slot offered on OFFERED_ON; a cadre, an office user and the employer's user."""
    freeze_day(monkeypatch, OFFERED_ON)
    opening = factory.opening(slots=1)
    laborer = factory.laborer(phone="13800138000")
    cadre = factory.user("cadre")
    office = factory.user("office")
    employer_user = factory.user("employer", employer_id=opening.employer_id)
    db.session.commit()
    placement = offers.make_offer(db.session, office, laborer.id, "opening", opening.id, matcher_config(app.config))
    db.session.commit()
    return {
        "placement_id": placement.id,
        "opening": opening,
        "cadre": cadre,
        "office": office,
        "employer_user": employer_user,
        "laborer": laborer,
    }
