"""A staff member links their chat identity by themselves, in headless Chromium at a phone (390×844) and a desktop
(1440×900) size: from the user menu to "Link a chat account", a one-time code, the code sent from the account's
web chat page, the bot's confirmation, and the console page showing the link. Each console page passes axe.

Screenshots: test-artifacts/console_chat_link_{code,linked}_{390,1440}.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from oa_platform.models import Membership
from tests.browser.axe import assert_accessible
from tests.browser.test_citizen_page import WAIT_MS, bot_bubbles, open_page
from tests.browser.test_console_formbuild import ARTIFACTS, DESKTOP, PHONE, no_horizontal_scroll, staff_page
from tests.factories import make_account, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str, viewport: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console_chat_link_{name}_{viewport['width']}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1440"])
def test_a_nurse_links_her_chat_identity_with_a_code(asgi_server, browser, viewport):
    account = make_account("benh-vien", name="Bệnh viện Demo")
    nurse = make_staff(account, Membership.ROLE_EDITOR, "dieu-duong", first_name="Lan", last_name="Nguyễn")
    context, page = staff_page(browser, asgi_server, nurse, viewport)
    page.goto(f"{asgi_server}/staff/{account.slug}/")
    page.locator("details.usermenu summary").click()
    page.get_by_role("link", name="Liên kết tài khoản chat").click()
    expect(page.locator("#chat-link-status")).to_contain_text("Chưa liên kết")
    page.get_by_role("button", name="Lấy mã liên kết").click()
    example = page.locator("#chat-link-code code").first
    expect(example).to_contain_text("liên kết ")
    message = example.inner_text()
    assert_accessible(page)
    no_horizontal_scroll(page)
    shot(page, "code", viewport)

    # the nurse sends it from the account's web chat page
    chat_context, chat = open_page(browser, f"{asgi_server}/oa/{account.slug}/")
    chat.wait_for_function("() => window.oaPage && window.oaPage.isLive()", timeout=WAIT_MS)
    chat.fill("#chat-input", message)
    chat.press("#chat-input", "Enter")
    expect(bot_bubbles(chat).last).to_contain_text("Đã liên kết", timeout=WAIT_MS)
    chat_context.close()

    page.goto(f"{asgi_server}/staff/{account.slug}/me/chat/")
    expect(page.locator("#chat-link-status")).to_contain_text("Đã liên kết một tài khoản chat")
    assert_accessible(page)
    no_horizontal_scroll(page)
    shot(page, "linked", viewport)
    assert Membership.objects.get(user=nurse, account=account).test_citizen is not None
    context.close()
