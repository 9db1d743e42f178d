"""The citizen pages in Vietnamese (default), English and Chinese from the shipped compiled catalogues."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from oa_platform.models import Citizen
from tests.oa_platform import web_support
from tests.oa_platform.web_support import citizen_client

pytestmark = pytest.mark.django_db
faq_account = web_support.faq_account


def page(client: Client, slug: str, language: str | None) -> str:
    if language:
        client.cookies["django_language"] = language
    return client.get(f"/oa/{slug}/", HTTP_ACCEPT_LANGUAGE="").content.decode()


def script_strings(html: str) -> dict:
    return json.loads(html.split('id="oa-i18n" type="application/json">')[1].split("</script>")[0])


@pytest.mark.parametrize(
    "language, follow, send, settings_tab, topic",
    [
        (None, "Theo dõi", "Gửi", "Cài đặt", "Y tế"),
        ("en", "Follow", "Send", "Settings", "Health"),
        ("zh-hans", "关注", "发送", "设置", "卫生健康"),
    ],
)
def test_page_is_translated(faq_account, language, follow, send, settings_tab, topic):
    html = page(Client(), faq_account.slug, language)
    assert f'<html lang="{language or "vi"}">' in html
    assert f">{send}</button>" in html
    assert settings_tab in html
    assert f"> {topic}</label>" in html
    assert script_strings(html)["follow"] == follow


def test_home_is_translated(faq_account):
    client = Client()
    client.cookies["django_language"] = "en"
    assert "Official Accounts of public agencies" in client.get("/").content.decode()
    client.cookies["django_language"] = "zh-hans"
    assert "政府机关官方账号" in client.get("/").content.decode()


def test_bot_replies_in_the_citizens_language(faq_account):
    # given: a citizen who chose English on the page
    client, cid = citizen_client()
    client.post(f"/oa/{faq_account.slug}/profile/", data={"language": "en"}, content_type="application/json")
    assert Citizen.objects.get(external_id=cid).language == "en"
    # when: the bot's own (non-FAQ) texts are used
    reply = client.post(
        f"/oa/{faq_account.slug}/messages/", data={"text": "qwxz blorp"}, content_type="application/json"
    ).json()["reply"]
    # then
    assert reply["decision"] == "fallback"
    assert reply["text"].startswith("Sorry, I don't have an answer")


def test_language_switch_through_set_language(faq_account):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": f"/oa/{faq_account.slug}/"})
    assert response.status_code == 302 and response["Location"] == f"/oa/{faq_account.slug}/"
    assert ">发送</button>" in client.get(f"/oa/{faq_account.slug}/").content.decode()


def test_the_browser_language_does_not_override_vietnamese_by_default(faq_account):
    html = Client().get(f"/oa/{faq_account.slug}/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="vi">' in html


def test_a_chinese_account_speaks_chinese_until_the_citizen_chooses(db):
    from tests import factories

    account = factories.make_account("gaj-test", default_language="zh-hans")
    assert '<html lang="zh-hans">' in Client().get(f"/oa/{account.slug}/").content.decode()
    client = Client()
    client.cookies["django_language"] = "vi"
    assert '<html lang="vi">' in client.get(f"/oa/{account.slug}/").content.decode()


def test_the_ask_for_a_person_button_is_translated_and_its_command_is_understood(faq_account):
    from faq.intents import detect_intent

    client = Client()
    client.cookies["django_language"] = "en"
    strings = script_strings(client.get(f"/oa/{faq_account.slug}/").content.decode())
    assert strings["human"] == "Talk to a person"
    for language in ("vi", "en", "zh"):
        assert detect_intent(strings["humanCommand"], language=language).kind == "human"
