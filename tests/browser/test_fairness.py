"""The fairness report and the what-if simulator in a real browser, at 360 and 1280 px, in Chinese and English."""

from __future__ import annotations

import pytest

from tests.browser.test_pages import CHROMIUM, browser, live_server, page_for, shoot  # noqa: F401

pytestmark = pytest.mark.browser

from playwright.sync_api import expect  # noqa: E402


def _fits(page, width: int) -> None:
    """Nothing but the tables' own scroll boxes is wider than the screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


def test_office_reads_a_plans_fairness_and_tries_a_what_if(page_for, live_server):  # noqa: F811 (fixtures)
    base = live_server["url"]
    page = page_for("office", 1280, 900)
    page.click("header >> text=匹配方案")
    page.select_option("#mode", "optimal")
    page.click("button:has-text('运行方案')")
    expect(page.locator("h1")).to_contain_text("已完成", timeout=30_000)
    expect(page.locator("h2", has_text="公平性")).to_be_visible()
    expect(page.locator("table.fairness").first).to_contain_text("全部")
    plan_url = page.url
    shoot(page, "office-plan-fairness-zh-1280")
    page.click("text=English")
    expect(page.locator("h2", has_text="Fairness: who this plan helps")).to_be_visible()
    shoot(page, "office-plan-fairness-en-1280")
    page.click("text=What if…")
    page.select_option("#workshop_village", index=1)
    page.fill("#workshop_slots", "20")
    page.fill("#commute_extra_km", "5")
    page.click("button:has-text('Show what would change')")
    expect(page.locator("h2", has_text="Today’s records beside your changes")).to_be_visible()
    expect(page.locator("table.fairness").first).to_contain_text("What if")
    shoot(page, "office-whatif-en-1280")
    page.click("text=中文")
    page.goto(plan_url + "/what-if")
    page.select_option("#posts_township", index=1)
    page.fill("#posts_count", "5")
    page.click("button:has-text('看看会有什么变化')")
    expect(page.locator("h2", has_text="现有记录与您的设想对比")).to_be_visible()
    shoot(page, "office-whatif-zh-1280")

    phone = page_for("office")
    phone.goto(plan_url)
    expect(phone.locator("table.fairness").first).to_be_visible()
    _fits(phone, 360)
    shoot(phone, "office-plan-fairness-zh-360")
    phone.goto(plan_url + "/what-if")
    phone.select_option("#workshop_village", index=1)
    phone.fill("#workshop_slots", "20")
    phone.click("main button[type=submit]")
    expect(phone.locator("table.fairness").first).to_be_visible()
    _fits(phone, 360)
    shoot(phone, "office-whatif-zh-360")
    phone.click("text=English")
    phone.goto(plan_url + "/what-if")
    phone.fill("#workshop_slots", "20")
    phone.click("main button[type=submit]")  # slots without a village: refused, naming the field
    expect(phone.locator("main")).to_contain_text("choose a place for this number")
    shoot(phone, "office-whatif-refused-en-360")
    phone.goto(base + "/dashboard?region=141030")
    expect(phone.locator("h2", has_text="Fairness: who is at work")).to_be_visible()
    _fits(phone, 360)
    shoot(phone, "dashboard-fairness-en-360")
    phone.goto(plan_url)
    shoot(phone, "office-plan-fairness-en-360")
