"""Reviewing a plan in a real browser (issue 14, part 7): filter, take a proposal out, read the change log;
screenshots at 360 and 1280 px in Chinese and English (test-output/screenshots/plan-review-*.png)."""

from __future__ import annotations

import pytest

from .test_pages import SHOTS, browser, expect, live_server, page_for, shoot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_office_reviews_a_plan_before_confirming(page_for):  # noqa: F811
    page = page_for("office", 1280, 900)
    page.click("header >> text=匹配方案")
    page.select_option("#mode", "optimal")
    page.click("button:has-text('运行方案')")
    expect(page.locator("h1")).to_contain_text("已完成", timeout=30_000)
    plan_url = page.url.split("?")[0]
    first = page.locator("#f-village option").nth(1).get_attribute("value")
    page.select_option("#f-village", first)
    page.click("form.filters button[type=submit]")
    expect(page.locator("ol.cards > li.card").first).to_be_visible()
    assert f"village={first}" in page.url
    shoot(page, "plan-review-zh-1280")
    before = page.locator("ol.cards > li.card").count()
    card = page.locator("ol.cards > li.card").first
    card.locator("summary").click()
    card.locator("input[name=note]").last.fill("外出务工了")
    card.locator("button:has-text('移出方案')").click()
    expect(page.locator(".flash.success").first).to_contain_text("移出方案")
    assert page.locator("ol.cards > li.card").count() == before - 1 or before == 1
    expect(page.locator("ol.plan-changes")).to_contain_text("外出务工了")
    for width, height, locale, name in [(360, 760, "zh-CN", "zh-360"), (360, 760, "en-US", "en-360")]:
        small = page_for("office", width, height, locale=locale)
        small.goto(plan_url)  # the browser's language picks the page's (Accept-Language)
        small.locator("ol.cards > li.card summary").first.click()
        shoot(small, f"plan-review-{name}")
        small.locator("#proposals").scroll_into_view_if_needed()
        small.screenshot(path=str(SHOTS / f"plan-review-{name}-proposals.png"))  # the screen a phone shows
        small.locator("ol.cards > li.card").first.screenshot(path=str(SHOTS / f"plan-review-{name}-card.png"))
        wide_ones = small.evaluate(
            "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
            ".map(e => e.tagName + '.' + e.className + ' ' + (e.id || ''))"
        )
        assert small.evaluate("document.documentElement.scrollWidth") <= width + 1, wide_ones[:8]
    wide = page_for("office", 1280, 900, locale="en-US")
    wide.goto(plan_url)
    expect(wide.locator("#changes")).to_contain_text("Changes made while reviewing")
    shoot(wide, "plan-review-en-1280")
    wide.screenshot(path=str(SHOTS / "plan-review-en-1280-top.png"))
