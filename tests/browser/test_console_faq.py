"""The console's FAQ section in headless Chromium at a phone (390×844) and a desktop (1440×900) size: an editor
reviews the unanswered questions, adds one as a variant of the preselected entry with one click, then "try a
question" with that text answers with that entry. Screenshots: test-artifacts/console_faq_<what>_<width>.png;
axe-core scans of the list, edit, review and try pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from faq import index
from faq.models import FaqEntry, UnansweredQuestion
from faq.services import unanswered_record
from oa_platform.models import Membership
from tests.browser.axe import assert_accessible
from tests.browser.test_citizen_layout import DESKTOP, PHONE, WAIT_MS
from tests.factories import make_account, make_staff
from tests.oa_platform.web_support import make_faq_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# A question the bot only suggests for (its nearest entry is the ID-card fee), asked in two ways.
QUESTION = "làm lại cccd mất mấy đồng"


def staff_page(browser, base: str, user, viewport: dict):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, locale="vi-VN", device_scale_factor=1)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            },
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "vi", "url": base},
        ]
    )
    return context, context.new_page()


def shot(page, name: str, viewport: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console_faq_{name}_{viewport['width']}.png"), full_page=True)


def no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_editor_reviews_a_question_then_the_bot_answers_it(asgi_server, browser, viewport):
    index.index_forget()
    account = make_faq_account("congan-demo", name="Công an Thành phố Demo")
    referred_to = make_account("so-gtvt", name="Sở Giao thông vận tải")
    unanswered_record(account=account, text=QUESTION, decision="suggest")
    unanswered_record(account=account, text=QUESTION, decision="suggest")
    unanswered_record(account=account, text="làm lại cccd mất mấy đồng vậy ad", decision="suggest")
    unanswered_record(account=account, text="giá vàng hôm nay bao nhiêu", decision="fallback")
    elsewhere = unanswered_record(account=account, text="đăng kiểm ô tô ở đâu", decision="fallback")
    UnansweredQuestion.objects.filter(pk=elsewhere.pk).update(decision="other_agency", referred_to=referred_to)
    editor = make_staff(account, Membership.ROLE_EDITOR, "bien-tap")
    fee = FaqEntry.objects.get(account=account, key="cccd-le-phi")
    context, page = staff_page(browser, asgi_server, editor, viewport)
    base = f"{asgi_server}/staff/{account.slug}/faq/"

    # the list, then searched without diacritics
    page.goto(base)
    expect(page.locator(".faq-entry")).to_have_count(3)
    no_horizontal_scroll(page)
    shot(page, "list", viewport)
    assert_accessible(page)
    page.locator("#faq-q").fill("le phi can cuoc")
    page.get_by_role("button", name="Tìm", exact=True).click()
    expect(page.locator(".faq-entry")).to_have_count(1)
    expect(page.locator(".faq-question")).to_have_text(fee.question)

    # the edit page of that entry
    page.locator(".faq-question").click()
    expect(page.locator("#id_question")).to_have_value(fee.question)
    no_horizontal_scroll(page)
    shot(page, "edit", viewport)
    assert_accessible(page)

    # the review queue: the ID-card group comes first with the fee entry preselected
    page.goto(f"{base}review/")
    group = page.locator(".review-group").first
    expect(group.locator("h2")).to_contain_text("làm lại cccd")
    expect(group.locator("input[type=radio]:checked + label")).to_contain_text(fee.question)
    expect(page.locator(".review-group .referral")).to_contain_text("Sở Giao thông vận tải")
    no_horizontal_scroll(page)
    shot(page, "review", viewport)
    assert_accessible(page)
    # when the editor clicks once
    group.get_by_role("button", name="Thêm làm cách hỏi").click()
    expect(page.locator(".flash li.success")).to_contain_text(fee.question, timeout=WAIT_MS)
    expect(page.locator(".review-group h2", has_text="làm lại cccd")).to_have_count(0)
    assert fee.variants.filter(text__in=[QUESTION, "làm lại cccd mất mấy đồng vậy ad"]).count() >= 1

    # then "try a question" with that text answers with that entry
    page.goto(f"{base}try/")
    page.locator("#try-q").fill(QUESTION)
    page.get_by_role("button", name="Thử", exact=True).click()
    expect(page.locator(".decision-words")).to_have_text("Trả lời ngay", timeout=WAIT_MS)
    expect(page.locator(".bot-reply")).to_have_text("Lệ phí cấp đổi thẻ căn cước là 50.000 đồng.")
    expect(page.locator(".candidates li").first.locator("a")).to_have_attribute(
        "href", f"/staff/{account.slug}/faq/{fee.pk}/"
    )
    no_horizontal_scroll(page)
    shot(page, "try", viewport)
    assert_accessible(page)
    context.close()


def test_other_entry_list_selects_its_radio(asgi_server, browser):
    """The small script: picking an entry in a group's list selects that group's "another question" radio."""
    index.index_forget()
    account = make_faq_account("congan-demo")
    unanswered_record(account=account, text="giá vàng hôm nay bao nhiêu", decision="fallback")
    editor = make_staff(account, Membership.ROLE_EDITOR, "bien-tap")
    context, page = staff_page(browser, asgi_server, editor, PHONE)
    page.goto(f"{asgi_server}/staff/{account.slug}/faq/review/")
    group = page.locator(".review-group").first
    group.locator("select[name=other_entry]").select_option(label="Làm hộ chiếu ở đâu?")
    expect(group.locator("input[value=other]")).to_be_checked()
    group.get_by_role("button", name="Thêm làm cách hỏi").click()
    expect(page.locator(".flash li.success")).to_contain_text("Làm hộ chiếu ở đâu?", timeout=WAIT_MS)
    assert (
        FaqEntry.objects.get(account=account, key="ho-chieu-noi-lam")
        .variants.filter(text__startswith="giá vàng")
        .exists()
    )
    # the synonyms page passes the scan too
    page.goto(f"{asgi_server}/staff/{account.slug}/faq/synonyms/")
    page.locator("#id_term").fill("gpkd")
    page.locator("#id_expansion").fill("giấy phép kinh doanh")
    page.get_by_role("button", name="Thêm", exact=True).click()
    expect(page.locator(".synonym-list")).to_contain_text("giấy phép kinh doanh", timeout=WAIT_MS)
    no_horizontal_scroll(page)
    assert_accessible(page)
    context.close()
