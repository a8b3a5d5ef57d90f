"""One language per page: every role's pages, in Chinese and in English, and every export.

The crawl logs in as each role of the Daning demo (cadre, employer, county office) and as a city and a
province office, follows every same-site link from the navigation, lists and details (a few of each
kind of address), and reads back every XLSX/CSV export. It fails on

- a raw code as visible text (the vocabularies of the model enums, the matcher's job types and skills,
  the audit actions), in pages and in exports;
- on English pages, Chinese text that is not user data (names, places, titles typed by people);
- on Chinese pages, English text that is one of the catalog's msgids (an untranslated UI string).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from enum import Enum
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po
from openpyxl import load_workbook
from sqlalchemy import select

import web.models as models
from matcher.types import JOB_TYPE_LABELS
from seed.demo import DEMO_LOGINS, SKILLS, seed_demo
from tests.conftest import PASSWORD
from web.extensions import db
from web.i18n import SOURCE_DIR
from web.labels import AUDIT_ACTIONS
from web.models import (
    Employer,
    FollowUp,
    HandoverPassenger,
    Household,
    Laborer,
    Opening,
    PickupPoint,
    Placement,
    PostRequest,
    Region,
    RetentionCheckin,
    TransportBatch,
    User,
    Verification,
    WelfarePost,
)
from web.services.accounts import create_user

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
TOKEN = re.compile(r"[A-Za-z][A-Za-z_]*[A-Za-z]|[A-Za-z]")
#: Addresses the crawl never follows (they change state or leave the page's language on purpose).
SKIP = re.compile(r"^/(logout|lang/|api/|static/|health)")
#: How many addresses of one shape (digits replaced) are visited: enough to see each kind of page.
PER_SHAPE = 2
#: Words that are the same in both languages (units, formats, abbreviations).
NEUTRAL = {"ID", "XLSX", "CSV", "GPS", "km", "API", "OpenAPI", "SMS", "QR", "OK", "PDF", "UTC"}


def _codes() -> set[str]:
    """Every stored code a person could be shown raw."""
    codes: set[str] = set()
    for name in dir(models):
        value = getattr(models, name)
        if isinstance(value, type) and issubclass(value, Enum) and value is not Enum:
            codes.update(str(member.value) for member in value)
    codes.update(JOB_TYPE_LABELS)
    codes.update(SKILLS)
    codes.update(AUDIT_ACTIONS)
    return codes


CODES = _codes()
#: Codes that are also plain English words are only a failure on Chinese pages (they are English there).
SNAKE_CODES = {c for c in CODES if "_" in c}


def _msgids() -> set[str]:
    with (SOURCE_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    return {
        str(m.id).strip()
        for m in catalog
        if m.id and isinstance(m.id, str) and "%" not in m.id and re.search(r"[A-Za-z]{3}", m.id)
    }


MSGIDS = _msgids()


class Text(HTMLParser):
    """The visible text of a page (script and style left out), one string per text node, plus the
    words people read in attributes (placeholder, title, aria-label, button values)."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style", "template") or (tag == "a" and attributes.get("lang")):
            self._hidden += 1  # a link in the other language says so (the language switch)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        for name in ("placeholder", "title", "aria-label", "alt"):
            if attributes.get(name):
                self.nodes.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.nodes.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "a") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.nodes.append(data.strip())


def _user_data() -> re.Pattern:
    """Every string people typed or the gazetteer holds: it may be Chinese on an English page."""
    strings: set[str] = set()
    columns = [
        Region.name,
        Household.head_name,
        Household.code,
        Laborer.name,
        Employer.name,
        Employer.contact_name,
        Opening.title,
        Opening.job_type,
        TransportBatch.title,
        TransportBatch.destination,
        TransportBatch.received_by_name,
        HandoverPassenger.reason,
        Placement.end_reason,
        PickupPoint.name,
        WelfarePost.title,
        User.display_name,
        Placement.decline_reason,  # typed by the employer or cadre who declined
        PostRequest.note,  # typed by the cadre who recorded the request
        PostRequest.refusal_reason,  # typed by the office that refused it
        FollowUp.note,
        Verification.note,
        RetentionCheckin.note,
    ]
    for column in columns:
        strings.update(s for s in db.session.scalars(select(column).distinct()) if s and CJK.search(s))
    ordered = sorted(strings, key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in ordered))


