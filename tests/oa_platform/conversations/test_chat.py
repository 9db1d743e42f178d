"""The conversation engine: one decision for every channel, idempotent on provider ids, quiet while staff hold."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from faq.models import UnansweredQuestion
from faq.services import faq_entry_create
from oa_platform.conversations.engine import chat_receive
from oa_platform.models import Conversation, Follow, Message
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(tenant_a):
    account = tenant_a.account
    faq_entry_create(
        account=account,
        key="cccd-cap-lan-dau",
        question="Thủ tục cấp thẻ căn cước lần đầu như thế nào?",
        answer="Bạn đến công an cấp xã để làm thẻ căn cước lần đầu.",
        variants=["Hướng dẫn làm thẻ căn cước lần đầu"],
        category="Căn cước",
    )
    faq_entry_create(
        account=account,
        key="gplx-doi",
        question="Đổi giấy phép lái xe hết hạn ở đâu?",
        answer="Đổi GPLX tại Sở Giao thông Vận tải hoặc trực tuyến.",
        category="Giấy phép lái xe",
    )
    return account


def test_a_known_question_is_answered_and_both_messages_are_stored(account):
    citizen = factories.make_citizen()

    outcome = chat_receive(account=account, citizen=citizen, text="thủ tục cấp thẻ căn cước lần đầu như thế nào")

    assert outcome.payload["decision"] == "answer"
    assert outcome.payload["faq"] == "cccd-cap-lan-dau"
    assert outcome.payload["text"].startswith("Bạn đến công an")
    assert outcome.payload["score"] > 0
    stored = list(Message.objects.filter(conversation__citizen=citizen).values_list("direction", "decision", "faq_key"))
    assert stored == [("in", "", ""), ("out", "answer", "cccd-cap-lan-dau")]


def test_an_unknown_question_falls_back_offers_a_person_and_is_logged_for_staff(account):
    citizen = factories.make_citizen()

    outcome = chat_receive(account=account, citizen=citizen, text="giá vé máy bay đi Singapore bao nhiêu")

    assert outcome.payload["decision"] == "fallback"
    assert outcome.payload["faq"] is None
    assert outcome.payload["offer_human"] is True
    assert "Căn cước" in outcome.payload["text"]  # the topics the account can answer
    assert UnansweredQuestion.objects.filter(account=account, count=1).exists()


def test_the_same_provider_message_id_twice_stores_one_message_and_one_reply(account):
    citizen = factories.make_citizen(channel="zalo", account=account)

    first = chat_receive(account=account, citizen=citizen, text="đổi bằng lái hết hạn ở đâu", external_id="m-1")
    again = chat_receive(account=account, citizen=citizen, text="đổi bằng lái hết hạn ở đâu", external_id="m-1")

    assert again.duplicate and not first.duplicate
    assert again.payload == first.payload
    assert Message.objects.filter(conversation__citizen=citizen).count() == 2
    assert Message.objects.get(sender="bot", conversation__citizen=citizen).delivery_status == "queued"


def test_greeting_gets_the_welcome_message_and_is_not_logged_as_unanswered(account):
    account.welcome_message = "Chào mừng bạn đến với Công an!"
    account.save()
    citizen = factories.make_citizen()

    outcome = chat_receive(account=account, citizen=citizen, text="xin chào")

    assert outcome.payload["text"] == "Chào mừng bạn đến với Công an!"
    assert outcome.payload["intent"] == "greeting"
    assert not UnansweredQuestion.objects.exists()


def test_subscription_commands_follow_and_change_topics(account):
    citizen = factories.make_citizen()

    chat_receive(account=account, citizen=citizen, text="dang ky bao lu")
    follow = Follow.objects.get(account=account, citizen=citizen)
    assert follow.is_active
    assert "storm-flood" in set(follow.topics.values_list("key", flat=True))

    chat_receive(account=account, citizen=citizen, text="huy tiem chung")
    assert "vaccination" not in set(follow.topics.values_list("key", flat=True))

    outcome = chat_receive(account=account, citizen=citizen, text="stop")
    assert outcome.payload["intent"] == "stop"
    assert not follow.topics.exists()


def test_the_bot_stays_quiet_while_staff_hold_the_conversation(account):
    citizen = factories.make_citizen()
    chat_receive(account=account, citizen=citizen, text="gặp nhân viên")
    conversation = Conversation.objects.get(account=account, citizen=citizen)
    assert conversation.status == Conversation.STATUS_WAITING

    outcome = chat_receive(account=account, citizen=citizen, text="thủ tục cấp thẻ căn cước lần đầu như thế nào")

    assert outcome.reply is None and outcome.payload is None
    assert conversation.messages.filter(sender="bot").count() == 1  # only the hand-off notice


def test_replies_follow_the_citizens_language(account):
    citizen = factories.make_citizen(language="en")

    outcome = chat_receive(account=account, citizen=citizen, text="giá vé máy bay đi Singapore bao nhiêu")

    assert outcome.payload["decision"] == "fallback"
    assert "Sorry" in outcome.payload["text"]


def test_a_question_costs_a_bounded_number_of_queries(account):
    citizen = factories.make_citizen()
    chat_receive(account=account, citizen=citizen, text="đổi bằng lái")  # builds the index once

    with CaptureQueriesContext(connection) as queries:
        chat_receive(account=account, citizen=citizen, text="thủ tục cấp thẻ căn cước lần đầu như thế nào")

    assert len(queries) <= 10, [q["sql"] for q in queries.captured_queries]


def stored_exchange(citizen):
    messages = Message.objects.filter(conversation__citizen=citizen).order_by("pk")
    rows = [
        (m.direction, m.sender, m.text, m.decision, m.faq_key, m.score, m.suggestions, m.in_reply_to_id is not None)
        for m in messages
    ]
    conversation = Conversation.objects.get(citizen=citizen)
    assert conversation.last_message_at is not None and conversation.last_message_at >= messages.last().created_at
    return rows


@pytest.mark.parametrize("text", ["thủ tục cấp thẻ căn cước lần đầu như thế nào", "cho hỏi về thuế đất", "xin chào"])
def test_the_exchange_is_stored_alike_in_one_statement_and_one_by_one(account, text):
    # given: two citizens; while a listener is connected to Message saves, the exchange is saved one by one
    composed, saved = factories.make_citizen(), factories.make_citizen()
    seen = []

    def listener(sender, instance, created, **kwargs):
        seen.append(instance.pk)

    # when
    first = chat_receive(account=account, citizen=composed, text=text)
    post_save.connect(listener, sender=Message)
    try:
        second = chat_receive(account=account, citizen=saved, text=text)
    finally:
        post_save.disconnect(listener, sender=Message)
    # then: the same rows and reply (ids aside), the listener saw both saves, and an unanswered question counted twice
    assert {**first.payload, "message_id": 0} == {**second.payload, "message_id": 0}
    assert stored_exchange(composed) == stored_exchange(saved)
    assert seen == [second.inbound.pk, second.reply.pk] and second.reply.in_reply_to_id == second.inbound.pk
    assert first.reply.in_reply_to_id == first.inbound.pk and first.payload["message_id"] == first.reply.pk
    counted = list(UnansweredQuestion.objects.filter(account=account).values_list("count", flat=True))
    assert counted == ([] if first.payload["decision"] == "answer" or "intent" in first.payload else [2])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_provider_event_racing_in_twice_is_stored_once_and_replayed(tenant_a):
    # given: the first delivery of an event has stored its exchange (a subscription too) but not yet committed
    account = tenant_a.account
    citizen = factories.make_citizen(channel="zalo", account=account)
    chat_receive(account=account, citizen=citizen, text="xin chào")  # the conversation exists
    stored, release, outcomes = threading.Event(), threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                outcomes["first"] = chat_receive(
                    account=account, citizen=citizen, text="dang ky bao lu", external_id="e-1"
                )
                stored.set()
                release.wait(10)
        finally:
            connections.close_all()

    def second():
        try:
            stored.wait(10)
            outcomes["second"] = chat_receive(
                account=account, citizen=citizen, text="dang ky bao lu", external_id="e-1"
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    # when: the second delivery has looked for the event (not visible yet) and waits on the unique index
    stored.wait(10)
    time.sleep(0.5)
    release.set()
    for thread in threads:
        thread.join(20)
    # then: the second replays the first's reply; one exchange and one follow are stored
    assert not outcomes["first"].duplicate and outcomes["second"].duplicate
    contract = ("text", "decision", "faq", "score", "suggestions", "message_id")
    assert [outcomes["second"].payload[k] for k in contract] == [outcomes["first"].payload[k] for k in contract]
    assert Message.objects.filter(conversation__citizen=citizen, external_id="e-1").count() == 1
    assert Follow.objects.filter(account=account, citizen=citizen).count() == 1
