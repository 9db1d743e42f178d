"""The bot speaks the citizen's language: every text it writes (greeting, thanks, help, suggest, fallback,
hand-off inside and outside staff hours) comes from the vi / en / zh-hans catalogues, chosen by the citizen's
language, else the account's; the hand-off hint names the phrase of the reply's language.

The accounts are the shipped sample corpus: congan-hcm (vi), gov-services-en (en), gaj-sz (zh-hans). The
clock is frozen inside or outside the accounts' staff hours (Monday to Friday 07:30-17:00, Ho Chi Minh City).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from faq import index
from faq.intents import detect_intent
from faq.services import faq_match
from oa_platform.conversations.engine import chat_receive, handoff_command
from oa_platform.models import Citizen, Conversation, OfficialAccount
from tests import factories
from tests.oa_platform.web_support import citizen_client

pytestmark = pytest.mark.django_db
CORPUS = Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"
HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
IN_HOURS = dt.datetime(2026, 12, 7, 10, 0, tzinfo=HCM)  # a Monday, 10:00
OUT_OF_HOURS = dt.datetime(2026, 12, 5, 10, 0, tzinfo=HCM)  # a Saturday

VI_LETTERS = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
LATIN = re.compile(r"[A-Za-z]")

SLUG = {"vi": "congan-hcm", "en": "gov-services-en", "zh-hans": "gaj-sz"}
# What a citizen of each language types for each kind of exchange.
SAY = {
    "greeting": {"vi": "xin chào", "en": "hello", "zh-hans": "你好"},
    "thanks": {"vi": "cảm ơn", "en": "thanks", "zh-hans": "谢谢"},
    "help": {"vi": "hướng dẫn", "en": "help", "zh-hans": "帮助"},
    "fallback": {"vi": "qwxz blorp", "en": "qwxz blorp", "zh-hans": "qwxz blorp"},
    "handoff": {"vi": "gặp nhân viên", "en": "talk to staff", "zh-hans": "人工客服"},
}
# Short questions of which at least one gets "did you mean ..." suggestions from the account's FAQ.
VAGUE = {"vi": ("thẻ", "hồ sơ", "xe"), "en": ("fee", "how", "card"), "zh-hans": ("身份证", "办理", "护照")}


def vietnamese_letters(text: str) -> set[str]:
    return VI_LETTERS & set(text.lower())


def assert_in_language(text: str, language: str) -> None:
    assert text.strip()
    if language == "en":
        assert not vietnamese_letters(text), text
        assert not CJK.search(text), text
    elif language == "zh-hans":
        assert CJK.search(text), text
        assert not LATIN.search(text), text  # no "gặp nhân viên", no "talk to staff", no English or Vietnamese
    else:
        assert vietnamese_letters(text), text
        assert not CJK.search(text), text
        assert not re.search(r"\b(Sorry|Type|staff|You|Hello|Glad|Did you mean)\b", text), text


@pytest.fixture
def corpus(db):
    index.index_forget()
    call_command("import_faqs", str(CORPUS), verbosity=0)
    yield {language: OfficialAccount.objects.get(slug=slug) for language, slug in SLUG.items()}
    index.index_forget()


_citizens = iter(range(10**6))


def api_reply(account, text: str, language: str | None = None) -> dict:
    token = factories.make_token(account)
    body = {"citizen_id": f"api-{next(_citizens)}", "text": text}
    if language:
        body["language"] = language
    response = Client().post(
        f"/api/v1/accounts/{account.slug}/messages/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 200, response.content
    return response.json()["reply"]


def web_reply(account, text: str, cookie_language: str | None = None, client: Client | None = None) -> dict:
    if client is None:
        client, _cid = citizen_client()
    if cookie_language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie_language
    response = client.post(f"/oa/{account.slug}/messages/", data={"text": text}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["reply"]


CHANNELS = {"api": api_reply, "web": web_reply}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", SLUG)
@pytest.mark.parametrize("kind", ["greeting", "thanks", "help", "fallback"])
def test_small_talk_and_fallback_are_in_the_accounts_language(corpus, channel, language, kind):
    # given: a new citizen who never chose a language, on the account of that language
    account = corpus[language]
    # when
    with time_machine.travel(IN_HOURS, tick=False):
        reply = CHANNELS[channel](account, SAY[kind][language])
    # then
    assert reply["decision"] == "fallback"
    assert_in_language(reply["text"], language)
    if kind in ("help", "fallback"):
        # the hint names the hand-off phrase of the reply's language, and that phrase asks for a person
        phrase = handoff_command(language)
        assert phrase in reply["text"]
        assert detect_intent(phrase, language=account.language).kind == "human"


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", SLUG)
def test_suggestions_are_introduced_in_the_accounts_language(corpus, channel, language):
    account = corpus[language]
    vague = next((t for t in VAGUE[language] if faq_match(account=account, text=t).decision == "suggest"), None)
    assert vague is not None, "precondition: one of the vague questions gets suggestions"
    with time_machine.travel(IN_HOURS, tick=False):
        reply = CHANNELS[channel](account, vague)
    assert reply["decision"] == "suggest" and reply["suggestions"]
    assert_in_language(reply["text"], language)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", SLUG)
@pytest.mark.parametrize("when", [IN_HOURS, OUT_OF_HOURS], ids=["in-hours", "out-of-hours"])
def test_handoff_is_in_the_accounts_language(corpus, channel, language, when):
    account = corpus[language]
    with time_machine.travel(when, tick=False):
        reply = CHANNELS[channel](account, SAY["handoff"][language])
    assert reply["intent"] == "human"
    assert_in_language(reply["text"], language)
    assert ("07:30" in reply["text"]) is (when == OUT_OF_HOURS)  # outside staff hours: when staff answer
    assert Conversation.objects.filter(account=account, status=Conversation.STATUS_WAITING).count() == 1


def test_the_citizens_language_wins_over_the_accounts(corpus):
    vietnamese, english = corpus["vi"], corpus["en"]
    with time_machine.travel(IN_HOURS, tick=False):
        # an integration that says the citizen reads English, on the Vietnamese account
        reply = api_reply(vietnamese, SAY["fallback"]["en"], language="en")
        assert reply["text"].startswith("Sorry") and handoff_command("en") in reply["text"]
        # a citizen who chose Chinese on the page (the language cookie), on the English account
        reply = web_reply(english, SAY["greeting"]["en"], cookie_language="zh-hans")
        assert_in_language(reply["text"].replace(english.name, ""), "zh-hans")  # the name is the account's own


def test_a_web_citizen_met_on_a_vietnamese_page_gets_english_on_the_english_page(corpus):
    # given: a browser that first wrote on the Vietnamese account's page (its citizen was stored as "vi")
    client, cid = citizen_client()
    with time_machine.travel(IN_HOURS, tick=False):
        web_reply(corpus["vi"], SAY["greeting"]["vi"], client=client)
        assert Citizen.objects.get(external_id=cid).language == "vi"
        # when: the same browser writes on the English account's page, which is shown in English
        reply = web_reply(corpus["en"], SAY["fallback"]["en"], client=client)
    # then: the bot answers in the page's language
    assert_in_language(reply["text"], "en")


def test_a_new_citizen_without_a_language_takes_the_accounts(corpus):
    for account in corpus.values():
        api_reply(account, "hello")
    languages = dict(Citizen.objects.values_list("conversations__account__slug", "language"))
    assert languages == {slug: language for language, slug in SLUG.items()}


def test_the_welcome_message_is_only_shown_in_its_own_language(corpus):
    # given: a Vietnamese welcome message on the Vietnamese account
    account = corpus["vi"]
    account.welcome_message = "Chào mừng bạn đến với Công an Thành phố!"
    account.save(update_fields=["welcome_message"])
    vietnamese = factories.make_citizen(language="vi")
    english = factories.make_citizen(language="en")
    # when / then: a Vietnamese reader gets it, an English reader the translated greeting
    assert chat_receive(account=account, citizen=vietnamese, text="xin chào").payload["text"] == (
        account.welcome_message
    )
    text = chat_receive(account=account, citizen=english, text="hello").payload["text"]
    assert text.startswith("Hello!") and account.name in text


@pytest.mark.parametrize("language", SLUG)
def test_the_page_and_its_ask_for_a_person_button_speak_the_accounts_language(corpus, language):
    account = corpus[language]
    html = Client().get(f"/oa/{account.slug}/").content.decode()
    welcome = html.split('class="msg out bot welcome">')[1].split("</li>")[0]
    assert_in_language(welcome.replace(account.name, ""), language)
    strings = json.loads(html.split('id="oa-i18n" type="application/json">')[1].split("</script>")[0])
    assert strings["humanCommand"] == handoff_command(language)
    assert_in_language(strings["human"], language)


def test_every_hand_off_phrase_asks_for_a_person():
    for language in ("vi", "en", "zh", "zh-hans"):
        phrase = handoff_command(language)
        assert detect_intent(phrase, language=language[:2]).kind == "human", phrase
    assert handoff_command("en") != handoff_command("vi") != handoff_command("zh-hans")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
async def test_the_live_chat_socket_answers_a_new_citizen_in_the_accounts_language(corpus, language):
    from channels.db import database_sync_to_async

    from oa_platform import web_identity
    from tests.oa_platform.test_consumers import ask, connected

    # given: a browser that opened the account's page (no language chosen) and has no citizen row yet
    account = corpus[language]
    comm = await connected(account.slug, web_identity.new_cid())
    # when
    with time_machine.travel(IN_HOURS, tick=False):
        greeting = (await ask(comm, SAY["greeting"][language], ref="g"))["reply"]
        fallback = (await ask(comm, SAY["fallback"][language], ref="f"))["reply"]
    await comm.disconnect()
    # then
    assert_in_language(greeting["text"].replace(account.name, ""), language)
    assert_in_language(fallback["text"], language)
    assert handoff_command(language) in fallback["text"]
    citizen = await database_sync_to_async(lambda: Citizen.objects.get(conversations__account=account))()
    assert citizen.language == language
