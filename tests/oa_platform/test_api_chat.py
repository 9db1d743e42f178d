"""The HTTP chat API for channel integrations: POST /api/v1/accounts/<slug>/messages/."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from oa_platform.models import ApiToken, Citizen, Conversation, Message
from tests import factories
from tests.oa_platform.web_support import FAQS, make_faq_account, vague_question

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat_tenant(db):
    account = make_faq_account("congan-api")
    return account, factories.make_token(account, scopes=[ApiToken.SCOPE_CHAT])


def url(slug: str) -> str:
    return f"/api/v1/accounts/{slug}/messages/"


def send(api_client, slug, token, body, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return api_client.post(url(slug), data=data, content_type="application/json", **headers, **extra)


def counts():
    return Citizen.objects.count(), Conversation.objects.count(), Message.objects.count()


def test_reply_contract_for_an_answer(api_client, chat_tenant):
    account, token = chat_tenant
    response = send(
        api_client, account.slug, token, {"citizen_id": "zalo-123", "text": "đổi căn cước hết bao nhiêu tiền"}
    )
    assert response.status_code == 200
    reply = response.json()["reply"]
    assert set(reply) >= {"text", "decision", "faq", "score", "suggestions"}
    assert reply["decision"] == "answer" and reply["faq"] == "cccd-le-phi"
    assert reply["text"] == FAQS[0][2]
    assert isinstance(reply["score"], (int, float)) and reply["suggestions"] == []
    # both sides of the exchange are stored, the bot's with its FAQ, score and decision
    inbound, outbound = Message.objects.order_by("pk")
    assert inbound.direction == "in" and inbound.text == "đổi căn cước hết bao nhiêu tiền"
    assert outbound.sender == "bot" and outbound.faq_key == "cccd-le-phi" and outbound.decision == "answer"
    assert outbound.score == reply["score"]


def test_reply_contract_for_a_fallback(api_client, chat_tenant):
    account, token = chat_tenant
    response = send(api_client, account.slug, token, {"citizen_id": "c1", "text": "qwxz blorp"})
    reply = response.json()["reply"]
    assert reply["decision"] == "fallback" and reply["faq"] is None
    assert reply["text"] and reply["suggestions"] == []


def test_reply_contract_for_suggestions(api_client, chat_tenant):
    account, token = chat_tenant
    vague, _first = vague_question(account)
    response = send(api_client, account.slug, token, {"citizen_id": "c1", "text": vague})
    reply = response.json()["reply"]
    assert reply["decision"] == "suggest"
    assert reply["suggestions"] and all(set(s) == {"faq", "question"} for s in reply["suggestions"])
    questions = {key: question for key, question, _answer, _variants in FAQS}
    assert all(questions[s["faq"]] == s["question"] for s in reply["suggestions"])


def test_same_citizen_id_is_one_citizen_and_one_conversation(api_client, chat_tenant):
    account, token = chat_tenant
    for text in ("Làm hộ chiếu ở đâu?", "Đăng ký xe máy mới"):
        send(api_client, account.slug, token, {"citizen_id": "c-1", "text": text})
    assert Citizen.objects.count() == 1 and Conversation.objects.count() == 1
    assert Message.objects.count() == 4


@pytest.mark.parametrize("header", [None, "Token oa_wrong", "Bearer abc", "Token"])
def test_missing_or_wrong_token_is_401(api_client, chat_tenant, header):
    account, _token = chat_tenant
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = api_client.post(
        url(account.slug), data=json.dumps({"citizen_id": "c", "text": "hi"}), content_type="application/json", **extra
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"]
    assert counts() == (0, 0, 0)


def test_revoked_token_is_401(api_client, chat_tenant):
    from oa_platform.services import token_revoke

    account, token = chat_tenant
    token_revoke(token=ApiToken.objects.get(key_hash=ApiToken.hash(token)))
    assert send(api_client, account.slug, token, {"citizen_id": "c", "text": "hi"}).status_code == 401


def test_revocation_and_account_deactivation_take_effect_on_the_next_request(api_client, chat_tenant):
    from oa_platform.models import OfficialAccount
    from oa_platform.services import token_revoke

    # given: a token in use
    account, token = chat_tenant
    assert send(api_client, account.slug, token, {"citizen_id": "c", "text": "hi"}).status_code == 200
    # when: its account is deactivated (plain SQL, as another process would), then reactivated
    OfficialAccount.objects.filter(pk=account.pk).update(is_active=False)
    assert send(api_client, account.slug, token, {"citizen_id": "c", "text": "hi"}).status_code == 401
    OfficialAccount.objects.filter(pk=account.pk).update(is_active=True)
    assert send(api_client, account.slug, token, {"citizen_id": "c", "text": "hi"}).status_code == 200
    # when: the token is revoked; then: the very next request is refused
    token_revoke(token=ApiToken.objects.get(key_hash=ApiToken.hash(token)))
    assert send(api_client, account.slug, token, {"citizen_id": "c", "text": "hi"}).status_code == 401


def test_another_accounts_token_is_403(api_client, chat_tenant):
    account, _token = chat_tenant
    other = factories.make_account("other-agency")
    other_token = factories.make_token(other, scopes=ApiToken.ALL_SCOPES)
    response = send(api_client, account.slug, other_token, {"citizen_id": "c", "text": "Làm hộ chiếu ở đâu?"})
    assert response.status_code == 403
    assert counts() == (0, 0, 0)


def test_token_without_chat_scope_is_403(api_client, chat_tenant):
    account, _token = chat_tenant
    read_only = factories.make_token(account, scopes=[ApiToken.SCOPE_READ])
    assert send(api_client, account.slug, read_only, {"citizen_id": "c", "text": "hi"}).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        {},
        {"text": "Làm hộ chiếu ở đâu?"},
        {"citizen_id": "c"},
        {"citizen_id": "", "text": "Làm hộ chiếu ở đâu?"},
        {"citizen_id": "c", "text": ""},
        {"citizen_id": "c", "text": "x" * 2001},
        {"citizen_id": "c", "text": "Làm hộ chiếu ở đâu?", "phone": "12345"},
        {"citizen_id": "c", "text": "Làm hộ chiếu ở đâu?", "phone": "not a phone"},
        {"citizen_id": "c", "text": "Làm hộ chiếu ở đâu?", "language": "fr"},
        {"citizen_id": "c" * 200, "text": "Làm hộ chiếu ở đâu?"},
    ],
    ids=[
        "malformed",
        "empty",
        "no-citizen",
        "no-text",
        "blank-citizen",
        "blank-text",
        "too-long",
        "short-phone",
        "bad-phone",
        "language",
        "long-citizen",
    ],
)
def test_bad_input_is_400_and_stores_nothing(api_client, chat_tenant, body):
    account, token = chat_tenant
    response = send(api_client, account.slug, token, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"]
    assert counts() == (0, 0, 0)


def test_text_of_exactly_2000_characters_is_accepted(api_client, chat_tenant):
    account, token = chat_tenant
    assert send(api_client, account.slug, token, {"citizen_id": "c", "text": "y" * 2000}).status_code == 200


def test_valid_phone_is_stored_in_e164(api_client, chat_tenant):
    account, token = chat_tenant
    body = {"citizen_id": "c", "text": "Làm hộ chiếu ở đâu?", "phone": "0912 345 678"}
    assert send(api_client, account.slug, token, body).status_code == 200
    assert Citizen.objects.get().phone == "+84912345678"


def test_flooding_citizen_gets_429_with_retry_after(api_client, chat_tenant, settings, rate_window_start):
    settings.CHAT_RATE_CITIZEN = (3, 60)
    account, token = chat_tenant
    body = {"citizen_id": "flood", "text": "Làm hộ chiếu ở đâu?"}
    assert [send(api_client, account.slug, token, body).status_code for _ in range(3)] == [200, 200, 200]
    before = counts()
    response = send(api_client, account.slug, token, body)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "rate_limited"
    assert counts() == before
    # another citizen of the same integration is not held back
    assert send(api_client, account.slug, token, {**body, "citizen_id": "calm"}).status_code == 200


def test_flooding_ip_gets_429(api_client, chat_tenant, settings, rate_window_start):
    settings.CHAT_RATE_IP = (2, 60)
    account, token = chat_tenant
    statuses = [
        send(api_client, account.slug, token, {"citizen_id": f"c{i}", "text": "Làm hộ chiếu ở đâu?"}).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_unknown_account_is_4xx_not_500(api_client, chat_tenant):
    _account, token = chat_tenant
    response = send(api_client, "no-such-account", token, {"citizen_id": "c", "text": "hi"})
    assert response.status_code in (403, 404)


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


@pytest.mark.parametrize("text,decision", [("đổi căn cước hết bao nhiêu tiền", "answer"), ("qwxz blorp", "fallback")])
def test_a_known_citizens_message_takes_few_queries(
    api_client, chat_tenant, django_assert_max_num_queries, text, decision
):
    # given: a citizen who wrote before
    account, token = chat_tenant
    send(api_client, account.slug, token, {"citizen_id": "c-q", "text": "Làm hộ chiếu ở đâu?"})
    # when/then: the token with its account; the citizen with their conversation; the FAQ index version; the
    # exchange: on PostgreSQL one statement (both messages, last_message_at, the unanswered upsert), in a
    # savepoint only because the test holds a transaction; elsewhere savepoint, inbound, reply, (unanswered),
    # last_message_at, release
    ceiling = 3 + (3 if on_postgresql() else 5 + (decision == "fallback"))
    with django_assert_max_num_queries(ceiling):
        response = send(api_client, account.slug, token, {"citizen_id": "c-q", "text": text})
    assert response.json()["reply"]["decision"] == decision
    assert Message.objects.count() == 4


def test_a_new_citizens_first_message_takes_few_queries(api_client, chat_tenant, django_assert_max_num_queries):
    # given: the token used and the FAQ index built (by another citizen's message)
    account, token = chat_tenant
    send(api_client, account.slug, token, {"citizen_id": "earlier", "text": "Đăng ký xe máy mới"})
    # when/then: token; citizen read (none); citizen + conversation inserted (PostgreSQL: one statement, in a
    # savepoint under the test's transaction; elsewhere savepoint, two inserts, release); the index version;
    # the exchange (as above)
    with django_assert_max_num_queries(9 if on_postgresql() else 12):
        response = send(api_client, account.slug, token, {"citizen_id": "new-1", "text": "Làm hộ chiếu ở đâu?"})
    assert response.json()["reply"]["decision"] == "answer"
    assert counts() == (2, 2, 4)
