"""Welfare posts month by month in a real browser (issue 13, part 3): the cadre fills a village's month on
a phone, the office reads the payroll it makes. Uses the live demo server of tests/browser/test_pages.py."""

from __future__ import annotations

import pytest

from tests.browser.test_pages import browser, live_server, page_for, shoot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_the_cadre_fills_a_month_and_the_office_reads_the_payroll(page_for):  # noqa: F811  (the fixture)
    from playwright.sync_api import expect

    page = page_for("cadre")
    page.click("text=菜单")  # on a phone the pages sit behind the menu button
    page.click("nav >> text=出勤")
    inputs = page.locator("main input[type=number]")
    assert inputs.count() >= 2
    inputs.nth(0).fill("1")
    shoot(page, "cadre-attendance-360")
    page.click("text=保存本月出勤")
    expect(page.locator("p.flash").first).to_contain_text("已保存")
    assert page.locator("main input[type=number]").nth(0).input_value() == "1"

    office = page_for("office", width=1280)
    office.click("nav >> text=用工台账")
    expect(office.locator("main h1")).to_contain_text("用工台账")
    expect(office.locator("main tfoot")).to_contain_text("合计")
    shoot(office, "office-payroll-1280")
