"""The "use my location" button speaks the page's language, whatever the browser's error text says
(Chromium's own is English: "User denied Geolocation")."""

from __future__ import annotations

import pytest

from tests.browser.test_pages import browser, live_server, page_for  # noqa: F401  (the shared fixtures)

pytestmark = pytest.mark.browser

from playwright.sync_api import expect  # noqa: E402


@pytest.mark.parametrize(
    ("lang", "refused"),
    [("zh", "无法定位：未获准使用位置；将使用村的位置。"), ("en", "permission was refused")],
)
def test_a_refused_position_is_said_in_the_pages_language(page_for, live_server, lang, refused):  # noqa: F811
    page = page_for("cadre", locale="zh-CN")
    page.goto(f"{live_server['url']}/lang/{lang}")
    page.goto(f"{live_server['url']}/cadre/households/new")
    page.click("[data-geo-button]")
    status = page.locator("[data-geo-status]")
    expect(status).to_contain_text(refused)
    assert "User denied" not in status.inner_text()
