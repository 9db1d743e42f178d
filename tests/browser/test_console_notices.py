"""The console's notice flow in headless Chromium at a phone (390×844) and a desktop (1440×900) size: a
broadcaster composes a notice through every step (content, audience with the area search and the live count,
a day-first date, check and submit, a "change" link back), cannot approve it; another person approves; the
open page follows the sending by itself (a poll of progress.json) once the dispatcher sends. Each compose step
passes axe.

Screenshots: test-artifacts/console_notice_{content,audience,schedule,check,approve,progress,list}_{390,1440}.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from broadcasts.fanout import dispatcher_tick
from broadcasts.models import Notice
from oa_platform.models import Area, Membership
from tests.broadcasts.conftest import follower
from tests.browser.axe import assert_accessible
from tests.factories import make_account, make_staff
from tests.oa_platform.web_support import areas_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
WAIT_MS = 10_000  # bounded waits for the pages
TITLE = "Cảnh báo bão số 9 đổ bộ"
BODY = "Bão số 9 đổ bộ đêm nay. Người dân ven biển di dời đến nơi an toàn trước 18:00."


def staff_page(browser, base: str, user, viewport: dict):
    """A browser context logged in as ``user`` (the session of a test client's force_login)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, locale="vi-VN", device_scale_factor=1)
    context.set_default_timeout(WAIT_MS)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    return context, context.new_page()


def shot(page, name: str, viewport: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console_notice_{name}_{viewport['width']}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_compose_submit_approve_and_watch_progress(asgi_server, browser, viewport):
    # given an agency with followers of the storm topic in Ho Chi Minh City (vi, en, zh) and one elsewhere
    areas_ensure()
    account = make_account("ubnd-demo", name="UBND Thành phố Demo")
    broadcaster = make_staff(account, Membership.ROLE_BROADCASTER, "phat-thanh")
    approver = make_staff(account, Membership.ROLE_APPROVER, "phe-duyet")
    hcm = Area.objects.get(name="Thành phố Hồ Chí Minh")
    for language in ("vi", "vi", "en", "zh-hans"):
        follower(account, topics=["storm-flood"], home=hcm.code, language=language)
    other = Area.objects.filter(parent__isnull=True).exclude(pk=hcm.pk).first()
    follower(account, topics=["storm-flood"], home=other.code)
    base = f"{asgi_server}/staff/{account.slug}/notices/"

    # when the broadcaster starts a notice from the list
    context, page = staff_page(browser, asgi_server, broadcaster, viewport)
    page.goto(base)
    page.click("text=Soạn thông báo mới")
    # step 1: content in Vietnamese and English, severity chosen with its explanation
    page.fill("#id_title_vi", TITLE)
    page.fill("#id_body_vi", BODY)
    page.check("#severity-extreme")
    page.fill("#id_title_en", "Storm No. 9 makes landfall")
    page.fill("#id_body_en", "Storm No. 9 makes landfall tonight. Coastal residents move to safety before 18:00.")
    page.fill("#id_link", "https://example.gov.vn/bao-so-9")
    assert_accessible(page)
    shot(page, "content", viewport)
    page.click("button.primary")

    # step 2: the audience; typing without tones finds the city, the count follows the choices
    expect(page.locator("h1")).to_have_text("Ai sẽ nhận thông báo?")
    notice = Notice.objects.get(account=account)
    count = page.locator('#audience-count [data-count="total"]')
    page.check("#topic-storm-flood")
    expect(count).to_have_text("5")
    page.fill("#area-q", "ho chi minh")
    province = page.locator(f"#province-list li:has(#area-p-{hcm.code})")
    expect(province).to_be_visible()
    expect(page.locator("#province-list li:visible")).to_have_count(1)
    page.fill("#area-q", "Hồ Chí Minh")
    expect(page.locator("#province-list li:visible")).to_have_count(1)
    page.check(f"#area-p-{hcm.code}")
    expect(count).to_have_text("4")  # live: the JSON endpoint, nothing saved yet
    expect(page.locator("#audience-count")).to_contain_text("Tiếng Anh")
    page.fill("#area-q", "")
    assert_accessible(page)
    shot(page, "audience", viewport)
    page.click("button[value=continue]")

    # step 3: a day-first date in the account's zone
    expect(page.locator("h1")).to_have_text("Khi nào gửi?")
    later = timezone.localtime(timezone.now() + dt.timedelta(days=2), account.tzinfo)
    page.check("#when-later")
    page.fill("#id_send_date", later.strftime("%d/%m/%Y"))
    page.fill("#id_send_time", "07:30")
    expect(page.locator("main")).to_contain_text("Asia/Ho_Chi_Minh")
    assert_accessible(page)
    shot(page, "schedule", viewport)
    page.click("button.primary")

    # step 4: check and submit: the phone preview and every answer with a change link
    expect(page.locator("h1")).to_have_text("Kiểm tra thông báo trước khi gửi")
    notice.refresh_from_db()
    assert notice.send_at == later.replace(hour=7, minute=30, second=0, microsecond=0)
    assert notice.audience_areas == [hcm.code] and notice.audience_topics == ["storm-flood"]
    expect(page.locator(".phone .notice.sev-extreme .sev-label").first).to_have_text("Khẩn cấp")
    expect(page.locator('.phone[lang="en"] .sev-label')).to_have_text("Extreme")
    expect(page.locator("dl.summary")).to_contain_text(later.strftime("%d/%m/%Y") + " 07:30")
    assert_accessible(page)
    shot(page, "check", viewport)
    # "change" the time to "as soon as approved": back to the check page afterwards
    page.locator("dd.change a[href*='schedule']").first.click()
    page.check("#when-now")
    page.click("button.primary")
    expect(page.locator("h1")).to_have_text("Kiểm tra thông báo trước khi gửi")
    page.click("text=Gửi đi để duyệt")

    # then it waits for another person; its author is told why there is no approve button
    expect(page.locator(".flash .success")).to_be_visible()
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING and notice.send_at is None
    expect(page.locator(".own-note")).to_be_visible()
    expect(page.locator("text=Duyệt và gửi")).to_have_count(0)
    context.close()

    # when the approver opens it and approves
    context, page = staff_page(browser, asgi_server, approver, viewport)
    page.goto(f"{base}{notice.pk}/")
    expect(page.locator("text=Duyệt và gửi")).to_be_visible()
    assert_accessible(page)
    shot(page, "approve", viewport)
    page.click("text=Duyệt và gửi")
    expect(page.locator(".flash .success")).to_be_visible()
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SCHEDULED and notice.approver == approver

    # then the dispatcher sends it and the open page follows by itself (its poll of progress.json)
    for _ in range(5):
        dispatcher_tick()
        notice.refresh_from_db()
        if notice.status == Notice.STATUS_SENT:
            break
    assert notice.status == Notice.STATUS_SENT and notice.recipients_count == 4
    expect(page.locator("#progress svg.chart-bar")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#progress")).to_contain_text("Trong ứng dụng (4)")
    expect(page.locator("#progress .big strong")).to_have_text("4")
    expect(page.locator(".meta .pill").first).to_have_text("Đã gửi")
    expect(page.locator("text=Hủy thông báo")).to_have_count(0)  # a sent notice is corrected or withdrawn
    expect(page.locator("text=Đính chính (gửi thông báo sửa)")).to_be_visible()
    assert_accessible(page)
    shot(page, "progress", viewport)
    # and the list shows it under "sent", with translated labels
    page.goto(f"{base}?state=sent")
    expect(page.locator("table.notices-table")).to_contain_text(TITLE)
    expect(page.locator("table.notices-table")).to_contain_text("Đã gửi")
    assert_accessible(page)
    shot(page, "list", viewport)
    context.close()
