"""The office chooses quotas on the plan form in a real Chromium and reads on the plan page whether they
were met, in Chinese and English, at 360 and 1280 px (screenshots: test-output/screenshots/quotas-*)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import browser, live_server, page_for, shoot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "width"), [("zh-CN", 360), ("en", 1280), ("zh-CN", 1280), ("en", 360)])
def test_the_office_runs_a_plan_with_a_village_cap_and_a_reserve(page_for, live_server, locale, width):  # noqa: F811
    page = page_for("office", width=width, locale=locale)
    language = "zh" if locale == "zh-CN" else "en"
    page.goto(live_server["url"] + "/office/plans")
    page.click("details.quotas summary")
    page.select_option("#region_code", "141030")
    page.select_option("#quotas-0-bound", "at_most")
    page.fill("#quotas-0-amount", "40")
    page.select_option("#quotas-0-per", "posting")
    page.check("#quotas-0-groups input[value=village]")
    page.select_option("#quotas-1-bound", "at_least")
    page.fill("#quotas-1-amount", "20")
    page.select_option("#quotas-1-channel", "welfare_post")
    page.check("#quotas-1-groups input[value=monitored]")
    page.check("#quotas-1-groups input[value=disability]")
    shoot(page, f"quotas-form-{language}-{width}")
    page.click("main form button[type=submit]:not([name])")
    expect(page.locator(".quota-list .tag").first).to_be_visible(timeout=180_000)
    tags = page.locator(".quota-list .tag")
    expect(tags).to_have_count(2)
    expect(tags.first).to_have_text("已满足" if language == "zh" else "met")
    scroll = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll <= width
    shoot(page, f"quotas-plan-{language}-{width}")
