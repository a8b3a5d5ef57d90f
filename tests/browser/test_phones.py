"""Phones and weak links (issue 11, part 8) in a real Chromium at 360 px, in Chinese: the main lists
become cards with nothing narrower than three characters and nothing scrolling sideways, buttons
keep their words on one line, filter labels sit with their controls; and a throttled repeat visit
to a cadre's laborer page is measured (printed and written to test-output/throttled.txt, not asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.test_pages import browser, live_server, page_for, shoot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"

#: The lists each role reads on a phone.
LISTS = {
    "cadre": [
        "/cadre/laborers",
        "/cadre/households",
        "/cadre/placements",
        "/reports",
        "/reports/households-without-work",
    ],
    "employer": ["/employer/openings", "/employer/batches", "/employer/placements"],
    "office": [
        "/office/plans",
        "/office/without-work",
        "/office/welfare-posts",
        "/office/workshops",
        "/office/placements",
        "/office/audit",
        "/dashboard",
        "/reports/workshop-recognition",
        "/office/learning",
    ],
}

#: What breaks a phone layout: returns a list of complaints (empty when the page is fine).
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
  };
  const what = (el) => `${el.tagName.toLowerCase()} “${el.textContent.trim().slice(0, 24)}”`;
  if (document.scrollingElement.scrollWidth > innerWidth) {
    problems.push(`scrolls sideways: ${document.scrollingElement.scrollWidth} > ${innerWidth}`);
  }
  for (const el of document.querySelectorAll('main td, button, .button')) {
    if (!visible(el) || !el.textContent.trim()) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    const width = el.getBoundingClientRect().width;
    if (width < 3 * size) problems.push(`${what(el)} is ${width.toFixed(0)} px wide, under 3 × ${size} px`);
    if (el.getBoundingClientRect().right > innerWidth + 1) problems.push(`${what(el)} runs off the screen`);
  }
  for (const el of document.querySelectorAll('button, .button')) {
    if (!visible(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (tops.size > 1) problems.push(`${what(el)} wraps onto ${tops.size} lines`);
  }
  // A card's column name beside its value: the cell must be tall enough for the name as it wraps.
  for (const td of document.querySelectorAll('main table.list td[data-label]')) {
    const name = getComputedStyle(td, '::before');
    if (!visible(td) || name.content === 'none' || !td.dataset.label) continue;
    const probe = document.createElement('div');
    probe.textContent = td.dataset.label;
    Object.assign(probe.style, {
      position: 'absolute', visibility: 'hidden', width: name.width, fontSize: name.fontSize,
      lineHeight: name.lineHeight, fontFamily: name.fontFamily, overflowWrap: 'anywhere',
    });
    document.body.appendChild(probe);
    const needed = probe.getBoundingClientRect().height;
    probe.remove();
    const style = getComputedStyle(td);
    const room = td.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    if (needed > room + 1) {
      problems.push(`the name “${td.dataset.label}” runs out of its cell (${needed.toFixed(0)} > ${room.toFixed(0)})`);
    }
  }
  for (const label of document.querySelectorAll('form.filters label[for]')) {
    const control = document.getElementById(label.htmlFor);
    if (!control || !visible(label)) continue;
    const a = label.getBoundingClientRect();
    const gap = (b) =>
      Math.max(0, b.left - a.right, a.left - b.right) + Math.max(0, b.top - a.bottom, a.top - b.bottom);
    const own = gap(control.getBoundingClientRect());
    const size = parseFloat(getComputedStyle(label).fontSize);
    if (own > 1.5 * size) problems.push(`label “${label.textContent.trim()}” is ${own.toFixed(0)} px from its control`);
    const form = label.closest('form');
    for (const other of form.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (other !== control && visible(other) && gap(other.getBoundingClientRect()) < own) {
        problems.push(`label “${label.textContent.trim()}” sits nearer to #${other.id} than to its own control`);
      }
    }
  }
  return problems;
}"""


@pytest.mark.parametrize("role", list(LISTS))
def test_lists_read_as_cards_on_a_360px_phone(page_for, live_server, role):  # noqa: F811
    page = page_for(role)
    if role == "office":
        # A workshop marked resumed offers the longest button of all: 取消复工标记.
        page.goto(live_server["url"] + "/office/workshops")
        if not page.locator("button:has-text('取消复工标记')").count():
            page.locator("td button").first.click()
        assert page.locator("button:has-text('取消复工标记')").count() >= 1
    complaints = {}
    for path in LISTS[role]:
        page.goto(live_server["url"] + path)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        shoot(page, f"phone-{path.strip('/').replace('/', '-')}-360")
        found = page.evaluate(LAYOUT_PROBLEMS)
        if found:
            complaints[path] = found[:8]
        cells = page.locator("table.list td[data-label]:nth-child(2)")
        if cells.count():
            # A card: the first cell heads it, the others carry their column's name; the header row is out of sight.
            assert page.locator("table.list thead").first.bounding_box()["height"] <= 1
            label = cells.first.evaluate("td => getComputedStyle(td, '::before').content")
            assert label.strip('"') == cells.first.get_attribute("data-label")
    assert complaints == {}


