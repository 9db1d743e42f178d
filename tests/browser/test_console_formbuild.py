"""The console's form builder in headless Chromium at a phone (390×844) and a desktop (1440×900) size: an
editor builds a three-question form (new form with its first question, two more added, one moved up), a
round typed day-first and one opened now; the form is open, and its web form page shows the questions in
that order. Each page passes axe.

Screenshots: test-artifacts/console_form_{new,questions,round}_{390,1440}.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from oa_platform.collect.models import Form
from oa_platform.models import Membership
from tests.browser.axe import assert_accessible
from tests.factories import make_account, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
WAIT_MS = 15_000


def staff_page(browser, base: str, user, viewport: dict):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, locale="vi-VN", device_scale_factor=1)
    context.set_default_timeout(WAIT_MS)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    return context, context.new_page()


def shot(page, name: str, viewport: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console_form_{name}_{viewport['width']}.png"), full_page=True)


def no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1440"])
def test_an_editor_builds_a_three_question_form_and_it_opens(asgi_server, browser, viewport):
    account = make_account("ubnd-demo", name="UBND Phường Demo")
    editor = make_staff(account, Membership.ROLE_EDITOR, "bien-tap")
    context, page = staff_page(browser, asgi_server, editor, viewport)

    # the editor starts from the forms list
    page.goto(f"{asgi_server}/staff/{account.slug}/forms/")
    page.get_by_role("link", name="Biểu mẫu mới").click()
    page.fill("#f-title-vi", "Khảo sát sau bão")
    page.fill("#f-title-en", "After the storm")
    page.fill("#f-retention", "90")
    page.select_option("#q-type", "choice")
    page.fill("#q-label-vi", "Mức thiệt hại")
    page.check('input[name="required"]')
    page.fill("#q-options", "Không\nMột phần\nToàn bộ")
    assert_accessible(page)
    no_horizontal_scroll(page)
    shot(page, "new", viewport)
    page.get_by_role("button", name="Tạo biểu mẫu").click()

    # two more questions, then the number question moved to the top
    expect(page.locator("h1")).to_contain_text("Khảo sát sau bão")
    page.select_option("#q-type", "number")
    page.fill("#q-label-vi", "Số người trong nhà")
    page.fill("#q-min", "1")
    page.fill("#q-max", "20")
    page.get_by_role("button", name="Thêm câu hỏi").click()
    expect(page.locator(".flash li.success")).to_be_visible()
    page.select_option("#q-type", "long_text")
    page.fill("#q-label-vi", "Ghi chú")
    page.get_by_role("button", name="Thêm câu hỏi").click()
    page.get_by_role("button", name="Lên Số người trong nhà").click()
    expect(page.locator("table.list tbody tr").first).to_contain_text("Số người trong nhà")
    assert_accessible(page)
    no_horizontal_scroll(page)
    shot(page, "questions", viewport)

    # a second round, typed day-first in the account's zone
    page.get_by_role("link", name="Đợt thu thập").click()
    expect(page.locator("form.panel-box")).to_contain_text(account.timezone)
    page.fill("#r-opens-date", "10/12/2030")
    page.fill("#r-opens-time", "08:00")
    page.fill("#r-closes-date", "11/12/2030")
    page.fill("#r-closes-time", "17:30")
    page.get_by_role("button", name="Mở đợt", exact=True).click()
    expect(page.locator("table.list")).to_contain_text("10/12/2030 08:00")
    assert_accessible(page)
    no_horizontal_scroll(page)
    shot(page, "round", viewport)

    # and one open now (no date): the form is open, its web form page shows the three questions in order
    page.get_by_role("button", name="Mở đợt", exact=True).click()
    expect(page.locator(".flash li.success")).to_be_visible()
    form = Form.objects.get(account=account)
    assert form.rounds.count() == 2
    page.goto(f"{asgi_server}/f/{account.slug}/{form.pk}/")
    text = page.locator("main").inner_text()
    positions = [text.find(label) for label in ("Số người trong nhà", "Mức thiệt hại", "Ghi chú")]
    assert -1 not in positions and positions == sorted(positions)
    context.close()
