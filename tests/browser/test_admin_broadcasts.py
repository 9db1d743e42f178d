"""Broadcast staff of agency A in headless Chromium against the real admin (uvicorn): a broadcaster composes
a notice and sees the audience preview, submits it and cannot approve it; an approver (another person)
approves; the dispatcher sends it; the progress bar and chart show the deliveries; "correct" on the sent
notice opens a pre-filled update addressed to the same citizens. Agency B's followers and notices never show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from broadcasts.fanout import dispatcher_tick
from broadcasts.models import Delivery, Notice
from oa_platform.models import Membership
from tests.broadcasts.conftest import draft, follower
from tests.factories import make_account, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAPTOP = {"width": 1280, "height": 800}
WAIT_MS = 10_000  # bounded waits for the pages
PASSWORD = "pw-Staff-123"
TITLE = "Cảnh báo bão số 3 đổ bộ"
BODY = "Bão số 3 đổ bộ đêm nay. Người dân vùng ven biển di dời đến nơi an toàn trước 18 giờ."
B_TITLE = "Thông báo riêng của cơ quan Bê"


class Tenant:
    def __init__(self, slug: str, name: str):
        self.account = make_account(slug, name=name)
        self.broadcaster = make_staff(self.account, Membership.ROLE_BROADCASTER, f"{slug}-phatthanh")
        self.approver = make_staff(self.account, Membership.ROLE_APPROVER, f"{slug}-pheduyet")


def login(browser, base: str, user, next_url: str = "/admin/broadcasts/notice/"):
    context = browser.new_context(viewport=LAPTOP, device_scale_factor=1)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{base}/admin/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#content")).to_be_visible(timeout=WAIT_MS)
    return context, page


def shot(page, name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-broadcasts-{name}.png"), full_page=True)


def dispatch_until_sent(notice: Notice, ticks: int = 5) -> Notice:
    """Dispatcher beats in this process (chunk tasks run eagerly; outside a transaction on-commit callbacks run
    at once). Bounded: a handful of ticks, each doing all the work it can."""
    for _ in range(ticks):
        dispatcher_tick()
        notice.refresh_from_db()
        if notice.status == Notice.STATUS_SENT:
            break
    return notice


def post_action_in_page(page, notice_pk: int, action: str) -> int:
    """POST an action as the page itself would (same session, CSRF token from the page), for a button that
    the page does not show."""
    return page.evaluate(
        """async ([pk, action]) => {
            const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            const body = new FormData();
            body.append("csrfmiddlewaretoken", token);
            const r = await fetch(`/admin/broadcasts/notice/${pk}/do/${action}/`,
                                  {method: "POST", body, credentials: "same-origin", redirect: "manual"});
            return r.status;
        }""",
        [notice_pk, action],
    )


def test_compose_approve_send_progress_and_correct(asgi_server, browser):
    # given agency A with storm subscribers and one follower of other topics; agency B with its own
    a = Tenant("so-a", "Cơ quan A")
    b = Tenant("so-b", "Cơ quan Bê")
    storm = [follower(a.account, topics=["storm-flood"]) for _ in range(3)]
    storm.append(follower(a.account, topics=["storm-flood"], language="en"))
    follower(a.account, topics=["health"])
    for _ in range(2):
        follower(b.account, topics=["storm-flood"])
    draft_b = draft(b, title_vi=B_TITLE)

    # when the broadcaster composes a notice
    ctx_b, page = login(browser, asgi_server, a.broadcaster)
    expect(page.locator("#result_list")).to_have_count(0)  # A has no notice; B's is not listed
    expect(page.locator("#content")).not_to_contain_text(B_TITLE)
    page.goto(f"{asgi_server}/admin/broadcasts/notice/add/")
    account_options = page.locator("#id_account option").all_inner_texts()
    assert not any("Bê" in o for o in account_options), account_options
    page.select_option("#id_account", str(a.account.pk))
    page.fill("#id_category", "storm-flood")
    page.select_option("#id_severity", "severe")
    page.fill("#id_title_vi", TITLE)
    page.fill("#id_body_vi", BODY)
    page.fill("#id_audience_topics", "storm-flood")
    shot(page, "compose")
    page.click("input[name=_continue]")

    # then the notice page shows the audience preview: exactly A's four storm subscribers
    preview = page.locator("#oa-preview")
    expect(preview).to_be_visible(timeout=WAIT_MS)
    notice = Notice.objects.get(account=a.account)
    assert notice.author == a.broadcaster and notice.status == Notice.STATUS_DRAFT
    expect(preview.locator("h3")).to_contain_text("4")
    expect(preview).to_contain_text("en")
    shot(page, "draft")

    # the broadcaster submits; they see no approve button, and approving by hand is refused
    page.click("button[value=submit]")
    expect(page.locator("ul.messagelist li.success")).to_be_visible(timeout=WAIT_MS)
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING
    expect(page.locator("button[value=approve]")).to_have_count(0)
    expect(page.locator("input[name=_save]")).to_have_count(0)  # only drafts are edited
    shot(page, "pending-author")
    assert post_action_in_page(page, notice.pk, "approve") == 403
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING and notice.approver is None

    # when another person, the approver, approves
    ctx_a, approver = login(browser, asgi_server, a.approver, f"/admin/broadcasts/notice/{notice.pk}/change/")
    expect(approver.locator("#oa-preview h3")).to_contain_text("4")
    shot(approver, "pending-approver")
    approver.click("button[value=approve]")
    expect(approver.locator("ul.messagelist li.success")).to_be_visible(timeout=WAIT_MS)
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SCHEDULED and notice.approver == a.approver

    # and the dispatcher sends it (severe: no quiet hours)
    notice = dispatch_until_sent(notice)
    assert notice.status == Notice.STATUS_SENT
    recipients = set(Delivery.objects.filter(notice=notice).values_list("citizen_id", flat=True))
    assert recipients == {c.pk for c in storm}

    # then the progress bar and the chart show every delivery
    approver.reload()
    progress = approver.locator("#oa-progress")
    expect(progress).to_be_visible(timeout=WAIT_MS)
    expect(progress.locator("#oa-done")).to_have_text("4")
    expect(progress.locator("#oa-pct")).to_have_text(re.compile(r"^100([.,]0)?$"))
    expect(progress.locator("svg[role=img] rect")).not_to_have_count(0)
    expect(progress).to_contain_text("sent")
    shot(approver, "sent")
    # the bar and the chart are drawn whatever the page language (no "100,0" in CSS or SVG numbers)
    assert approver.eval_on_selector("#oa-fill", "e => e.value") == 100
    bar = progress.locator("svg[role=img] rect").first.bounding_box()
    assert bar is not None and bar["width"] > 100
    # the panels sit under the title at the full width of the page, not squeezed beside it
    title = approver.locator("#content h1").bounding_box()
    panel = progress.bounding_box()
    assert panel["y"] >= title["y"] + title["height"] and panel["width"] > 600
    # a sent notice reads as plain text (no raw JSON) and offers no Save button that could only be refused
    expect(approver.locator(".field-audience_topics_text .readonly")).to_have_text("storm-flood")
    expect(approver.locator("#content-main")).not_to_contain_text('["')
    expect(approver.locator("input[name=_save], input[name=_continue], input[name=_addanother]")).to_have_count(0)

    # when the broadcaster corrects the sent notice
    page.reload()
    page.click("button[value=correct]")

    # then a pre-filled update of the original, addressed to exactly its recipients, waits as a draft
    expect(page.locator("#oa-preview")).to_be_visible(timeout=WAIT_MS)
    update = Notice.objects.get(references=notice)
    assert page.url.rstrip("/").endswith(f"/notice/{update.pk}/change")
    assert update.kind == Notice.KIND_UPDATE and update.status == Notice.STATUS_DRAFT
    expect(page.locator("#id_title_vi")).to_have_value(update.title_vi)
    assert TITLE in update.title_vi
    expect(page.locator("#id_body_vi")).not_to_have_value("")
    expect(page.locator("#oa-preview h3")).to_contain_text("4")
    expect(page.locator(".oa-panel h3").first).to_contain_text(f"#{notice.pk}")
    shot(page, "correction")

    # B's notice and followers were never touched nor shown
    draft_b.refresh_from_db()
    assert draft_b.status == Notice.STATUS_DRAFT
    assert not Delivery.objects.filter(notice__account=b.account).exists()
    for p in (page, approver):
        p.goto(f"{asgi_server}/admin/broadcasts/notice/")
        expect(p.locator("#result_list tbody tr")).to_have_count(2)
        expect(p.locator("#content")).not_to_contain_text(B_TITLE)
        p.goto(f"{asgi_server}/admin/broadcasts/notice/{draft_b.pk}/change/")
        expect(p.locator("#id_title_vi")).to_have_count(0)  # redirected away with "does not exist"
        assert B_TITLE not in p.content()

    ctx_a.close()
    ctx_b.close()