class Finder:
    def __init__(self, user_data: re.Pattern) -> None:
        self.user_data = user_data
        self.usernames = set(db.session.scalars(select(User.username)))
        self.problems: list[str] = []

    def check(self, where: str, language: str, texts: list[str]) -> None:
        for text in texts:
            self._check_one(where, language, text)

    def _check_one(self, where: str, language: str, text: str) -> None:
        text = str(text).strip()
        if not text or text in self.usernames:  # a login name is user data (the demo's are 'office', …)
            return
        bare = self.user_data.sub(" ", text)
        tokens = TOKEN.findall(bare)
        raw = [t for t in tokens if t in SNAKE_CODES or (language == "zh" and t in CODES and t not in NEUTRAL)]
        if text in ("M", "F"):
            raw.append(text)
        if raw:
            self.problems.append(f"{where} [{language}] raw code {raw} in {text!r}")
        if language == "en" and CJK.search(bare):
            self.problems.append(f"{where} [en] Chinese UI text {text!r}")
        if language == "zh" and text in MSGIDS and text not in NEUTRAL:
            self.problems.append(f"{where} [zh] untranslated {text!r}")


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _crawl(client, finder: Finder, language: str, role: str) -> int:
    headers = {"Accept-Language": "en" if language == "en" else "zh-CN"}
    seen: set[str] = set()
    shapes: Counter[str] = Counter()
    queue = ["/", "/dashboard", "/reports"]  # the reports are not in every role's navigation
    visited = 0
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, headers=headers)
        visited += 1
        where = f"{role} GET {url}"
        assert response.status_code < 500, where
        if response.status_code in (403, 404) and url in ("/dashboard", "/reports"):
            continue
        if response.status_code in (301, 302, 303):
            queue.append(urlsplit(response.headers["Location"]).path)
            continue
        kind = response.mimetype
        body = response.get_data()
        if kind == "text/html":
            parser = Text()
            parser.feed(body.decode())
            finder.check(where, language, parser.nodes)
            for href in parser.links:
                absolute = urljoin(url, href)
                parts = urlsplit(absolute)
                if parts.netloc or SKIP.match(parts.path) or not parts.path.startswith("/"):
                    continue
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if target in seen or shapes[_shape(target)] >= PER_SHAPE:
                    continue
                shapes[_shape(target)] += 1
                queue.append(target)
        elif kind.endswith("spreadsheetml.sheet"):
            book = load_workbook(io.BytesIO(body), read_only=True)
            cells = [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v]
            finder.check(where + " (xlsx)", "zh", cells)
        elif kind == "text/csv":
            cells = [v for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for v in row if v]
            finder.check(where + " (csv)", "zh", cells)
    return visited


@pytest.fixture
def demo(app, client):
    """The Daning demo, a city and a province office, and a confirmed plan (offers to read)."""
    seed_demo(db.session)
    create_user(db.session, "linfen", PASSWORD, "office", "临汾市人社局", region_code="1410")
    create_user(db.session, "shanxi", PASSWORD, "office", "山西省人社厅", region_code="14")
    carrier = db.session.scalars(select(TransportBatch.employer_id).order_by(TransportBatch.id)).first()
    create_user(db.session, "carrier", PASSWORD, "employer", "输送企业", employer_id=carrier)
    db.session.commit()
    office = next(d for d in DEMO_LOGINS if d.role == "office")
    client.post("/login", data={"username": office.username, "password": office.password})
    started = client.post("/office/plans", data={"region_code": "141030", "mode": "greedy"})
    plan_path = urlsplit(started.headers["Location"]).path
    client.post(plan_path + "/confirm")
    client.post("/logout")
    return {d.username: d.password for d in DEMO_LOGINS} | {"linfen": PASSWORD, "shanxi": PASSWORD, "carrier": PASSWORD}


def test_every_page_and_export_speaks_one_language(app, client, demo):
    finder = Finder(_user_data())
    visited = 0
    for username, password in demo.items():
        for language in ("zh", "en"):
            client.post("/logout")
            client.get("/")  # the goodbye is said in the language it was said in
            client.get(f"/lang/{language}")
            response = client.post("/login", data={"username": username, "password": password})
            assert response.status_code == 302, username
            visited += _crawl(client, finder, language, username)
    assert visited > 100
    problems = sorted(set(finder.problems))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:300])
