"""A form answered in chat, through the chat engine every channel uses (chat_receive), in Vietnamese, English
and Chinese: one question at a time, re-asked with the reason, skip for optional questions, edit to go back,
cancel to leave, resumable, the FAQ bot paused meanwhile."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from oa_platform.collect.models import Dialogue, Response
from oa_platform.conversations.engine import chat_receive
from oa_platform.models import Citizen
from tests import factories
from tests.collect.builders import make_form

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {
        "key": "people",
        "type": "number",
        "label_vi": "Số người trong nhà",
        "label_en": "People in the household",
        "label_zh": "家庭人数",
        "required": True,
        "min": 1,
        "max": 20,
    },
    {
        "key": "damage",
        "type": "choice",
        "label_vi": "Mức thiệt hại",
        "label_en": "Damage",
        "label_zh": "损失程度",
        "required": True,
        "options": [
            {"key": "partial", "label_vi": "Một phần", "label_en": "Partial", "label_zh": "部分"},
            {"key": "total", "label_vi": "Toàn bộ", "label_en": "Total", "label_zh": "全部"},
        ],
    },
    {"key": "since", "type": "date", "label_vi": "Ngày bị ngập", "label_en": "Flooded since", "label_zh": "淹水日期"},
    {
        "key": "injured",
        "type": "yes_no",
        "label_vi": "Có ai bị thương?",
        "label_en": "Anyone injured?",
        "label_zh": "有人受伤吗？",
    },
]


@pytest.fixture
def chat(tenant_a):
    form = make_form(tenant_a.account, key="flood", questions=QUESTIONS)

    def say(text: str, language: str, citizen_id: str = "c1") -> dict:
        citizen = factories.make_citizen(
            external_id=citizen_id, channel=Citizen.CHANNEL_GENERIC, account=tenant_a.account
        )
        return chat_receive(account=tenant_a.account, citizen=citizen, text=text, language=language).payload

    say.form = form
    return say


SCRIPTS = {
    "vi": {
        "start": "biểu mẫu flood",
        "first": "(1/4) Số người trong nhà",
        "range": "từ 1 đến 20",
        "bad_date": "ngày/tháng/năm",
        "skip": "bỏ qua",
        "edit": "sửa",
        "yes": "có",
        "done": "đã được ghi nhận",
        "required": "bắt buộc",
        "cancel": "hủy",
        "cancelled": "Đã dừng biểu mẫu",
    },
    "en": {
        "start": "form flood",
        "first": "(1/4) People in the household",
        "range": "from 1 to 20",
        "bad_date": "day/month/year",
        "skip": "skip",
        "edit": "edit",
        "yes": "yes",
        "done": "have been recorded",
        "required": "required",
        "cancel": "cancel",
        "cancelled": "The form has been stopped",
    },
    "zh-hans": {
        "start": "表单 flood",
        "first": "(1/4) 家庭人数",
        "range": "1 到 20",
        "bad_date": "日/月/年",
        "skip": "跳过",
        "edit": "修改",
        "yes": "是",
        "done": "已记录",
        "required": "必答",
        "cancel": "取消",
        "cancelled": "已停止填写",
    },
}


@pytest.mark.parametrize("language", list(SCRIPTS))
def test_a_form_is_answered_question_by_question_in_three_languages(chat, language):
    s = SCRIPTS[language]
    # given: the citizen starts the form
    reply = chat(s["start"], language)
    assert s["first"] in reply["text"] and reply["form"]["question"] == "people"
    # a number out of range is re-asked with the reason
    reply = chat("50", language)
    assert reply["form"]["question"] == "people" and "20" in reply["text"] and s["first"] in reply["text"]
    # a required question cannot be skipped
    reply = chat(s["skip"], language)
    assert reply["form"]["question"] == "people" and s["required"] in reply["text"]
    assert chat("4", language)["form"]["question"] == "damage"
    # an option by its number; then back with "edit" and by its label
    assert chat("1", language)["form"]["question"] == "since"
    reply = chat(s["edit"], language)
    assert reply["form"]["question"] == "damage"
    label = {"vi": "Toàn bộ", "en": "total", "zh-hans": "全部"}[language]
    assert chat(label, language)["form"]["question"] == "since"
    # a date that is not one is re-asked; an optional question is skipped
    reply = chat("yesterday", language)
    assert reply["form"]["question"] == "since" and s["bad_date"] in reply["text"]
    assert chat(s["skip"], language)["form"]["question"] == "injured"
    reply = chat(s["yes"], language)
    # then: the response is stored once, the dialogue is over
    assert reply["form"]["done"] and s["done"] in reply["text"]
    stored = Response.objects.get()
    assert stored.answers == {"people": 4, "damage": "total", "injured": True}
    assert stored.channel == Response.CHANNEL_CHAT
    assert not Dialogue.objects.exists()


@pytest.mark.parametrize("language", list(SCRIPTS))
def test_cancel_leaves_the_form_and_the_faq_bot_answers_again(chat, language):
    s = SCRIPTS[language]
    chat(s["start"], language)
    reply = chat(s["cancel"], language)
    assert s["cancelled"] in reply["text"]
    assert not Dialogue.objects.exists() and not Response.objects.exists()
    assert "form" not in chat("xin chào", language)


def test_a_dialogue_resumes_after_a_break_and_the_faq_waits_meanwhile(chat):
    chat("biểu mẫu flood", "vi")
    chat("3", "vi")
    # a question the FAQ would answer is read as an answer instead (here: not an option), the form goes on
    reply = chat("thủ tục cấp căn cước", "vi")
    assert reply["form"]["question"] == "damage" and reply["decision"] == "fallback"
    # another citizen meanwhile has no form going
    assert "form" not in chat("xin chào", "vi", citizen_id="c2")
    # later the first one carries on where they stopped
    assert chat("2", "vi")["form"]["question"] == "since"
    assert Dialogue.objects.get().answers == {"people": 3, "damage": "total"}


def test_an_unknown_form_key_is_left_to_the_faq_bot(chat):
    assert "form" not in chat("biểu mẫu does-not-exist", "vi")
    assert not Dialogue.objects.exists()


def test_a_dialogue_survives_the_cache_being_emptied(chat):
    chat("biểu mẫu flood", "vi")
    cache.clear()  # Redis restarted: the account's flag is read again from the database
    assert chat("3", "vi")["form"]["question"] == "damage"


def test_the_web_chat_page_answers_a_form_in_chat(client, tenant_a):
    # given: a citizen on the account's web page (the browser identity), the page in English
    make_form(tenant_a.account, key="flood", questions=QUESTIONS)
    client.get(f"/oa/{tenant_a.account.slug}/")
    client.cookies["django_language"] = "en"
    url = f"/oa/{tenant_a.account.slug}/messages/"

    def say(text: str) -> dict:
        response = client.post(url, {"text": text}, content_type="application/json")
        assert response.status_code == 200, response.content
        return response.json()["reply"]

    # when/then: the form is answered one question at a time on the page
    assert "People in the household" in say("form flood")["text"]
    assert say("0")["form"]["question"] == "people"  # out of range: asked again
    for text in ("2", "2", "skip"):
        say(text)
    assert say("no")["form"]["done"]
    stored = Response.objects.get()
    assert stored.answers == {"people": 2, "damage": "total", "injured": False}
    assert stored.citizen.account is None  # the page's browser identity
