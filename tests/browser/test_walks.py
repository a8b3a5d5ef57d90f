"""Each role's pages walked in a real Chromium, in Chinese and in English, at 360 and 1280 px.

On every page of the walk (the role's home, its lists and the first record of each list), the text
Chromium renders is read as a person would see it and judged by the language crawl's rules (no raw
code, no other-language UI text); at 360 px it must also lay out as a phone needs (nothing scrolls
sideways, nothing narrower than three characters, buttons on one line). Screenshots of every page
are kept under test-output/screenshots/walk-*.png.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest

from tests.browser.test_pages import browser, live_server, page_for, shoot  # noqa: F401  (fixtures)
from tests.browser.test_phones import LAYOUT_PROBLEMS, LISTS
from tests.web.pages.test_language_crawl import Finder, _user_data

pytestmark = pytest.mark.browser

LOCALES = {"zh": "zh-CN", "en": "en-US"}  # what the browser asks for
HTML_LANG = {"zh": "zh-CN", "en": "en"}  # what the page says it is in
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


#: The text a person reads on the page, leaving out what is marked as in another language (the
#: language switch, ``<a lang="zh">中文</a>``).
SHOWN_TEXT = """() => {
  const other = [...document.querySelectorAll('body [lang]')];
  other.forEach((el) => (el.hidden = true));
  const text = document.body.innerText;
  other.forEach((el) => (el.hidden = false));
  return text;
}"""


@pytest.fixture(scope="module")
def finder(live_server):  # noqa: F811
    with live_server["app"].app_context():
        return Finder(_user_data())


def _first_record(page, base: str, path: str) -> str | None:
    """The first link of a list's table that opens one record of it (a path ending in a number)."""
    for href in page.locator("main table a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        parts = urlsplit(href)
        if not parts.netloc and re.search(r"/\d+$", parts.path) and parts.path.startswith(path.rsplit("/", 1)[0]):
            return base + parts.path
    return None


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("role", list(LISTS))
def test_a_role_walks_its_pages_in_one_language(page_for, live_server, finder, role, language, width):  # noqa: F811
    base = live_server["url"]
    page = page_for(role, width, 900 if width > 360 else 760, locale=LOCALES[language])
    page.goto(f"{base}/lang/{language}")
    walk = [f"/{role}/", *LISTS[role]]
    records: list[str] = []
    problems: dict[str, list[str]] = {}
    queue = list(walk)
    for path in queue:  # the records found on the lists join the walk as it goes
        page.goto(base + path)
        assert page.locator("html").get_attribute("lang") == HTML_LANG[language], path
        shoot(page, f"walk-{role}-{language}-{width}-{path.strip('/').replace('/', '-') or 'home'}")
        found = page.evaluate(LAYOUT_PROBLEMS) if width == 360 else []
        before = len(finder.problems)
        finder.check(f"{role} {path}", language, re.split(r"[\t\n]", page.evaluate(SHOWN_TEXT)))  # cells, lines
        found += finder.problems[before:]
        if found:
            problems[path] = found[:6]
        if path in LISTS[role] and len(records) < 4:
            record = _first_record(page, base, path)
            if record and urlsplit(record).path not in queue:
                records.append(urlsplit(record).path)
                queue.append(urlsplit(record).path)
    assert len(walk) + len(records) >= 4
    assert problems == {}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_import_preview_on_a_phone(page_for, live_server, finder, language):  # noqa: F811
    """The cadre's own template, with one more row that breaks three rules, checked before anything is saved."""
    from openpyxl import load_workbook

    base = live_server["url"]
    page = page_for("cadre", locale=LOCALES[language])
    page.goto(f"{base}/lang/{language}")
    template = page.request.get(f"{base}/cadre/import/template.xlsx")
    assert template.ok
    book = load_workbook(io.BytesIO(template.body()))
    sheet = book.worksheets[0]
    example = [cell.value for cell in sheet[2]]
    headers = [cell.value for cell in sheet[1]]
    bad = dict(zip(headers, example, strict=True)) | {
        "身份证号": "14103019620308002Y",
        "手机号": "12345",
        "劳动能力": "超人",
    }
    sheet.append([bad[h] for h in headers])
    out = io.BytesIO()
    book.save(out)
    page.goto(f"{base}/cadre/import")
    page.set_input_files(
        "input[type=file]", files=[{"name": "laborers.xlsx", "mimeType": XLSX, "buffer": out.getvalue()}]
    )
    page.click("main form button[type=submit]")
    errors = page.locator("ul.errors li")
    assert errors.count() == 1  # the example row is valid; the other row's three errors are said at once
    assert errors.first.inner_text().count("—") == 3
    shoot(page, f"walk-cadre-{language}-360-import-preview")
    if language == "zh":
        before = len(finder.problems)
        finder.check("cadre import preview", language, re.split(r"[\t\n]", page.evaluate(SHOWN_TEXT)))
        assert finder.problems[before:] == []
