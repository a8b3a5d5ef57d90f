"""The `jiuye` commands, run through Flask's test runner."""

from __future__ import annotations

from sqlalchemy import func, select

from web.extensions import db
from web.models import Laborer, User


def test_seed_demo_then_again(runner):
    result = runner.invoke(args=["seed", "demo", "--random-seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Seeded Daning County" in result.output and "cadre-demo-2020" in result.output
    count = db.session.scalar(select(func.count(Laborer.id)))
    assert count > 1500
    again = runner.invoke(args=["seed", "demo"])
    assert again.exit_code == 0
    assert "Already seeded" in again.output
    assert db.session.scalar(select(func.count(Laborer.id))) == count


def test_user_create_refuses_bad_scope_and_creates_good(runner, factory):
    bad = runner.invoke(args=["user", "create", "clerk", "--role", "office", "--password", "longenough1"])
    assert bad.exit_code != 0 and "region_code" in bad.output
    good = runner.invoke(
        args=["user", "create", "clerk", "--role", "office", "--password", "longenough1", "--region", "141030"]
    )
    assert good.exit_code == 0, good.output
    assert db.session.scalar(select(User).where(User.username == "clerk")).region_code == "141030"


def test_landing_page_shows_counts(client, factory):
    factory.laborer()
    db.session.commit()
    page = client.get("/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Laborers" in page.get_data(as_text=True)
