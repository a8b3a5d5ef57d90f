"""Languages: Chinese by default, English by browser or one click, catalogs compiled at start."""

from __future__ import annotations

from web.i18n import compile_catalogs


def test_chinese_by_default_and_english_one_click_away(client, factory, login):
    login(factory.user("cadre"))
    assert "登记新户" in client.get("/cadre/").get_data(as_text=True)
    assert "Register a household" in client.get("/cadre/", headers={"Accept-Language": "en-US,en"}).get_data(
        as_text=True
    )
    client.get("/lang/en")
    assert "Register a household" in client.get("/cadre/").get_data(as_text=True)
    client.get("/lang/zh")
    assert "登记新户" in client.get("/cadre/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_validation_messages_are_translated(client, factory, login):
    login(factory.user("cadre"))
    assert client.get("/cadre/check-id?value=123").json["error"] == "必须是 18 位"


def test_catalogs_compile_into_the_instance_folder(app, tmp_path):
    app.instance_path = str(tmp_path)
    target = compile_catalogs(app)
    assert (target / "zh" / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == str(target)


def test_select_options_follow_the_page_language(client, factory):
    """Choices are built at import time; their names must still be in the request's language."""
    from tests.conftest import PASSWORD

    cadre = factory.user("cadre")
    from web.extensions import db

    db.session.commit()
    client.post("/login", data={"username": cadre.username, "password": PASSWORD})
    page = client.get("/cadre/laborers/new").get_data(as_text=True)
    assert ">轻体力<" in page and ">light<" not in page
