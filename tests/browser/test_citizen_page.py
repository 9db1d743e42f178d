"""A citizen in headless Chromium on /oa/<slug>/: ask, get answers, follow, choose notices, reload, reconnect."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from oa_platform.models import Conversation, Follow, Message
from tests.oa_platform.web_support import ANSWERS, areas_ensure, make_faq_account, vague_question

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 360, "height": 740}
WAIT_MS = 10_000  # bounded waits for the page


def open_page(browser, url: str, *, locale: str = "vi-VN", init_script: str | None = None):
    context = browser.new_context(viewport=PHONE, locale=locale, device_scale_factor=1)
    page = context.new_page()
    if init_script:
        page.add_init_script(init_script)
    page.goto(url)
    return context, page


def bot_bubbles(page):
    return page.locator("#messages li.msg.out:not(.welcome)")


def test_citizen_asks_follows_chooses_notices_and_sees_history(asgi_server, browser):
    areas_ensure()
    account = make_faq_account(
        "congan-demo",
        name="Công an Thành phố Demo",
        description="Giải đáp thủ tục căn cước, hộ chiếu, đăng ký xe.",
    )
    context, page = open_page(browser, f"{asgi_server}/oa/{account.slug}/")
    page.wait_for_function("() => window.oaPage && window.oaPage.isLive()", timeout=WAIT_MS)

    # ask a question, get the answer over the WebSocket, rate it
    page.fill("#chat-input", "Đổi căn cước hết bao nhiêu tiền?")
    page.press("#chat-input", "Enter")
    expect(bot_bubbles(page).last).to_contain_text("50.000 đồng", timeout=WAIT_MS)
    bot_bubbles(page).last.locator('button[data-helpful="1"]').click()
    expect(bot_bubbles(page).last).to_contain_text("Cảm ơn bạn đã góp ý", timeout=WAIT_MS)

    # a vague question gives quick replies; one click asks it
    vague, suggestion = vague_question(account)
    page.fill("#chat-input", vague)
    page.click("#send-btn")
    quick = page.locator("#quick button", has_text=suggestion.question)
    expect(quick).to_be_visible(timeout=WAIT_MS)
    quick.click()
    expect(bot_bubbles(page).last).to_contain_text(ANSWERS[suggestion.key][:30], timeout=WAIT_MS)

    # follow, then choose topics and an area
    page.click("#follow-btn")
    expect(page.locator("#follow-btn")).to_have_text("Bỏ theo dõi", timeout=WAIT_MS)
    page.click('.tab[data-tab="settings"]')
    page.uncheck('input[name="topics"][value="general"]')
    page.uncheck('input[name="topics"][value="traffic"]')
    page.select_option("#province", "79")
    expect(page.locator("#ward option")).not_to_have_count(1, timeout=WAIT_MS)
    ward_code = page.locator("#ward option").nth(1).get_attribute("value")
    page.select_option("#ward", ward_code)
    page.click("#subs-save")
    expect(page.locator("#subs-status")).to_have_text("Đã lưu.", timeout=WAIT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "citizen_page_settings_360.png"), full_page=True)

    # reload: the history, the follow and the choices are still there
    page.reload()
    page.wait_for_function("() => window.oaPage && window.oaPage.isLive()", timeout=WAIT_MS)
    expect(page.locator("#messages li.msg.in")).to_have_count(3)
    expect(bot_bubbles(page)).to_have_count(3)
    expect(page.locator("#messages")).to_contain_text("Đổi căn cước hết bao nhiêu tiền?")
    expect(page.locator("#follow-btn")).to_have_text("Bỏ theo dõi")
    page.click('.tab[data-tab="settings"]')
    expect(page.locator('input[name="topics"][value="general"]')).not_to_be_checked()
    expect(page.locator('input[name="topics"][value="health"]')).to_be_checked()
    expect(page.locator("#province")).to_have_value("79")
    expect(page.locator("#ward")).to_have_value(ward_code, timeout=WAIT_MS)
    page.click('.tab[data-tab="chat"]')
    page.screenshot(path=str(ARTIFACTS / "citizen_page_chat_360.png"), full_page=False)

    # a network drop: a staff reply written meanwhile arrives after the automatic reconnect and sync
    conversation = Conversation.objects.get(account=account)
    Message.objects.create(
        conversation=conversation, direction="out", sender="staff", channel="web", text="Cán bộ trực: đã nhận."
    )
    page.evaluate("window.oaPage.drop()")
    expect(page.locator("#messages li.msg.staff")).to_contain_text("Cán bộ trực: đã nhận.", timeout=WAIT_MS)
    page.wait_for_function("() => window.oaPage.isLive()", timeout=WAIT_MS)

    # then, in the database
    context.close()
    follow = Follow.objects.get(account=account)
    assert follow.is_active
    assert set(follow.topics.values_list("key", flat=True)) == {"storm-flood", "health", "vaccination"}
    assert list(follow.areas.values_list("code", flat=True)) == [ward_code]
    assert Message.objects.filter(conversation=conversation, helpful=True).count() == 1


def test_page_falls_back_to_http_when_the_socket_cannot_connect(asgi_server, browser):
    account = make_faq_account("congan-fallback")
    blocked = "window.WebSocket = function () { throw new Error('blocked by the test'); };"
    context, page = open_page(browser, f"{asgi_server}/oa/{account.slug}/", locale="en-US", init_script=blocked)
    page.wait_for_function("() => window.oaPage && window.oaPage.isPolling()", timeout=WAIT_MS)
    # an English browser still gets the agency's Vietnamese page until the citizen picks a language
    expect(page.locator("#conn")).to_have_text("Đang dùng chế độ dự phòng.")

    page.fill("#chat-input", "Làm hộ chiếu ở đâu?")
    page.press("#chat-input", "Enter")
    expect(bot_bubbles(page).last).to_contain_text("Phòng Quản lý xuất nhập cảnh", timeout=WAIT_MS)

    # a staff reply arrives by polling history?after=
    conversation = Conversation.objects.get(account=account)
    Message.objects.create(conversation=conversation, direction="out", sender="staff", channel="web", text="Hello!")
    expect(page.locator("#messages li.msg.staff")).to_contain_text("Hello!", timeout=WAIT_MS)
    context.close()


def test_after_a_fallback_one_tap_asks_for_a_person(asgi_server, browser):
    account = make_faq_account("congan-person")
    context, page = open_page(browser, f"{asgi_server}/oa/{account.slug}/")
    page.wait_for_function("() => window.oaPage && window.oaPage.isLive()", timeout=WAIT_MS)

    page.fill("#chat-input", "giá vé máy bay đi Singapore tuần sau")
    page.press("#chat-input", "Enter")
    expect(page.locator("#ask-human")).to_have_text("Gặp cán bộ", timeout=WAIT_MS)
    page.click("#ask-human")

    expect(bot_bubbles(page).last).to_contain_text("Đã chuyển cuộc trò chuyện tới cán bộ", timeout=WAIT_MS)
    context.close()
    conversation = Conversation.objects.get(account=account)
    assert conversation.status == Conversation.STATUS_WAITING
