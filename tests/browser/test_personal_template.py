"""The personal notice template form in headless Chromium: the SMS length in segments follows the typing
(GSM-7 160/153, UCS-2 70/67), under the site's strict CSP (the counter is a static script)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from broadcasts.personal.rendering import sms_length
from oa_platform.models import Membership
from tests.factories import make_account, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAIT_MS = 10_000


def test_the_sms_counter_follows_the_typing(asgi_server, browser):
    account = make_account("personal-demo")
    make_staff(account, Membership.ROLE_BROADCASTER, "nguoigui")
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{asgi_server}/admin/login/?next=/staff/{account.slug}/personal/templates/new/")
    page.fill("#id_username", "nguoigui")
    page.fill("#id_password", "pw-Staff-123")
    page.click("input[type=submit]")
    counter = page.locator("output[data-sms-counter]")
    for text in ("a" * 160, "a" * 161, "Chào ((name)), lịch tiêm", "€" * 80 + "x"):
        page.fill("#sms_text", text)
        length = sms_length(text)
        expect(counter).to_have_text(
            f"{length.units} ký tự, {length.segments} tin SMS ({length.encoding})", timeout=WAIT_MS
        )
    # empty SMS text: the Vietnamese body is what is sent by SMS
    page.fill("#sms_text", "")
    page.fill("#body_vi", "ă" * 71)
    expect(counter).to_have_text("71 ký tự, 2 tin SMS (UCS-2)", timeout=WAIT_MS)
    assert errors == []  # no CSP refusal, no script error
    context.close()
