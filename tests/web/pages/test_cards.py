"""Match cards a cadre reads aloud, offer texts, the match map, and the laborer page after a plan (issue 11)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from tests.conftest import DANING
from web import clock
from web.extensions import db
from web.models import Employer, Placement
from web.services import convert, offers, ranking
from web.services.offer_text import offer_text

KM_PER_DEG_LAT = 111.2


def _departs() -> datetime:
    """A departure at 00:30 UTC ten days on: 08:30 in Beijing."""
    return datetime.combine(clock.today() + timedelta(days=10), time(0, 30), tzinfo=UTC)


def _world(factory):
    """A migrant-willing laborer with an opening, a batch and a welfare post near home."""
    laborer = factory.laborer(
        name="王秀英", birth_on=date(1980, 5, 1), physical_ability="moderate", work_area="any", max_commute_km=10.0
    )
    employer = factory.employer(name="安古村手套扶贫车间", contact_name="李主任", phone="13800001111")
    opening = factory.opening(employer, title="一次性手套分拣包装", pay_type="piece", pay_cents=6000)
    batch = factory.batch(departs_at=_departs(), pay_cents=400000, title="太原电子厂专车")
    term_end_on = clock.today() + timedelta(days=365)
    post = factory.welfare_post(title="安古村保洁员", stipend_cents=80000, term_end_on=term_end_on)
    db.session.commit()
    return laborer, opening, batch, post


def _page(client, laborer, lang="zh"):
    return client.get(f"/cadre/laborers/{laborer.id}", headers={"Accept-Language": lang}).get_data(as_text=True)


def test_a_batch_beyond_the_pickup_limit_is_a_miss_with_its_reason(client, factory, login, api_token):
    laborer = factory.laborer(work_area="migrant", physical_ability="moderate", birth_on=date(1980, 5, 1))
    batch = factory.batch()
    batch.pickup_points[0].lat = DANING[0] + 0.01 + 65 / KM_PER_DEG_LAT  # ~65 km north of the village
    for i in range(6):  # openings just beyond the commute: nearer misses that must not crowd the batch out
        factory.opening(lat=DANING[0] + 0.01 + (10.5 + i) / KM_PER_DEG_LAT, lon=DANING[1] + 0.01)
    cadre = factory.user("cadre")
    db.session.commit()
    config = convert.matcher_config(client.application.config)
    _, result = ranking.matches_for_laborer(db.session, cadre, laborer.id, config, ineligible=5)
    [miss] = [m for m in result.ineligible if m.kind == "batch"]
    assert [r.code for r in miss.reasons] == ["too_far"] and "超过 60 公里" in miss.reasons[0].zh
    body = client.get(f"/api/v1/laborers/{laborer.id}/matches", headers=api_token(cadre)).json
    assert body["matches"] == []
    [api_miss] = [m for m in body["ineligible"] if m["kind"] == "batch"]
    assert api_miss["target_id"] == batch.id and [r["code"] for r in api_miss["reasons"]] == ["too_far"]
    assert 64 < api_miss["distance_km"] < 66


def test_cards_show_pay_hours_start_and_a_batch_departure_in_both_languages(client, factory, login):
    laborer, opening, batch, post = _world(factory)
    login(factory.user("cadre"))
    zh = _page(client, laborer)
    assert opening.title in zh and "安古村手套扶贫车间" in zh
    assert "计件约 60 元/天" in zh and "时间灵活" in zh
    assert opening.start_on.strftime("%Y年%-m月%-d日") in zh
    # The batch: destination, employer, departure in local time, pickup point and its distance.
    assert "太原市" in zh and batch.employer.name in zh and "每月 4,000 元" in zh and "时间固定" in zh
    assert f"{clock.local(batch.departs_at):%Y年%-m月%-d日} 08:30" in zh
    assert re.search(r"上车点1 · 离家 \d+\.\d 公里", zh)
    # The welfare post (a near miss here: the laborer may go away): stipend and term.
    assert "安古村保洁员" in zh and "每月补贴 800 元" in zh and "至" in zh
    assert "李主任 13800001111" in zh  # the employer's contact, for the cadre
    en = _page(client, laborer, "en")
    assert "piece rate, about 60 yuan a day" in en and "flexible hours" in en and "fixed hours" in en
    assert "4,000 yuan a month" in en and "stipend 800 yuan a month" in en
    assert f"{clock.local(batch.departs_at):%B %-d, %Y} 08:30" in en and "Pickup point" in en


def test_reasons_read_as_sentences_with_no_phrase_twice_and_the_score_in_words(client, factory, login):
    laborer = factory.laborer(work_area="local", pay_type="piece", job_types=["packaging"])
    factory.opening()
    login(factory.user("cadre"))
    page = _page(client, laborer)
    [reasons] = re.findall(r'<p class="reasons">([^<]*)</p>', page)
    assert "；" in reasons and "合她心意" in reasons
    phrases = [p.strip() for p in re.split("[；，]", reasons)]
    assert len(phrases) == len(set(phrases)), phrases
    assert re.search(r'<strong class="fit-(good|fair|weak)">(很合适|合适|勉强)</strong>', page)
    meaning = r'<details class="fit-meaning"><summary>“(很合适|合适|勉强)”是什么意思</summary><p>[^<]*满分 1 分'
    assert re.search(meaning, page)


def test_score_words_follow_the_configured_thresholds(app):
    from web.labels import score_words

    with app.test_request_context(headers={"Accept-Language": "zh"}):
        words = [score_words(s)["word"] for s in (0.9, 0.75, 0.6, 0.5, 0.49)]
        assert words == ["很合适", "很合适", "合适", "合适", "勉强"]
        app.config["MATCH_SCORE_GOOD"] = 0.95
        assert score_words(0.9)["word"] == "合适"


def _offer(cadre, laborer, kind, target_id, config):
    return offers.make_offer(db.session, cadre, laborer.id, kind, target_id, config)


def test_offer_texts_for_an_opening_a_batch_and_a_welfare_post(app, factory):
    cadre = factory.user("cadre")
    employer = factory.employer(name="安古村手套扶贫车间", contact_name="李主任", phone="13800001111")
    opening = factory.opening(employer, title="一次性手套分拣包装")
    batch = factory.batch(departs_at=_departs())
    post = factory.welfare_post(title="安古村保洁员", stipend_cents=80000, term_end_on=date(2030, 1, 31))
    config = convert.matcher_config(app.config)
    near = _offer(cadre, factory.laborer(name="王秀英"), "opening", opening.id, config)
    away = _offer(
        cadre,
        factory.laborer(name="张建军", work_area="migrant", physical_ability="moderate", birth_on=date(1985, 1, 2)),
        "batch",
        batch.id,
        config,
    )
    local = _offer(cadre, factory.laborer(name="刘桂兰"), "welfare_post", post.id, config)
    db.session.commit()
    with app.test_request_context():
        zh = offer_text(db.session, cadre, near, "zh")
        assert zh.startswith("王秀英：安古村手套扶贫车间招包装工（一次性手套分拣包装），离家 0.")
        assert "计件约 60 元/天，时间灵活" in zh and "开工" in zh and zh.endswith("联系人：李主任 13800001111。")
        en = offer_text(db.session, cadre, near, "en")
        assert en.startswith("王秀英: 安古村手套扶贫车间 is hiring packaging workers (一次性手套分拣包装), 0.")
        assert "piece rate, about 60 yuan a day, flexible hours, starts" in en
        assert en.endswith("Contact: 李主任 13800001111.")
        batch_zh = offer_text(db.session, cadre, away, "zh")
        assert "张建军：" in batch_zh and "08:30 从上车点1（离家" in batch_zh and "出发去太原市" in batch_zh
        assert "每月 4,000 元" in batch_zh
        batch_en = offer_text(db.session, cadre, away, "en")
        assert "at 08:30 from 上车点1 (" in batch_en and "for 太原市" in batch_en
        post_zh = offer_text(db.session, cadre, local, "zh")
        assert post_zh.startswith("刘桂兰：公益岗位 安古村保洁员（保洁员）") and "每月补贴 800 元" in post_zh
        assert "任期" in post_zh and "2030年1月31日" in post_zh and "联系人" not in post_zh
        post_en = offer_text(db.session, cadre, local, "en")
        assert "stipend 800 yuan a month" in post_en and "January 31, 2030" in post_en
        office = factory.user("office")
        assert "13800001111" not in offer_text(db.session, office, near, "zh")  # the contact is for cadres


def test_offer_text_api_is_scoped_like_the_placement(client, app, factory, api_token):
    cadre = factory.user("cadre")
    config = convert.matcher_config(app.config)
    placement = _offer(cadre, factory.laborer(name="王秀英"), "opening", factory.opening().id, config)
    other = factory.user("cadre", village_codes=["141030100202"])
    employer = factory.user("employer")
    db.session.commit()
    url = f"/api/v1/placements/{placement.id}/text"
    body = client.get(url, headers=api_token(cadre)).json
    assert body["lang"] == "zh" and body["text"].startswith("王秀英：")
    en = client.get(url + "?lang=en", headers=api_token(cadre)).json
    assert en["lang"] == "en" and " is hiring " in en["text"]
    assert client.get(url + "?lang=fr", headers=api_token(cadre)).status_code == 422
    assert client.get(url, headers=api_token(other)).status_code == 404
    assert client.get(f"/api/v1/placements/{placement.id + 99}/text", headers=api_token(cadre)).status_code == 404
    assert client.get(url, headers=api_token(employer)).status_code == 403


def test_the_laborer_page_shows_offer_texts_a_map_and_placement_titles(client, app, factory, login):
    laborer, opening, batch, post = _world(factory)
    cadre = factory.user("cadre")
    login(cadre)
    page = _page(client, laborer)
    marks = page.count('class="map-mark ')
    cards = len(re.findall(r'<li class="card match">', page))
    assert '<svg class="map"' in page and page.count('class="map-ring"') >= 3 and marks == cards > 0
    for ring in ("1 公里", "5 公里", "10 公里"):
        assert f">{ring}</text>" in page
    assert "<script" not in page.split('<svg class="map"')[1].split("</svg>")[0]
    client.post(f"/cadre/laborers/{laborer.id}/offer", data={"kind": "opening", "target_id": opening.id})
    page = _page(client, laborer)
    assert "就近岗位 #" not in page and f"<strong>{opening.title}</strong>" in page
    assert re.search(r"<textarea [^>]*readonly>王秀英：安古村手套扶贫车间招包装工", page)
    en = client.get(f"/cadre/laborers/{laborer.id}?lang=en").get_data(as_text=True)
    assert "王秀英: 安古村手套扶贫车间 is hiring" in en


def test_rematch_only_for_working_laborers_and_the_home_counts_offers_and_answers(client, app, factory, login):
    laborer, opening, batch, post = _world(factory)
    cadre = factory.user("cadre")
    login(cadre)
    home = client.get("/cadre/").get_data(as_text=True)
    assert "<strong>0</strong> 近 7 天发出的推荐" in home and "<strong>0</strong> 近 7 天的答复" in home
    client.post(f"/cadre/laborers/{laborer.id}/offer", data={"kind": "opening", "target_id": opening.id})
    page = _page(client, laborer)
    assert "最合适的工作" in page and "虽已就业，仍重新匹配" not in page  # offered, still seeking
    placement = db.session.scalar(select(Placement))
    home = client.get("/cadre/").get_data(as_text=True)
    assert "<strong>1</strong> 近 7 天发出的推荐" in home and opening.title in home
    assert client.post(f"/cadre/placements/{placement.id}/to/accepted").status_code == 302
    home = client.get("/cadre/").get_data(as_text=True)
    assert "<strong>1</strong> 近 7 天的答复" in home
    page = _page(client, laborer)
    assert "虽已就业，仍重新匹配" in page
    # Holding an accepted job: no new offer unless re-matching is asked for (services.offers).
    response = client.post(f"/cadre/laborers/{laborer.id}/offer", data={"kind": "welfare_post", "target_id": post.id})
    assert response.status_code == 302 and db.session.scalar(select(db.func.count()).select_from(Placement)) == 1


def test_an_employer_sees_its_candidates_on_a_map_at_their_village_with_the_score_in_words(client, factory, login):
    employer_user = factory.user("employer")
    opening = factory.opening(db.session.get(Employer, employer_user.employer_id))
    # Two candidates whose homes lie apart from their village's point: the map shows the village only.
    for lat in (DANING[0] + 0.03, DANING[0] + 0.05):
        factory.laborer(lat=lat, lon=DANING[1] + 0.01)
    login(employer_user)
    page = client.get(f"/employer/openings/{opening.id}").get_data(as_text=True)
    svg = page.split('<svg class="map"')[1].split("</svg>")[0]
    assert svg.count('class="map-mark map-laborer"') == 2 == len(re.findall(r"<li class=\"card\">", page))
    circles = re.findall(
        r'<g class="map-mark map-laborer"><title>[^<]*</title><circle cx="([\d.]+)" cy="([\d.]+)"', svg
    )
    assert len(set(circles)) == 1  # both at the one village point, not at their homes
    assert re.search(r'<strong class="fit-(good|fair|weak)">(很合适|合适|勉强)</strong>', page)
    assert "得分 0." not in page
