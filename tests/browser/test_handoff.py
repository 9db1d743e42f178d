"""Hand-off in two headless Chromium contexts against a real ASGI server (uvicorn, HTTP + WebSockets):
a citizen on /oa/<slug>/ asks for a person; a staff member logs in, takes the conversation over in the
inbox, sees the citizen's next message live and replies; the citizen sees the reply live; staff close it."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from oa_platform.models import Conversation, Membership, Message
from tests.browser.test_citizen_page import open_page
from tests.factories import make_staff
from tests.oa_platform.web_support import make_faq_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAIT_MS = 10_000  # bounded waits for the pages


def test_staff_take_over_and_reply_live(asgi_server, browser):
    # given an account whose staff work around the clock (so the test does not depend on the time of day)
    account = make_faq_account("handoff-demo", name="Sở Demo")
    account.working_hours_start, account.working_hours_end = dt.time(0, 0), dt.time(23, 59, 59)
    account.working_days = "0,1,2,3,4,5,6"
    account.save()
    make_staff(account, Membership.ROLE_EDITOR, "canbo")

    # the citizen asks for a person on the web page
    citizen_ctx, citizen = open_page(browser, f"{asgi_server}/oa/{account.slug}/")
    citizen.wait_for_function("() => window.oaPage && window.oaPage.isLive()", timeout=WAIT_MS)
    citizen.fill("#chat-input", "gặp nhân viên")
    citizen.press("#chat-input", "Enter")
    expect(citizen.locator("#messages")).to_contain_text("Đã chuyển cuộc trò chuyện tới cán bộ", timeout=WAIT_MS)
    conversation = Conversation.objects.get(account=account)
    assert conversation.status == Conversation.STATUS_WAITING

    # staff log in and find it waiting in the inbox
    staff_ctx = browser.new_context()
    staff = staff_ctx.new_page()
    staff.goto(f"{asgi_server}/admin/login/?next=/staff/{account.slug}/inbox/")
    staff.fill("#id_username", "canbo")
    staff.fill("#id_password", "pw-Staff-123")
    staff.click("input[type=submit]")
    link = staff.locator(f'#conversations a[data-id="{conversation.pk}"]')
    expect(link).to_be_visible(timeout=WAIT_MS)
    link.click()
    expect(staff.locator("#history")).to_contain_text("gặp nhân viên", timeout=WAIT_MS)
    staff.click("#assign")
    expect(staff.locator("#assignee")).to_have_text("canbo", timeout=WAIT_MS)
    staff.wait_for_function("() => document.body.dataset.live === '1'", timeout=WAIT_MS)

    # the citizen writes again: the bot stays quiet, staff see it live
    citizen.fill("#chat-input", "Tôi cần hỏi về hộ chiếu cho con")
    citizen.press("#chat-input", "Enter")
    expect(staff.locator("#history")).to_contain_text("Tôi cần hỏi về hộ chiếu cho con", timeout=WAIT_MS)

    # staff reply; the citizen sees it live, marked as from staff
    staff.fill("#reply-text", "Chào bạn, cán bộ Sở Demo đây. Bạn cần hộ chiếu cho con mấy tuổi?")
    staff.click("#send")
    staff_bubble = citizen.locator("#messages li.msg.staff")
    expect(staff_bubble).to_contain_text("Bạn cần hộ chiếu cho con mấy tuổi?", timeout=WAIT_MS)
    expect(staff.locator("#history li.staff")).to_contain_text("mấy tuổi", timeout=WAIT_MS)
    assert Message.objects.filter(conversation=conversation, sender="bot").count() == 1  # only the hand-off reply

    # staff close: the citizen is told the bot is back
    staff.click("#close")
    expect(citizen.locator("#messages")).to_contain_text("Trợ lý tự động sẽ tiếp tục", timeout=WAIT_MS)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.STATUS_BOT and conversation.assigned_to is None

    staff_ctx.close()
    citizen_ctx.close()
