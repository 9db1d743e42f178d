"""The Content-Security-Policy in a real browser: the citizen page, the staff inbox, the admin (Django's own
pages and ours) and the API docs load and work under it with no violation reported, and no page can be
framed by another site."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from broadcasts.models import Notice
from broadcasts.services import Actor, notice_create
from faq.services import faq_entry_create
from oa_platform.models import Conversation, Membership, Message
from tests.factories import make_follower, make_staff
from tests.oa_platform.web_support import make_faq_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAIT_MS = 10_000  # bounded waits for the pages
# Runs before any page script and is not subject to the page's policy: records every violation the page sees.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""


class Watched:
    """A browser context whose pages report CSP violations from the console and from the DOM event."""

    def __init__(self, browser):
        self.context = browser.new_context(locale="vi-VN")
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.console: list[str] = []
        self.page = self.context.new_page()
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.console.append(text)

    def open(self, url: str):
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), url
        return self.page

    def assert_clean(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        recorded = self.page.evaluate("window.__cspViolations || []")
        assert recorded == [], f"{where}: {recorded}"
        assert self.console == [], f"{where}: {self.console}"


def test_pages_work_under_the_policy(asgi_server, browser):
    # given: an account with a FAQ, a conversation waiting for staff, a notice and the platform operator
    account = make_faq_account("csp-demo", name="Sở Demo")
    account.working_hours_start, account.working_hours_end = dt.time(0, 0), dt.time(23, 59, 59)
    account.working_days = "0,1,2,3,4,5,6"
    account.save()
    citizen = make_follower(account, display_name="Công dân A")
    conversation = Conversation.objects.create(
        account=account, citizen=citizen, status=Conversation.STATUS_WAITING, handoff_requested_at=timezone.now()
    )
    Message.objects.create(conversation=conversation, direction=Message.DIRECTION_IN, text="cần gặp cán bộ")
    faq_entry_create(
        account=account,
        key="trang-web",
        question="Trang web chính thức của sở là gì?",
        answer="Xem javascript:alert(document.domain)// hoặc https://dichvucong.gov.vn",
        variants=[],
    )
    make_staff(account, Membership.ROLE_MANAGER, "quanly")
    make_staff(None, username="operator", is_superuser=True)
    notice = notice_create(
        account=account, actor=Actor(), category="health", title_vi="Tiêm chủng", body_vi="Lịch tiêm chủng."
    ).notice
    Notice.objects.filter(pk=notice.pk).update(status=Notice.STATUS_SENDING, started_at=timezone.now())

    # the citizen page: a question gets its answer over the WebSocket, the tabs switch
    citizen_tab = Watched(browser)
    page = citizen_tab.open(f"{asgi_server}/oa/{account.slug}/")
    page.wait_for_function("() => window.oaPage && window.oaPage.isLive()", timeout=WAIT_MS)
    page.fill("#chat-input", "Đổi căn cước hết bao nhiêu tiền?")
    page.press("#chat-input", "Enter")
    expect(page.locator("#messages li.msg.out:not(.welcome)").last).to_contain_text("50.000", timeout=WAIT_MS)
    # an FAQ answer is text: a script URL in it is shown, never made a link
    page.fill("#chat-input", "Trang web chính thức của sở là gì?")
    page.press("#chat-input", "Enter")
    expect(page.locator("#messages li.msg.out:not(.welcome)").last).to_contain_text("javascript:alert", timeout=WAIT_MS)
    # only the https address in it became a link (replies link web addresses)
    hrefs = page.locator("#messages a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://dichvucong.gov.vn"]
    page.click('.tab[data-tab="settings"]')
    expect(page.locator("#panel-settings")).to_be_visible()
    citizen_tab.assert_clean("citizen page")
    citizen_tab.open(f"{asgi_server}/")
    citizen_tab.assert_clean("home page")

    # the staff inbox: live over its socket, a reply goes out from the static script
    staff = Watched(browser)
    page = staff.open(f"{asgi_server}/admin/login/?next=/staff/{account.slug}/inbox/{conversation.pk}/")
    page.fill("#id_username", "quanly")
    page.fill("#id_password", "pw-Staff-123")
    page.click("input[type=submit]")
    page.wait_for_function("() => document.body.dataset.live === '1'", timeout=WAIT_MS)
    expect(page.locator("#history")).to_contain_text("cần gặp cán bộ", timeout=WAIT_MS)
    page.fill("#reply-text", "Chào bạn, cán bộ đây.")
    page.click("#send")
    expect(page.locator("#history")).to_contain_text("Chào bạn, cán bộ đây.", timeout=WAIT_MS)
    expect(page.locator("#reply-text")).to_have_value("")
    staff.assert_clean("staff inbox")

    # the admin: Django's pages (with their widgets' scripts) and ours
    operator = Watched(browser)
    page = operator.open(f"{asgi_server}/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw-Staff-123")
    page.click("input[type=submit]")
    expect(page.locator("#oa-accounts")).to_be_visible(timeout=WAIT_MS)
    operator.assert_clean("admin index")
    page = operator.open(f"{asgi_server}/admin/broadcasts/notice/add/")
    page.locator(".datetimeshortcuts a").first.click()  # the calendar/clock shortcuts (Django's admin JS)
    expect(page.locator("#id_send_at_0")).not_to_have_value("")
    operator.assert_clean("notice add form")
    page = operator.open(f"{asgi_server}/admin/broadcasts/notice/{notice.pk}/change/")
    expect(page.locator("#oa-progress")).to_be_visible()
    page.wait_for_timeout(2500)  # the progress script polls once after 2 s
    operator.assert_clean("notice change form (sending)")
    for path in (
        "/admin/broadcasts/notice/",
        "/admin/oa_platform/channelconfig/add/",
        "/admin/auth/user/add/",
        f"/admin/oa_platform/conversation/{conversation.pk}/change/",
        "/admin/faq/faqentry/",
    ):
        operator.open(f"{asgi_server}{path}")
        operator.assert_clean(path)
    page = operator.open(f"{asgi_server}/api/docs/")
    expect(page.locator("#swagger-ui .info")).to_be_visible(timeout=WAIT_MS)
    operator.assert_clean("API docs")
    for watched in (citizen_tab, staff, operator):
        watched.context.close()


def test_no_page_can_be_framed(asgi_server, browser):
    account = make_faq_account("csp-frame", name="Sở Khung")
    context = browser.new_context()
    page = context.new_page()
    page.goto("about:blank")
    page.set_content(f'<iframe id="f" src="{asgi_server}/oa/{account.slug}/"></iframe>')
    page.wait_for_timeout(1500)
    framed = [f for f in page.frames if f is not page.main_frame]
    assert framed, "the iframe was not created"
    assert all(not f.url.startswith(asgi_server) or f.locator("#chat-input").count() == 0 for f in framed)
    context.close()


def test_the_watch_sees_a_violation(asgi_server, browser):
    """The check above can fail: markup with an inline style or script is reported on the same page."""
    account = make_faq_account("csp-watch", name="Sở Theo dõi")
    watched = Watched(browser)
    page = watched.open(f"{asgi_server}/oa/{account.slug}/")
    page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<p style="color:red">x</p>');
        var s = document.createElement("script"); s.textContent = "window.__ran = 1"; document.body.appendChild(s);""")
    page.wait_for_timeout(300)
    recorded = page.evaluate("window.__cspViolations")
    assert any(v.startswith("style-src") for v in recorded) and any(v.startswith("script-src") for v in recorded)
    assert page.evaluate("window.__ran") is None
    with pytest.raises(AssertionError):
        watched.assert_clean("a page with inline markup")
    watched.context.close()
