"""The bot says only what is true: a question it cannot answer is recorded for review (not "forwarded to
staff", no conversation is handed off); only a hand-off says staff will answer."""

from __future__ import annotations

import pytest

from faq.models import UnansweredQuestion
from oa_platform.conversations.engine import chat_receive
from oa_platform.models import Conversation, Follow
from tests import factories
from tests.oa_platform.web_support import make_faq_account

pytestmark = pytest.mark.django_db

# Per language: what the fallback says about the question, and words of the hand-off confirmation that a
# fallback must not use.
RECORDED = {"vi": "ghi lại", "en": "recorded", "zh-hans": "已记录"}
FORWARDED = {"vi": ("chuyển tới cán bộ", "đã được chuyển"), "en": ("passed on", "passed to"), "zh-hans": ("转交",)}


@pytest.mark.parametrize("language", ["vi", "en", "zh-hans"])
def test_gibberish_is_recorded_for_review_not_forwarded_to_staff(language):
    # given
    account = make_faq_account("congan-truth")
    citizen = factories.make_citizen(language=language)
    # when
    reply = chat_receive(account=account, citizen=citizen, text="qwxz blorp zzkq").payload
    # then: what the text says ...
    assert reply["decision"] == "fallback"
    assert RECORDED[language] in reply["text"]
    assert not any(words in reply["text"] for words in FORWARDED[language]), reply["text"]
    # ... is what happened: the question waits in the review queue, the conversation stays with the bot
    item = UnansweredQuestion.objects.get(account=account)
    assert (item.sample_text, item.decision, item.status) == ("qwxz blorp zzkq", "fallback", "open")
    assert Conversation.objects.get(account=account, citizen=citizen).status == Conversation.STATUS_BOT


def test_a_message_with_nothing_to_record_does_not_claim_it_was_recorded():
    account = make_faq_account("congan-truth")
    citizen = factories.make_citizen(language="vi")
    reply = chat_receive(account=account, citizen=citizen, text="\u200b").payload  # a zero-width space only
    assert reply["decision"] == "fallback"
    assert not UnansweredQuestion.objects.exists()
    assert RECORDED["vi"] not in reply["text"] and "chuyển tới cán bộ" not in reply["text"]


def test_only_a_hand_off_says_the_conversation_went_to_staff():
    account = make_faq_account("congan-truth")
    citizen = factories.make_citizen(language="vi")
    reply = chat_receive(account=account, citizen=citizen, text="gặp nhân viên").payload
    assert "chuyển cuộc trò chuyện tới cán bộ" in reply["text"]
    assert Conversation.objects.get(account=account, citizen=citizen).status == Conversation.STATUS_WAITING


def test_an_account_without_topics_does_not_offer_an_empty_list():
    account = factories.make_account("no-faq-yet")
    citizen = factories.make_citizen(language="en")
    for text in ("qwxz blorp", "help"):
        reply = chat_receive(account=account, citizen=citizen, text=text).payload
        assert "You can ask about" not in reply["text"], reply["text"]
        assert 'Type "talk to staff"' in reply["text"]


@pytest.mark.parametrize("command", ["bắt đầu", "resume", "subscribe all"])
def test_start_after_stop_really_brings_the_notices_back(command):
    # given: a follower who stopped every notice
    account = make_faq_account("congan-truth")
    citizen = factories.make_citizen(language="en")
    chat_receive(account=account, citizen=citizen, text="dang ky bao lu")
    chat_receive(account=account, citizen=citizen, text="stop")
    follow = Follow.objects.get(account=account, citizen=citizen)
    assert not follow.topics.exists()
    # when
    reply = chat_receive(account=account, citizen=citizen, text=command).payload
    # then: the account's default topics are back, and the reply names them
    defaults = set(account.topics.filter(subscribed_by_default=True).values_list("key", flat=True))
    assert defaults and set(follow.topics.values_list("key", flat=True)) == defaults
    assert reply["intent"] == "start" and "will receive notices about" in reply["text"]
    assert all(topic.label("en") in reply["text"] for topic in account.topics.filter(key__in=defaults))


def test_start_keeps_the_topics_a_follower_chose():
    account = make_faq_account("congan-truth")
    citizen = factories.make_citizen(language="vi")
    chat_receive(account=account, citizen=citizen, text="dang ky bao lu")
    follow = Follow.objects.get(account=account, citizen=citizen)
    follow.topics.set(account.topics.filter(key="health"))
    reply = chat_receive(account=account, citizen=citizen, text="bắt đầu").payload
    assert list(follow.topics.values_list("key", flat=True)) == ["health"]
    assert reply["text"].endswith("nhận thông báo: Y tế.")
