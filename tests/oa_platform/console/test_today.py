"""Today (staff:today): what waits for the signed-in person and the bot's answer rate."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from broadcasts.models import Delivery, Notice
from faq.models import UnansweredQuestion
from oa_platform.console.stats import answer_rate_days, rate_of
from oa_platform.conversations.engine import chat_receive
from oa_platform.models import ApiToken, Conversation, Message
from tests import factories
from tests.oa_platform.web_support import make_faq_account

pytestmark = pytest.mark.django_db

# 16:30 in Ho Chi Minh City (UTC+7) on 3 December 2026.
NOW = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)


def bot_reply(account, decision, at, *, score=50.0):
    citizen = factories.make_citizen()
    conversation = Conversation.objects.get_or_create(account=account, citizen=citizen)[0]
    return Message.objects.create(
        conversation=conversation,
        direction=Message.DIRECTION_OUT,
        sender=Message.SENDER_BOT,
        text="…",
        decision=decision,
        score=score,
        created_at=at,
    )


# --- the answer rate  ---
def test_answer_rate_per_local_day_in_one_query(tenant_a, tenant_b):
    account = tenant_a.account
    # given: today (local) two answers and a fallback; yesterday a suggestion; on 1 December at 23:30 local
    # (16:30 UTC) an answer, at 00:30 local on 2 December (still 1 December in UTC) another; a command reply
    # (no score) today; another account's answer today
    bot_reply(account, "answer", NOW - dt.timedelta(hours=1))
    bot_reply(account, "answer", NOW - dt.timedelta(hours=2))
    bot_reply(account, "fallback", NOW - dt.timedelta(hours=3))
    bot_reply(account, "suggest", NOW - dt.timedelta(days=1))
    bot_reply(account, "answer", dt.datetime(2026, 12, 1, 16, 30, tzinfo=dt.UTC))
    bot_reply(account, "answer", dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC))
    bot_reply(account, "fallback", NOW, score=None)
    bot_reply(tenant_b.account, "answer", NOW)
    # when
    with CaptureQueriesContext(connection) as queries:
        series = answer_rate_days(account=account, days=30, now=NOW)
    # then one query gives 30 days, oldest first, ending today (local)
    assert len(queries) == 1
    assert len(series) == 30 and series[-1].day == dt.date(2026, 12, 3) and series[0].day == dt.date(2026, 11, 4)
    by_day = {d.day: (d.questions, d.answered, d.suggested) for d in series}
    assert by_day[dt.date(2026, 12, 3)] == (3, 2, 0)
    assert by_day[dt.date(2026, 12, 2)] == (2, 1, 1)
    assert by_day[dt.date(2026, 12, 1)] == (1, 1, 0)
    assert by_day[dt.date(2026, 11, 30)] == (0, 0, 0)
    total = rate_of(series)
    assert (total.questions, total.answered) == (6, 4) and total.rate == pytest.approx(66.67, abs=0.01)
    assert series[0].rate is None  # nothing asked: no rate rather than 0 %


def test_commands_and_small_talk_do_not_count_as_questions(tenant_a):
    # given a FAQ account; a citizen greets, asks a question the FAQ answers, and follows
    account = make_faq_account("faq-rate")
    citizen = factories.make_citizen()
    chat_receive(account=account, citizen=citizen, text="xin chào")
    chat_receive(account=account, citizen=citizen, text="Đổi căn cước hết bao nhiêu tiền?")
    replies = Message.objects.filter(conversation__account=account, sender="bot").order_by("id")
    # then the greeting is stored without a score (no FAQ match ran), the answer with one
    assert [(m.decision, m.score is None) for m in replies] == [("fallback", True), ("answer", False)]
    today = answer_rate_days(account=account, days=1)[-1]
    assert (today.questions, today.answered) == (1, 1)


# --- the page  ---
def waiting_for_staff(account, name="Nguyễn Văn A", minutes=45):
    citizen = factories.make_follower(account, display_name=name, phone="0912345678")
    return Conversation.objects.create(
        account=account,
        citizen=citizen,
        status=Conversation.STATUS_WAITING,
        handoff_requested_at=NOW - dt.timedelta(minutes=minutes),
    )


def notice(account, status, author=None, token=None, title="Lịch cắt điện"):
    return Notice.objects.create(
        account=account,
        category="general",
        title_vi=title,
        body_vi="…",
        status=status,
        author=author,
        author_token=token,
    )


@time_machine.travel(NOW, tick=False)
def test_today_shows_waiting_conversations_with_their_waiting_time(client, tenant_a, tenant_b):
    conversation = waiting_for_staff(tenant_a.account, minutes=125)
    waiting_for_staff(tenant_b.account, name="Người của B")
    client.force_login(tenant_a.editor)
    page = client.get(reverse("staff:today", args=["agency-a"])).content.decode()
    assert reverse("staff:conversation", args=["agency-a", conversation.pk]) in page
    assert "Nguyễn Văn A" in page and "+84******678" in page and "0912345678" not in page
    assert "chờ 2 giờ 5 phút (từ 14:25)" in page
    assert "Người của B" not in page


@time_machine.travel(NOW, tick=False)
def test_notices_awaiting_approval_leave_out_the_approvers_own(client, tenant_a, tenant_b):
    # given: pending notices by the broadcaster, by the approver, through a token the approver created;
    # a draft; another agency's pending notice
    token = ApiToken.objects.filter(account=tenant_a.account).first()
    token.created_by = tenant_a.approver
    token.save()
    notice(tenant_a.account, Notice.STATUS_PENDING, author=tenant_a.broadcaster, title="Của người khác")
    notice(tenant_a.account, Notice.STATUS_PENDING, author=tenant_a.approver, title="Của chính tôi")
    notice(tenant_a.account, Notice.STATUS_PENDING, token=token, title="Qua token của tôi")
    notice(tenant_a.account, Notice.STATUS_DRAFT, author=tenant_a.broadcaster, title="Bản nháp")
    notice(tenant_b.account, Notice.STATUS_PENDING, author=tenant_b.broadcaster, title="Của B")
    # when the approver opens Today
    client.force_login(tenant_a.approver)
    page = client.get(reverse("staff:today", args=["agency-a"])).content.decode()
    # then only the colleague's notice waits for them
    assert "Của người khác" in page
    for other in ("Của chính tôi", "Qua token của tôi", "Bản nháp", "Của B"):
        assert other not in page
    # an editor (who approves nothing) sees no approval block
    client.force_login(tenant_a.editor)
    assert "Thông báo chờ bạn duyệt" not in client.get(reverse("staff:today", args=["agency-a"])).content.decode()


@time_machine.travel(NOW, tick=False)
def test_sending_notices_show_their_progress(client, tenant_a):
    sending = notice(tenant_a.account, Notice.STATUS_SENDING, author=tenant_a.broadcaster, title="Đang phát")
    for status in ("sent", "sent", "failed", "queued"):
        Delivery.objects.create(
            notice=sending, citizen=factories.make_citizen(), channel="inapp", status=status, created_at=NOW
        )
    client.force_login(tenant_a.broadcaster)
    page = client.get(reverse("staff:today", args=["agency-a"])).content.decode()
    assert "Đang phát" in page
    assert '<progress class="bar" max="4" value="3"' in page and "đã xong 3/4" in page


@time_machine.travel(NOW, tick=False)
def test_unanswered_questions_this_week_and_the_answer_rate(client, tenant_a):
    account = tenant_a.account
    for n, (count, days_ago, status) in enumerate([(3, 1, "open"), (2, 6, "open"), (9, 8, "open"), (4, 1, "ignored")]):
        UnansweredQuestion.objects.create(
            account=account,
            normalized=f"q{n}",
            normalized_hash=f"h{n}",
            sample_text=f"q{n}",
            decision="fallback",
            count=count,
            status=status,
            last_seen=NOW - dt.timedelta(days=days_ago),
        )
    bot_reply(account, "answer", NOW - dt.timedelta(hours=1))
    bot_reply(account, "fallback", NOW - dt.timedelta(days=10))
    client.force_login(tenant_a.editor)
    page = client.get(reverse("staff:today", args=["agency-a"])).content.decode()
    assert '<p class="big-number">2</p>' in page and "Số lượt hỏi: 5" in page
    review = reverse("staff:faq-review", args=["agency-a"]) if _resolves("staff:faq-review") else None
    assert (review or reverse("admin:faq_unansweredquestion_changelist")) in page
    # 7 days: 1 of 1; 30 days: 1 of 2; the chart and its table
    assert "1/1 câu hỏi" in page and "1/2 câu hỏi" in page
    assert '<svg class="chart"' in page and 'role="img"' in page and "<table" in page


def _resolves(name):
    from django.urls import NoReverseMatch

    try:
        reverse(name, args=["x"])
    except NoReverseMatch:
        return False
    return True


def test_today_costs_a_bounded_number_of_queries(client, tenant_a):
    for n in range(5):
        waiting_for_staff(tenant_a.account, name=f"Công dân {n}")
        bot_reply(tenant_a.account, "answer", NOW - dt.timedelta(days=n))
    client.force_login(tenant_a.manager)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("staff:today", args=["agency-a"])).status_code == 200
    assert len(queries) <= 20, [q["sql"] for q in queries.captured_queries]


def test_staff_home_with_one_account_lands_on_today(client, tenant_a):
    client.force_login(tenant_a.editor)
    response = client.get(reverse("staff:home"))
    assert response.status_code == 302 and response["Location"] == reverse("staff:today", args=["agency-a"])
