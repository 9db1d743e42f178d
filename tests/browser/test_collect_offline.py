"""The web form page with no network (issue 16): opened once online (the service worker keeps it), the phone
goes offline, the citizen fills the form and sends it ("saved on this phone, will be sent"), reloads the page
still offline (it opens from the cache, the answers still on the phone), the network returns, and exactly one
response arrives ("received")."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.signals import request_started
from playwright.sync_api import expect

from oa_platform.collect.models import Response, Submission
from tests import factories
from tests.browser.axe import assert_accessible
from tests.collect.builders import make_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 360, "height": 740}
WAIT_MS = 15_000  # bounded waits for the page
QUESTIONS = [
    {"key": "people", "type": "number", "label_vi": "Số người trong nhà", "required": True, "min": 1, "max": 20},
    {
        "key": "damage",
        "type": "choice",
        "label_vi": "Mức thiệt hại",
        "required": True,
        "options": [{"key": "partial", "label_vi": "Một phần"}, {"key": "total", "label_vi": "Toàn bộ"}],
    },
    {"key": "injured", "type": "yes_no", "label_vi": "Có người bị thương?"},
    {"key": "notes", "type": "long_text", "label_vi": "Ghi chú"},
]


def test_a_form_filled_offline_arrives_once_when_the_network_returns(asgi_server, browser):
    form = make_form(factories.make_account("flood-demo", name="UBND Phường Demo"), questions=QUESTIONS)
    url = f"{asgi_server}/f/{form.account.slug}/{form.pk}/"
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    # given: the page opened once with a network; the service worker has kept it
    page.goto(url)
    page.wait_for_function(
        "() => document.getElementById('collect-form').dataset.offlineReady === '1'", timeout=WAIT_MS
    )
    assert_accessible(page)
    # when: the phone loses its network and the citizen answers
    context.set_offline(True)
    page.fill('input[name="people"]', "5")
    page.check('input[name="damage"][value="total"]')
    page.check('input[name="injured"][value="no"]')
    page.fill('textarea[name="notes"]', "Nước ngập 1m")
    page.click(".collect-submit")
    status = page.locator("#collect-status")
    expect(status).to_have_attribute("data-state", "saved", timeout=WAIT_MS)
    expect(status).to_contain_text("Đã lưu trên điện thoại này")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "collect-offline-saved.png"), full_page=True)
    assert Response.objects.count() == 0
    # and reloads the page, still offline: it opens from the cache (the server sees no request) with the
    # answers kept on the phone
    seen = []
    request_started.connect(
        lambda sender, **kw: seen.append(kw.get("scope", {}).get("path")), weak=False, dispatch_uid="t"
    )
    try:
        reloaded = page.reload()
    finally:
        request_started.disconnect(dispatch_uid="t")
    assert reloaded.from_service_worker and seen == []
    expect(page.locator("h1")).to_have_text("Báo cáo thiệt hại do lũ", timeout=WAIT_MS)
    expect(status).to_have_attribute("data-state", "saved", timeout=WAIT_MS)
    expect(page.locator('input[name="people"]')).to_have_value("5")
    assert Response.objects.count() == 0
    # then: the network returns and the answers arrive, once
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(status).to_have_attribute("data-state", "received", timeout=WAIT_MS)
    expect(status).to_contain_text("Đã nhận")
    page.screenshot(path=str(ARTIFACTS / "collect-offline-received.png"), full_page=True)
    assert Response.objects.count() == 1 and Submission.objects.count() == 1
    stored = Response.objects.get()
    assert stored.answers == {"people": 5, "damage": "total", "injured": False, "notes": "Nước ngập 1m"}
    # a second reload sends nothing more and says it was received
    page.reload()
    expect(status).to_have_attribute("data-state", "received", timeout=WAIT_MS)
    assert Response.objects.count() == 1
    context.close()


def test_a_submission_refused_with_429_stays_on_the_phone_and_is_sent_after_retry_after(asgi_server, browser, settings):
    from oa_platform import ratelimit  # the server's limiter, to spend this IP's only token before the page sends

    # given: one submission per 3 s from an IP, and that one just spent
    settings.COLLECT_RATE_IP = (1, 3)
    form = make_form(factories.make_account("flood-rate", name="UBND Phường Demo"), questions=QUESTIONS)
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{asgi_server}/f/{form.account.slug}/{form.pk}/")
    assert ratelimit.try_take(("collect:ip:127.0.0.1", 1 / 3, 1)) == 0
    # when: the citizen sends the form
    page.fill('input[name="people"]', "3")
    page.check('input[name="damage"][value="partial"]')
    with page.expect_response(lambda r: r.url.endswith("/responses/")) as refused:
        page.click(".collect-submit")
    # then: the server said 429 with Retry-After, the page says "saved on this phone", nothing is stored
    assert refused.value.status == 429 and int(refused.value.headers["retry-after"]) >= 1
    status = page.locator("#collect-status")
    expect(status).to_have_attribute("data-state", "saved")
    assert Response.objects.count() == 0
    # and after Retry-After (well before the page's 15 s retry) it is sent again and received, once
    expect(status).to_have_attribute("data-state", "received", timeout=10_000)
    assert Response.objects.count() == 1 and Submission.objects.count() == 1
    context.close()
