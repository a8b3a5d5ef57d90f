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


def test_seed_regions_adds_an_offices_own_villages_from_a_csv_file(runner, tmp_path):
    from seed.regions import ensure_regions
    from web.models import Region

    ensure_regions(db.session)  # Shanxi's province, cities, counties and townships
    db.session.commit()
    sheet = tmp_path / "villages.csv"
    sheet.write_bytes("\ufeffcode,name,lat,lon\n141030100201,安古村,36.47,110.76\n141030100299,新村,,\n".encode())
    result = runner.invoke(args=["seed", "regions", str(sheet)])
    assert result.exit_code == 0, result.output
    assert "Added 2 of 2 regions" in result.output
    db.session.expire_all()
    borrowed = db.session.get(Region, "141030100299")
    township = db.session.get(Region, "141030100")
    assert (borrowed.lat, borrowed.lon, borrowed.position_source) == (township.lat, township.lon, "county_seat")
    assert db.session.get(Region, "141030100201").name == "安古村"

    again = runner.invoke(args=["seed", "regions", str(sheet)])
    assert "Added 0 of 2 regions" in again.output


def test_seed_regions_names_a_bad_line_and_adds_nothing(runner, tmp_path):
    from web.models import Region

    before = db.session.scalar(select(func.count()).select_from(Region))
    sheet = tmp_path / "bad.csv"
    sheet.write_text("code,name,lat,lon\n141030100201,安古村,36.47,110.76\n1410301002,半个码,36.4,110.7\n")
    result = runner.invoke(args=["seed", "regions", str(sheet)])
    assert result.exit_code == 1
    assert "line 3, field code" in result.output
    assert db.session.scalar(select(func.count()).select_from(Region)) == before
