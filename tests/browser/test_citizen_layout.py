"""The citizen page's layout and states at a phone (390×844) and a desktop (1440×900) size, in headless Chromium.

Each test saves screenshots under test-artifacts/ (``citizen_<what>_<width>.png``) for a reviewer to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from broadcasts.models import Delivery, Notice
from oa_platform import web_identity
from tests import factories
from tests.oa_platform.web_support import areas_ensure, make_faq_account, vague_question

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
WAIT_MS = 10_000  # bounded waits for the page


def open_page(browser, base: str, path: str, viewport: dict, cid: str | None = None):
    context = browser.new_context(viewport=viewport, locale="vi-VN", device_scale_factor=1)
    if cid:
        context.add_cookies(
            [{"name": web_identity.COOKIE_NAME, "value": web_identity.signed_cookie_value(cid), "url": base}]
        )
    page = context.new_page()
    page.goto(f"{base}{path}")
    return context, page


def shot(page, name: str, viewport: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"citizen_{name}_{viewport['width']}.png"))


def wait_live(page) -> None:
    page.wait_for_function("() => window.oaPage && window.oaPage.isLive()", timeout=WAIT_MS)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_suggestions_show_once_as_buttons_above_the_input(asgi_server, browser, viewport):
    account = make_faq_account("congan-demo", name="Công an Thành phố Demo", description="Giải đáp thủ tục.")
    vague, suggestion = vague_question(account)
    context, page = open_page(browser, asgi_server, f"/oa/{account.slug}/", viewport)
    wait_live(page)
    # given a conversation long enough to scroll
    for _ in range(4):
        page.fill("#chat-input", "Đổi căn cước hết bao nhiêu tiền?")
        page.press("#chat-input", "Enter")
        page.wait_for_timeout(50)
    expect(page.locator("#messages li.msg.out:not(.welcome)")).to_have_count(4, timeout=WAIT_MS)

    # when a vague question gets suggestions
    page.fill("#chat-input", vague)
    page.press("#chat-input", "Enter")
    button = page.locator("#quick button", has_text=suggestion.question)
    expect(button).to_be_visible(timeout=WAIT_MS)
    page.wait_for_timeout(300)  # the scroll into view settles
    shot(page, "suggestions", viewport)

    # then the suggestion is a button inside the viewport, above the input bar, not covered by it
    box, form = button.bounding_box(), page.locator("#chat-form").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= form["y"] + 1, (box, form)
    assert form["y"] + form["height"] <= viewport["height"] + 1
    assert page.evaluate("(el) => document.elementFromPoint(el.x + 5, el.y + 5).closest('#quick') !== null", box)
    # and the bubble no longer repeats the suggestions as a numbered list
    last = page.locator("#messages li.msg.out").last
    assert suggestion.question not in last.inner_text()
    assert "1." not in last.inner_text()
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_empty_chat_offers_starter_questions_with_the_input_at_the_bottom(asgi_server, browser, viewport):
    account = make_faq_account("congan-demo", name="Công an Thành phố Demo", description="Giải đáp thủ tục.")
    context, page = open_page(browser, asgi_server, f"/oa/{account.slug}/", viewport)
    wait_live(page)
    shot(page, "empty_chat", viewport)

    starters = page.locator("#quick button.starter")
    expect(starters.first).to_be_visible()
    assert starters.count() >= 2
    form = page.locator("#chat-form").bounding_box()
    assert form["y"] + form["height"] >= viewport["height"] - 40, form  # docked at the bottom, not mid-screen
    # when a starter is tapped, its question is asked and answered
    question = starters.first.inner_text()
    starters.first.click()
    expect(page.locator("#messages li.msg.in").first).to_have_text(question, timeout=WAIT_MS)
    expect(page.locator("#messages li.msg.out:not(.welcome)")).to_have_count(1, timeout=WAIT_MS)
    context.close()


def deliver(account, citizen, *, title: str, severity: str = Notice.SEVERITY_MODERATE, status=Notice.STATUS_SENT, **kw):
    now = timezone.now()
    notice = Notice.objects.create(
        account=account,
        category="general",
        severity=severity,
        title_vi=title,
        body_vi=f"Nội dung: {title}",
        status=status,
        started_at=now - dt.timedelta(minutes=5),
        **kw,
    )
    Delivery.objects.create(
        notice=notice, citizen=citizen, channel=Delivery.CHANNEL_INAPP, status=Delivery.STATUS_SENT, created_at=now
    )
    return notice


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_notices_show_severity_and_withdrawn_and_the_unread_badge_clears(asgi_server, browser, viewport):
    account = make_faq_account("congan-demo", name="Công an Thành phố Demo")
    cid = web_identity.new_cid()
    citizen = factories.make_citizen(external_id=cid, channel="web")
    flood = deliver(account, citizen, title="Lũ quét khẩn cấp", severity=Notice.SEVERITY_EXTREME)
    deliver(account, citizen, title="Lịch tiếp dân", severity=Notice.SEVERITY_MINOR)
    withdrawn = deliver(account, citizen, title="Cắt điện khu A", severity=Notice.SEVERITY_SEVERE)
    deliver(account, citizen, title="HỦY: Cắt điện khu A", kind=Notice.KIND_CANCEL, references=withdrawn)
    context, page = open_page(browser, asgi_server, f"/oa/{account.slug}/", viewport, cid=cid)
    wait_live(page)

    # given a notice that arrives while the chat tab is open: the badge counts it
    deliver(account, citizen, title="Thông báo mới", severity=Notice.SEVERITY_SEVERE)
    page.evaluate("() => window.oaPage.sync()")
    badge = page.locator("#inbox-count")
    expect(badge).to_have_text("1", timeout=WAIT_MS)
    expect(badge).to_be_visible()
    # when the inbox is opened the badge disappears
    page.click('.tab[data-tab="inbox"]')
    expect(badge).to_be_hidden()
    shot(page, "inbox", viewport)

    # then each severity has its own class and a translated label; the withdrawn notice says so
    extreme = page.locator(f'#notices li[data-id="{flood.pk}"]')
    expect(extreme).to_have_class("notice sev-extreme kind-alert")
    expect(extreme.locator(".sev-label")).to_have_text("Khẩn cấp")
    expect(page.locator("#notices li.sev-minor .sev-label")).to_have_text("Thông tin")
    expect(page.locator("#notices li.sev-severe .sev-label").first).to_have_text("Nghiêm trọng")
    gone = page.locator(f'#notices li[data-id="{withdrawn.pk}"]')
    expect(gone).to_have_class("notice sev-severe kind-alert withdrawn")
    expect(gone.locator(".withdrawn-label")).to_have_text("Đã thu hồi")
    colours = page.evaluate(
        """() => ['extreme', 'severe', 'moderate', 'minor'].map((s) => {
            const li = document.createElement('li'); li.className = 'notice sev-' + s;
            document.getElementById('notices').appendChild(li);
            const c = getComputedStyle(li).borderLeftColor; li.remove(); return c; })"""
    )
    assert len(set(colours)) == 4, colours
    context.close()


def test_following_clears_the_follow_first_error(asgi_server, browser):
    areas_ensure()
    account = make_faq_account("congan-demo", name="Công an Thành phố Demo")
    context, page = open_page(browser, asgi_server, f"/oa/{account.slug}/", PHONE)
    wait_live(page)
    page.click('.tab[data-tab="settings"]')
    page.click("#subs-save")
    expect(page.locator("#subs-status")).to_have_text("Hãy theo dõi tài khoản để chọn thông báo muốn nhận.")
    page.click("#follow-btn")
    expect(page.locator("#follow-btn")).to_have_text("Bỏ theo dõi", timeout=WAIT_MS)
    expect(page.locator("#subs-status")).to_have_text("")
    expect(page.locator("#settings-locked")).to_be_hidden()
    shot(page, "settings_followed", PHONE)
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_home_cards_show_the_description_and_an_open_button(asgi_server, browser, viewport):
    make_faq_account("congan-demo", name="Công an Thành phố Demo", description="Giải đáp thủ tục căn cước.")
    context, page = open_page(browser, asgi_server, "/", viewport)
    shot(page, "home", viewport)
    card = page.locator(".card").first
    expect(card.locator(".card-desc")).to_have_text("Giải đáp thủ tục căn cước.")
    expect(card.locator(".card-action")).to_have_text("Mở")
    assert page.evaluate("() => document.querySelector('link[rel=icon]').href").endswith(".svg")
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_waiting_for_staff_is_shown_with_a_way_back_to_the_bot(asgi_server, browser, viewport):
    account = make_faq_account("congan-demo", name="Công an Thành phố Demo")
    context, page = open_page(browser, asgi_server, f"/oa/{account.slug}/", viewport)
    wait_live(page)
    expect(page.locator("#handoff")).to_be_hidden()
    # when the citizen asks for a person
    page.fill("#chat-input", "gặp cán bộ")
    page.press("#chat-input", "Enter")
    # then the page says staff are awaited, above the input, with a way back
    expect(page.locator("#handoff")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#handoff-text")).to_contain_text("Đang chờ cán bộ")
    page.wait_for_timeout(300)
    shot(page, "waiting", viewport)
    # and after a reload it still says so
    page.reload()
    wait_live(page)
    expect(page.locator("#handoff")).to_be_visible()
    page.click("#back-to-bot")
    expect(page.locator("#handoff")).to_be_hidden(timeout=WAIT_MS)
    expect(page.locator("#messages li.msg.out").last).to_contain_text("trợ lý ảo")
    page.fill("#chat-input", "Đổi căn cước hết bao nhiêu tiền?")
    page.press("#chat-input", "Enter")
    expect(page.locator("#messages li.msg.out").last).to_contain_text("50.000 đồng", timeout=WAIT_MS)
    context.close()
