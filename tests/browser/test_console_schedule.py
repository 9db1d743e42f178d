"""A hospital's daily staff check-in set in the console, in headless Chromium at a phone (390×844) and a desktop
(1440×900) size: the manager opens the form's "schedule and audience" page from the forms list, picks "daily",
08:00, open 10 hours, reminder 09:00, and the staff as the audience; after saving, the page counts the three
staff and the list shows the schedule. Each page passes axe.

Screenshots: test-artifacts/console_form_schedule_{390,1440}.png and console_form_schedule_saved_{390,1440}.png."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from oa_platform.collect.models import Form
from oa_platform.models import Membership
from tests.browser.axe import assert_accessible
from tests.browser.test_console_formbuild import DESKTOP, PHONE, no_horizontal_scroll, shot, staff_page
from tests.collect.builders import make_form
from tests.factories import make_account, make_citizen_of, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1440"])
def test_a_manager_sets_a_daily_8_oclock_staff_check_in(asgi_server, browser, viewport):
    account = make_account("benh-vien", name="Bệnh viện Demo")
    manager = make_staff(account, Membership.ROLE_MANAGER, "quan-ly")
    for i in range(3):  # three staff with their identities on the account's channels
        member = make_staff(account, Membership.ROLE_EDITOR, f"dieu-duong-{i}").memberships.get(account=account)
        member.test_citizen = make_citizen_of(account, channel="generic")
        member.save(update_fields=["test_citizen"])
    form = make_form(account, key="diem-danh")
    context, page = staff_page(browser, asgi_server, manager, viewport)

    page.goto(f"{asgi_server}/staff/{account.slug}/forms/")
    page.get_by_role("link", name="Lịch và người nhận").click()
    expect(page.locator("h1")).to_contain_text("Lịch và người nhận")
    page.get_by_label("hằng ngày").check()
    page.fill("#s-open", "08:00")
    page.fill("#s-window", "10")
    page.fill("#s-remind", "09:00")
    page.get_by_label("cán bộ (danh tính thử)").check()
    assert_accessible(page)
    no_horizontal_scroll(page)
    shot(page, "schedule", viewport)
    page.get_by_role("button", name="Lưu", exact=True).click()

    expect(page.locator(".flash li.success")).to_contain_text("Đã lưu lịch và người nhận")
    expect(page.locator("#audience-now")).to_contain_text("3 người")
    expect(page.locator("#s-open")).to_have_value("08:00")
    assert_accessible(page)
    no_horizontal_scroll(page)
    shot(page, "schedule_saved", viewport)
    form.refresh_from_db()
    assert (form.repeat, form.open_time, form.window_minutes, form.remind_time, form.audience) == (
        Form.REPEAT_DAILY,
        dt.time(8),
        600,
        dt.time(9),
        Form.AUDIENCE_STAFF,
    )
    page.goto(f"{asgi_server}/staff/{account.slug}/forms/")
    expect(page.locator("table.list")).to_contain_text("hằng ngày 08:00")
    context.close()
