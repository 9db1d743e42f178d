"""The console's Today and Inbox in headless Chromium at a phone (390×844) and a desktop (1440×900) size: a
staff member answers a waiting citizen end to end (Today → inbox → take → reply → the citizen's page shows it
→ close), with axe scans of Today and the inbox. Screenshots: test-artifacts/console_{today,inbox,
conversation}_{390,1440}.png."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from broadcasts.models import Delivery, Notice
from faq.models import UnansweredQuestion
from oa_platform.models import Conversation, Membership, Message
from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.test_citizen_layout import ARTIFACTS, DESKTOP, PHONE, WAIT_MS, open_page, wait_live
from tests.oa_platform.web_support import make_faq_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str, viewport: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console_{name}_{viewport['width']}.png"), full_page=True)


def staff_page(browser, base: str, user, viewport: dict):
    """A browser context signed in as ``user`` (the session cookie of a test client's login)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, locale="vi-VN", device_scale_factor=1)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    return context, context.new_page()


def history_of_answers(account) -> None:
    """A month of bot replies (answers and fallbacks on most days) so the answer-rate chart has bars."""
    citizen = factories.make_follower(account, display_name="Lê Thị C", phone="0987654321")
    conversation = Conversation.objects.create(account=account, citizen=citizen)
    now = timezone.now()
    rows = []
    for day in range(30):
        if day % 6 == 5:
            continue  # a day nobody asked: a gap in the chart
        for n in range(4 + day % 3):
            decision = "answer" if n < 3 + (day % 2) else "fallback"
            rows.append(
                Message(
                    conversation=conversation,
                    direction="out",
                    sender="bot",
                    text="…",
                    decision=decision,
                    score=60.0,
                    created_at=now - dt.timedelta(days=day, minutes=n),
                )
            )
    Message.objects.bulk_create(rows)


def other_work(account, colleague) -> None:
    """A colleague's notice to approve, a notice half sent, unanswered questions: every block of Today shows."""
    Notice.objects.create(
        account=account,
        category="general",
        title_vi="Lịch tiếp công dân tháng 12",
        body_vi="…",
        status=Notice.STATUS_PENDING,
        author=colleague,
    )
    sending = Notice.objects.create(
        account=account, category="general", title_vi="Cảnh báo mưa lớn", body_vi="…", status=Notice.STATUS_SENDING
    )
    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(notice=sending, citizen=factories.make_citizen(), channel="inapp", status=status, created_at=now)
        for status in ["sent"] * 7 + ["queued"] * 3
    )
    for n, text in enumerate(["lệ phí trước bạ xe máy", "đăng ký kết hôn với người nước ngoài"]):
        UnansweredQuestion.objects.create(
            account=account, normalized=text, normalized_hash=f"h{n}", sample_text=text, decision="fallback", count=3
        )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_staff_answer_a_waiting_citizen_from_today(asgi_server, browser, viewport):
    # given an account whose staff work around the clock (the test does not depend on the hour), its history
    account = make_faq_account("congan-demo", name="Công an Thành phố Demo")
    account.working_hours_start, account.working_hours_end = dt.time(0, 0), dt.time(23, 59, 59)
    account.working_days = "0,1,2,3,4,5,6"
    account.save()
    staff_user = factories.make_staff(account, Membership.ROLE_MANAGER, "canbo")
    history_of_answers(account)
    other_work(account, factories.make_staff(account, Membership.ROLE_BROADCASTER, "bientap"))
    other = Conversation.objects.create(  # a nameless citizen waiting too
        account=account,
        citizen=factories.make_citizen("w_M0TaZyOpaque", account=None),
        status=Conversation.STATUS_WAITING,
        handoff_requested_at=timezone.now() - dt.timedelta(minutes=95),
    )
    Message.objects.create(conversation=other, direction="in", text="Tôi muốn hỏi về đăng ký tạm trú cho con")

    # the citizen asks for a person on the web page
    citizen_ctx, citizen = open_page(browser, asgi_server, f"/oa/{account.slug}/", viewport)
    wait_live(citizen)
    citizen.fill("#chat-input", "gặp nhân viên")
    citizen.press("#chat-input", "Enter")
    expect(citizen.locator("#messages")).to_contain_text("Đã chuyển cuộc trò chuyện tới cán bộ", timeout=WAIT_MS)
    conversation = Conversation.objects.exclude(pk=other.pk).get(account=account, status="waiting")

    # Today: the waiting citizens (with how long), the answer rate with its chart
    staff_ctx, staff = staff_page(browser, asgi_server, staff_user, viewport)
    staff.goto(f"{asgi_server}/staff/")
    expect(staff).to_have_url(f"{asgi_server}/staff/{account.slug}/")
    expect(staff.locator("h1")).to_have_text("Hôm nay")
    expect(staff.locator("#waiting-h .pill")).to_have_text("2")
    expect(staff.locator(".today-list").first).to_contain_text("chờ 1 giờ 35 phút")
    expect(staff.locator("svg.chart rect.bar")).not_to_have_count(0)
    assert "w_M0Ta" not in staff.content()
    expect(staff.locator("#approve-h + .today-list")).to_contain_text("Lịch tiếp công dân tháng 12")
    expect(staff.locator("progress.bar")).to_have_attribute("value", "7")
    shot(staff, "today", viewport)
    assert_accessible(staff)

    # → the inbox: filters with counts, the waiting conversations
    staff.get_by_role("link", name="Mở hộp thư").click()
    expect(staff.locator(".filters a[aria-current=page]")).to_contain_text("Đang chờ")
    row = staff.locator(f'#conversations a[data-id="{conversation.pk}"]')
    expect(row).to_contain_text("gặp nhân viên")
    expect(row).to_contain_text("Đang chờ cán bộ")
    expect(staff.locator(f'#conversations a[data-id="{other.pk}"]')).to_contain_text("Công dân qua Web · ")
    shot(staff, "inbox", viewport)
    assert_accessible(staff)

    # → the conversation: take it; "Nhận xử lý" goes away
    row.click()
    expect(staff.locator("#history")).to_contain_text("gặp nhân viên", timeout=WAIT_MS)
    if viewport is PHONE:  # the list OR the conversation on a phone, with a way back
        expect(staff.locator(".inbox-list")).to_be_hidden()
        expect(staff.locator("a.back")).to_be_visible()
    else:
        expect(staff.locator(".inbox-list")).to_be_visible()
        expect(staff.locator("a.back")).to_be_hidden()
    staff.click("#assign")
    expect(staff.locator("#assignee")).to_have_text("canbo", timeout=WAIT_MS)
    expect(staff.locator("#assign")).to_be_hidden()
    expect(staff.locator("#status")).to_have_text("Cán bộ đang xử lý")
    staff.wait_for_function("() => document.body.dataset.live === '1'", timeout=WAIT_MS)

    # the citizen writes again, staff see it live; staff reply, the citizen sees it live
    citizen.fill("#chat-input", "Tôi cần làm hộ chiếu cho con")
    citizen.press("#chat-input", "Enter")
    expect(staff.locator("#history")).to_contain_text("Tôi cần làm hộ chiếu cho con", timeout=WAIT_MS)
    # the live refresh writes translated labels (never "open"), in the conversation and in the list
    expect(staff.locator("#status")).to_have_text("Cán bộ đang xử lý")
    # (the list keeps its filter "waiting": the taken conversation has left it for "mine")
    expect(staff.locator(".filters a[data-filter=mine] .count-n")).to_have_text("1")
    expect(staff.locator(".filters a[data-filter=waiting] .count-n")).to_have_text("1")
    expect(staff.locator(f'#conversations a[data-id="{conversation.pk}"]')).to_have_count(0)
    expect(staff.locator(f'#conversations a[data-id="{other.pk}"] .pill')).to_have_text("Đang chờ cán bộ")
    staff.fill("#reply-text", "Chào bạn, cán bộ Công an Demo đây. Con bạn mấy tuổi?")
    staff.click("#send")
    expect(citizen.locator("#messages li.msg.staff")).to_contain_text("Con bạn mấy tuổi?", timeout=WAIT_MS)
    expect(staff.locator("#history li.staff")).to_contain_text("mấy tuổi", timeout=WAIT_MS)
    expect(staff.locator("#history li.staff .who-line")).to_contain_text("canbo")
    shot(staff, "conversation", viewport)
    assert_accessible(staff)

    # close: the citizen is told the bot is back; the reply box goes, "reopen" comes (live, translated)
    staff.click("#close")
    expect(citizen.locator("#messages")).to_contain_text("Trợ lý tự động sẽ tiếp tục", timeout=WAIT_MS)
    expect(staff.locator("#reply-form")).to_be_hidden(timeout=WAIT_MS)
    expect(staff.locator("#reopen")).to_be_visible()
    expect(staff.locator("#status")).to_have_text("Đã kết thúc")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.STATUS_BOT and conversation.assigned_to is None
    staff_ctx.close()
    citizen_ctx.close()
