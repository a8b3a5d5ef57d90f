"""The office dashboard: figures, drill-down links, breadcrumb, inline SVG charts, roles."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.conftest import PASSWORD
from web.extensions import db
from web.models import Placement
from web.pages.charts import bar_chart, line_chart


def login(client, user):
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def office(factory):
    shop = factory.employer(kind="workshop")
    opening = factory.opening(shop)
    for _ in range(3):
        laborer = factory.laborer(status="employed")
        db.session.add(
            Placement(
                laborer_id=laborer.id,
                household_id=laborer.household_id,
                opening_id=opening.id,
                status="working",
                started_on=date(2020, 1, 5),
            )
        )
    user = factory.user("office", region_code="1410")
    db.session.commit()
    return user


def test_dashboard_shows_figures_children_and_charts(client, office):
    login(client, office)
    response = client.get("/dashboard?on=2020-06-30")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "临汾市" in html
    assert 'href="/dashboard?region=141030&amp;on=2020-06-30"' in html  # down the tree
    assert html.count("<svg") == 2 and 'viewBox="0 0 360' in html and 'width="100%"' in html
    assert "<script" not in html


def test_dashboard_breadcrumb_goes_up_to_the_users_region(client, office):
    login(client, office)
    html = client.get("/dashboard?region=141030100&on=2020-06-30").get_data(as_text=True)
    crumbs = re.search(r'<nav class="breadcrumb".*?</nav>', html, re.S).group(0)
    assert "临汾市" in crumbs and "大宁县" in crumbs and "山西省" not in crumbs
    assert "141030100201" in html  # the township's villages


def test_dashboard_is_for_offices_in_their_region(client, factory, office):
    login(client, office)
    assert client.get("/dashboard?region=14").status_code == 404
    assert client.get("/dashboard?region=1401").status_code == 404
    assert client.get("/dashboard?on=yesterday").status_code == 422
    client.post("/logout")
    cadre = factory.user("cadre")
    db.session.commit()
    login(client, cadre)
    assert client.get("/dashboard").status_code == 403


def test_dashboard_needs_a_login(client, office):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_bar_chart_scales_to_the_largest_and_escapes_labels():
    svg = str(bar_chart([("<b>", 10), ("乙", 5)], "t"))
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    widths = [float(w) for w in re.findall(r'<rect[^>]*width="([0-9.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1])


def test_line_chart_draws_one_point_per_month():
    svg = str(line_chart([("2020-01", 3), ("2020-02", 1), ("2020-03", 4)], "t"))
    assert svg.count("<circle") == 3 and "2020-01" in svg and "2020-03" in svg
    assert str(line_chart([], "t")).startswith("<svg")
