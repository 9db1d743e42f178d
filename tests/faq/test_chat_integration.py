"""The chat API end to end with the FAQ: answer, suggest/fallback, unanswered logging, same decision as ``ask``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from faq.models import UnansweredQuestion
from faq.services import answer_feedback, faq_entry_update
from oa_platform.models import Message

pytestmark = pytest.mark.django_db


def post(api_client, tenant, text, citizen="cit-1"):
    url = f"/api/v1/accounts/{tenant.account.slug}/messages/"
    return api_client.post(
        url, {"citizen_id": citizen, "text": text}, format="json", HTTP_AUTHORIZATION=f"Token {tenant.token}"
    )


def test_faq_question_gets_the_answer(api_client, tenant_a, faqs_a):
    response = post(api_client, tenant_a, "ad ơi cho em hỏi làm căn cước công dân lần đầu như thế nào ạ")
    assert response.status_code == 200
    reply = response.json()["reply"]
    assert (reply["decision"], reply["faq"]) == ("answer", "cccd-cap-lan-dau")
    assert reply["text"].startswith("Mang giấy khai sinh")
    assert not UnansweredQuestion.objects.exists()


def test_unknown_question_falls_back_and_is_logged(api_client, tenant_a, faqs_a):
    for citizen in ("c1", "c2"):
        response = post(api_client, tenant_a, "Lịch cắt điện khu phố tuần này thế nào?", citizen=citizen)
        assert response.status_code == 200
        reply = response.json()["reply"]
        assert reply["decision"] in ("suggest", "fallback")
        assert reply["decision"] != "answer"
    item = UnansweredQuestion.objects.get(account=tenant_a.account)
    assert item.count == 2
    assert item.decision == reply["decision"]


def test_fallback_lists_topics(api_client, tenant_a, faqs_a):
    faq_entry_update(entry=faqs_a[0], category="Căn cước")
    response = post(api_client, tenant_a, "zzzz qqqq xxxx")
    reply = response.json()["reply"]
    assert reply["decision"] == "fallback"
    assert reply["faq"] is None
    assert "Căn cước" in reply["text"]
    assert UnansweredQuestion.objects.filter(account=tenant_a.account, decision="fallback").count() == 1


def test_other_tenants_faq_is_never_answered(api_client, tenant_a, tenant_b, faqs_a, faqs_b):
    reply = post(api_client, tenant_a, "Đăng ký tạm trú như thế nào?").json()["reply"]
    assert reply["faq"] != "dang-ky-tam-tru"
    assert all(s["faq"] != "dang-ky-tam-tru" for s in reply["suggestions"])
    reply = post(api_client, tenant_b, "Đăng ký tạm trú như thế nào?").json()["reply"]
    assert (reply["decision"], reply["faq"]) == ("answer", "dang-ky-tam-tru")


def test_api_and_ask_give_the_same_decision(api_client, tenant_a, faqs_a):
    questions = ["mat bang lai xe lam lai o dau", "cho bé đi tiêm ở đâu vậy ad", "thời tiết mai sao", "cảm ơn"]
    out = io.StringIO()
    call_command("ask", tenant_a.account.slug, stdin=io.StringIO("\n".join(questions)), stdout=out)
    ask = [json.loads(line) for line in out.getvalue().splitlines()]
    for i, text in enumerate(questions):
        reply = post(api_client, tenant_a, text, citizen=f"same-{i}").json()["reply"]
        assert (reply["decision"], reply["faq"]) == (ask[i]["decision"], ask[i]["faq"]), text
        assert [s["faq"] for s in reply["suggestions"]] == ask[i]["suggestions"]


@pytest.mark.parametrize(
    "text",
    ["😀😀", "a" * 2000, "\x01\x02 cccd", "<script>alert(1)</script>", "'; DROP TABLE oa_platform_message; --"],
)
def test_bad_input_gets_a_decision_or_4xx(api_client, tenant_a, faqs_a, text):
    response = post(api_client, tenant_a, text)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["reply"]["decision"] in ("answer", "suggest", "fallback")


def test_not_helpful_rating_of_a_chat_answer_is_logged(api_client, tenant_a, faqs_a):
    post(api_client, tenant_a, "Mất giấy phép lái xe thì cấp lại thế nào?")
    reply = Message.objects.get(sender=Message.SENDER_BOT, decision="answer")
    answer_feedback(account=tenant_a.account, message=reply, helpful=False)
    item = UnansweredQuestion.objects.get(account=tenant_a.account)
    assert (item.decision, item.faq_key) == ("not_helpful", "gplx-mat")
