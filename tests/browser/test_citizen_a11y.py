"""Accessibility scan (axe-core) of the citizen page in its states: home, empty chat, an answered question,
the notices tab, the settings tab; at a phone size, in Vietnamese and English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.test_citizen_layout import PHONE, WAIT_MS, open_page, wait_live
from tests.oa_platform.web_support import make_faq_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_citizen_pages_have_no_serious_accessibility_violations(asgi_server, browser, locale):
    account = make_faq_account("congan-demo", name="Công an Thành phố Demo", description="Giải đáp thủ tục.")
    context, page = open_page(browser, asgi_server, "/", PHONE)
    assert_accessible(page)
    page.goto(f"{asgi_server}/oa/{account.slug}/")
    wait_live(page)
    assert_accessible(page)
    # an answered question
    page.locator("#quick button.starter").first.click()
    expect(page.locator("#messages li.msg.out:not(.welcome)")).to_have_count(1, timeout=WAIT_MS)
    assert_accessible(page)
    # the other tabs
    for tab in page.locator(".tabs .tab").all():
        tab.click()
        assert_accessible(page)
    context.close()