def test_the_same_lists_stay_tables_on_a_wide_screen(page_for, live_server):  # noqa: F811
    page = page_for("cadre", 1280, 900)
    page.goto(live_server["url"] + "/cadre/laborers")
    head = page.locator("table.list thead th").first
    assert head.is_visible() and head.bounding_box()["height"] > 10
    assert page.evaluate(LAYOUT_PROBLEMS) == []


def test_the_cadre_searches_by_the_last_four_of_an_id_on_a_phone(page_for, live_server):  # noqa: F811
    page = page_for("cadre")
    page.goto(live_server["url"] + "/cadre/laborers")
    first = page.locator("table.list tbody td a").first
    name = first.inner_text()
    first.click()
    number = page.locator("dl.facts dd").filter(has_text="*").count()  # a record shows the full number
    assert number == 0
    id_number = page.locator("dl.facts").inner_text()
    digits = next(word for word in id_number.split() if len(word) == 18)
    page.goto(live_server["url"] + "/cadre/laborers")
    page.fill("#f-q", digits[-4:])
    page.click("form.filters button[type=submit]")
    assert name in page.locator("table.list tbody").inner_text()
    shoot(page, "phone-cadre-search-360")


@pytest.mark.parametrize("role", list(LISTS))
def test_the_navigation_takes_one_line_on_a_phone_and_opens_from_its_menu_button(page_for, live_server, role):  # noqa: F811
    """At 360 px the bar shows the language, the messages and 菜单; the other links open below it."""
    page = page_for(role)
    bar = page.locator("header.top")
    links = page.locator("header.top nav a:visible, header.top nav button:visible")
    assert bar.bounding_box()["height"] <= 60
    assert sorted(links.all_inner_texts()) == sorted(["English", page.locator(".inbox-link").inner_text()])
    menu = page.locator("label.menu-button")
    assert menu.inner_text() == "菜单"
    menu.click()
    shoot(page, f"phone-{role}-menu-open-360")
    opened = links.all_inner_texts()
    assert len(opened) >= 6 and "退出" in opened  # the role's pages, the user's name and 退出
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    page.locator("header.top nav a", has_text="首页").click()
    assert page.url == f"{live_server['url']}/{role}/"
    # The keyboard opens it too: the checkbox behind the button takes the focus and Space.
    page.focus("#menu-open")
    page.keyboard.press("Space")
    assert links.count() == len(opened)


def test_the_navigation_shows_every_link_and_no_menu_button_on_a_wide_screen(page_for, live_server):  # noqa: F811
    page = page_for("office", 1280, 900)
    assert not page.locator("label.menu-button").is_visible()
    assert page.locator("header.top nav a:visible").count() >= 12


def test_print_hides_the_navigation_buttons_and_forms(page_for, live_server):  # noqa: F811
    page = page_for("cadre", 1280, 900)
    page.goto(live_server["url"] + "/cadre/laborers")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator("form.filters").is_visible()
    assert page.locator("table.list thead th").first.is_visible()
    page.emulate_media(media="screen")
    assert page.locator("header.top").is_visible()


def test_measure_a_throttled_repeat_visit_to_a_laborer_page(page_for, live_server):  # noqa: F811
    """400 kbps down and up, 400 ms round trips: the first visit warms the cache, the second is timed."""
    page = page_for("cadre")
    page.goto(live_server["url"] + "/cadre/laborers")
    url = live_server["url"] + page.locator("table.list tbody td a").first.get_attribute("href")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8},
    )
    timing = "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"
    fetched = "() => performance.getEntriesByType('resource').filter(r => r.transferSize > 0).map(r => r.name)"
    cdp.send("Network.clearBrowserCache")  # the first visit is a cold one: the stylesheet comes down too
    page.goto(url, wait_until="load")
    first_ms = page.evaluate(timing)
    page.goto(url, wait_until="load")
    repeat_ms = page.evaluate(timing)
    refetched = page.evaluate(fetched)
    html_bytes = page.evaluate("() => performance.getEntriesByType('navigation')[0].transferSize")
    report = (
        f"cadre laborer page, Chromium at 360 px, CDP throttling 400 kbps down/up, 400 ms RTT\n"
        f"first visit (cold cache): {first_ms / 1000:.2f} s to load\n"
        f"repeat visit: {repeat_ms / 1000:.2f} s to load; page {html_bytes} bytes on the wire; "
        f"static files fetched again: {len(refetched)}\n"
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "throttled.txt").write_text(report)
    print(report)
    assert refetched == []  # hashed, immutable: the stylesheet and scripts come from the cache
