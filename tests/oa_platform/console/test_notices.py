"""Console "Notices": compose in steps (a draft between steps), day-first dates in the account's time zone,
the live audience count, check and submit, approval by another person only, progress, cancel, correct, CAP."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import pytest
from django.test import TestCase
from django.urls import reverse

from broadcasts import services
from broadcasts.fanout import notice_dispatch_one
from broadcasts.models import BroadcastSettings, Notice
from oa_platform.models import Area
from tests import factories

pytestmark = pytest.mark.django_db

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
# 4 December 2026, 09:00 in Ho Chi Minh City (UTC+7): frozen for every test that types a date.
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=HCM)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def _url(name, notice=None, account=None, **kw):
    account = account or notice.account
    args = [account.slug] if notice is None else [account.slug, notice.pk]
    return reverse(f"staff:{name}", args=args) + (("?" + "&".join(f"{k}={v}" for k, v in kw.items())) if kw else "")


def _draft(tenant, **values) -> Notice:
    base = {"category": "storm-flood", "title_vi": "Bão số 9", "body_vi": "Nội dung", "severity": "severe"}
    return services.notice_create(
        account=tenant.account, actor=services.Actor(user=tenant.broadcaster), **(base | values)
    ).notice


def test_compose_through_every_step_then_submit(client, tenant_a, frozen):
    # given a broadcaster
    account = tenant_a.account
    hcm = Area.objects.get(name="Thành phố Hồ Chí Minh")
    client.force_login(tenant_a.broadcaster)
    # when they write the content (step 1), a draft is stored
    page = client.post(
        _url("notice-new", account=account),
        {"title_vi": "Cảnh báo bão", "body_vi": "Bão số 9 vào đất liền.", "severity": "extreme", "link": ""},
    )
    notice = Notice.objects.get(account=account)
    assert page.status_code == 302 and page["Location"] == _url("notice-audience", notice)
    assert (notice.status, notice.author, notice.severity) == ("draft", tenant_a.broadcaster, "extreme")
    # the audience: topic checkboxes, a province picked from the list, a language
    page = client.post(
        _url("notice-audience", notice),
        {"topics": ["storm-flood", "health"], "areas": [hcm.code], "languages": ["vi"], "action": "continue"},
    )
    assert page["Location"] == _url("notice-schedule", notice)
    notice.refresh_from_db()
    assert (notice.audience_topics, notice.audience_areas, notice.category) == (
        ["storm-flood", "health"],
        [hcm.code],
        "storm-flood",
    )
    # the schedule: typed day-first in the account's zone; "10/12/2026" is 10 December
    page = client.post(
        _url("notice-schedule", notice),
        {"when": "later", "send_date": "10/12/2026", "send_time": "07:30", "mode": "live"},
    )
    assert page["Location"] == _url("notice-check", notice)
    notice.refresh_from_db()
    assert notice.send_at == dt.datetime(2026, 12, 10, 7, 30, tzinfo=HCM)
    # the check page: the phone preview with the citizen page's classes, the answers with change links
    page = client.get(_url("notice-check", notice)).content.decode()
    assert 'class="notice sev-extreme kind-alert"' in page and "Khẩn cấp" in page
    assert "10/12/2026 07:30 Asia/Ho_Chi_Minh (UTC+07:00)" in page
    assert _url("notice-schedule", notice, **{"from": "check"}) in page
    assert "Thành phố Hồ Chí Minh" in page and "Bão, lũ" in page
    # when they submit, it waits for another person
    page = client.post(_url("notice-check", notice))
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING
    assert page["Location"] == _url("notice", notice)


@pytest.mark.parametrize(
    ("date", "time", "message"),
    [
        ("12/31/2026", "08:00", "Tháng phải từ 1 đến 12"),  # month-first is refused, not swapped
        ("2026-12-10", "08:00", "ngày/tháng/năm"),  # ISO is not guessed
        ("10/12/26", "08:00", "ngày/tháng/năm"),  # two-digit year
        ("31/11/2026", "08:00", "không có trong lịch"),
        ("03/12/2026", "08:00", "đã qua"),  # yesterday
        ("04/12/2026", "08:59", "đã qua"),  # a minute ago, in the account's zone
        ("10/12/2026", "7:30 PM", "24 giờ"),
        ("10/12/2026", "24:00", "00:00 đến 23:59"),
    ],
)
def test_schedule_refuses_ambiguous_or_past_dates_with_a_field_error(client, tenant_a, frozen, date, time, message):
    notice = _draft(tenant_a)
    client.force_login(tenant_a.broadcaster)
    page = client.post(
        _url("notice-schedule", notice), {"when": "later", "send_date": date, "send_time": time, "mode": "live"}
    )
    assert page.status_code == 400
    assert message in page.content.decode()
    notice.refresh_from_db()
    assert notice.send_at is None  # nothing half-stored


def test_schedule_is_read_in_the_account_time_zone(client, tenant_a, frozen):
    # given an account in Tokyo (UTC+9): 09:30 there is 00:30 UTC
    account = tenant_a.account
    account.timezone = "Asia/Tokyo"
    account.save()
    notice = _draft(tenant_a)
    client.force_login(tenant_a.broadcaster)
    client.post(
        _url("notice-schedule", notice),
        {
            "when": "later",
            "send_date": "05/12/2026",
            "send_time": "09:30",
            "expires_date": "06/12/2026",
            "expires_time": "18:00",
            "mode": "test",
        },
    )
    notice.refresh_from_db()
    assert notice.send_at == dt.datetime(2026, 12, 5, 0, 30, tzinfo=dt.UTC)
    assert notice.expires_at == dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
    assert notice.mode == Notice.MODE_TEST
    # and shown back the same way, day-first with the zone named
    page = client.get(_url("notice-schedule", notice)).content.decode()
    assert 'value="05/12/2026"' in page and 'value="09:30"' in page and "Asia/Tokyo (UTC+09:00)" in page


def test_expiry_before_sending_is_a_field_error(client, tenant_a, frozen):
    notice = _draft(tenant_a)
    client.force_login(tenant_a.broadcaster)
    page = client.post(
        _url("notice-schedule", notice),
        {
            "when": "later",
            "send_date": "10/12/2026",
            "send_time": "08:00",
            "expires_date": "09/12/2026",
            "expires_time": "08:00",
            "mode": "live",
        },
    )
    assert page.status_code == 400 and "phải sau thời điểm gửi" in page.content.decode()


def test_content_needs_vietnamese_and_an_http_link(client, tenant_a):
    client.force_login(tenant_a.broadcaster)
    page = client.post(
        _url("notice-new", account=tenant_a.account),
        {"title_vi": "", "body_vi": "x", "severity": "minor", "link": "javascript:alert(1)", "title_en": "Only"},
    )
    assert page.status_code == 200
    assert not Notice.objects.exists()
    body = page.content.decode()
    assert 'id="id_title_vi-error"' in body and 'id="id_body_en-error"' in body


def test_link_must_be_http(client, tenant_a):
    client.force_login(tenant_a.broadcaster)
    page = client.post(
        _url("notice-new", account=tenant_a.account),
        {"title_vi": "T", "body_vi": "x", "severity": "minor", "link": "ftp://example.org/x"},
    )
    assert not Notice.objects.exists()
    assert 'id="id_link-error"' in page.content.decode()


def test_audience_needs_a_topic_and_refuses_unknown_areas(client, tenant_a):
    notice = _draft(tenant_a)
    client.force_login(tenant_a.broadcaster)
    page = client.post(_url("notice-audience", notice), {"action": "continue"})
    assert page.status_code == 400 and "Chọn ít nhất một chủ đề" in page.content.decode()
    page = client.post(_url("notice-audience", notice), {"topics": ["health"], "areas": ["nope"], "action": "continue"})
    assert page.status_code == 400
    notice.refresh_from_db()
    assert notice.audience_areas == [] and notice.audience_topics == []
    # free-text topic keys are not accepted: an unknown key is dropped, not stored
    client.post(_url("notice-audience", notice), {"topics": ["made-up", "health"], "action": "continue"})
    notice.refresh_from_db()
    assert notice.audience_topics == ["health"]


@pytest.mark.parametrize("typed", ["Hồ Chí Minh", "ho chi minh", "HO  CHI MINH"])
def test_area_search_finds_a_province_with_or_without_tones(client, tenant_a, typed):
    notice = _draft(tenant_a)
    client.force_login(tenant_a.broadcaster)
    # the search button saves the choices and shows the results (works without JavaScript)
    page = client.post(_url("notice-audience", notice), {"topics": ["health"], "q": typed, "action": "search"})
    assert page.status_code == 302
    page = client.get(page["Location"]).content.decode()
    hcm = Area.objects.get(name="Thành phố Hồ Chí Minh")
    assert f'id="area-res-{hcm.code}"' in page


def test_province_opens_its_wards_sorted_in_vietnamese_order(client, tenant_a):
    notice = _draft(tenant_a)
    hcm = Area.objects.get(name="Thành phố Hồ Chí Minh")
    client.force_login(tenant_a.broadcaster)
    page = client.post(_url("notice-audience", notice), {"topics": ["health"], "province": hcm.code, "action": "wards"})
    page = client.get(page["Location"]).content.decode()
    wards = list(Area.objects.filter(parent=hcm).values_list("code", flat=True))
    assert all(f'id="area-w-{code}"' in page for code in wards)
    # provinces in the list are sorted with Vietnamese collation: "Đắk Lắk" after "Đà Nẵng"... and before "Gia Lai"
    listing = page[page.index('id="province-list"') :]
    assert listing.index("Đắk Lắk") < listing.index("Gia Lai") and listing.index("Cà Mau") < listing.index("Cao Bằng")


def test_audience_count_by_channel_and_language_rendered_and_live(client, tenant_a):
    account = tenant_a.account
    factories.make_follower(account, language="vi")
    factories.make_follower(account, language="en")
    notice = _draft(tenant_a)
    client.force_login(tenant_a.broadcaster)
    page = client.get(_url("notice-audience", notice)).content.decode()
    assert 'data-count="total">2<' in page and "Trong ứng dụng" in page and "Tiếng Anh" in page
    # the JSON the page's script calls on change: the choices of the page, nothing stored
    data = client.get(_url("notice-audience-count", notice) + "?topics=storm-flood&languages=en").json()
    assert data["total"] == 1
    assert data["by_language"] == [{"code": "en", "label": "Tiếng Anh", "count": 1}]
    assert data["by_channel"] == [{"code": "inapp", "label": "Trong ứng dụng", "count": 1}]
    notice.refresh_from_db()
    assert notice.audience_languages == []
    client.cookies["django_language"] = "en"
    data = client.get(_url("notice-audience-count", notice) + "?all=1").json()
    assert data["total"] == 2 and {row["label"] for row in data["by_language"]} == {"Vietnamese", "English"}


def test_two_person_rule_through_the_console(client, tenant_a):
    # given a notice an approver wrote and submitted
    account = tenant_a.account
    notice = services.notice_create(
        account=account,
        actor=services.Actor(user=tenant_a.approver),
        category="health",
        title_vi="Tiêm chủng",
        body_vi="Lịch tiêm",
    ).notice
    services.notice_submit(notice=notice, actor=services.Actor(user=tenant_a.approver))
    # when its author opens it: explained, no approve button; posting the approval is refused
    client.force_login(tenant_a.approver)
    page = client.get(_url("notice", notice)).content.decode()
    assert "không thể tự duyệt" in page and _url("notice-approve", notice) not in page
    client.post(_url("notice-approve", notice))
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING
    # a broadcaster may not approve at all (role)
    client.force_login(tenant_a.broadcaster)
    assert client.post(_url("notice-approve", notice)).status_code == 403
    # another approver (here the manager) sees the buttons and approves
    client.force_login(tenant_a.manager)
    page = client.get(_url("notice", notice)).content.decode()
    assert _url("notice-approve", notice) in page and _url("notice-reject", notice) in page
    client.post(_url("notice-approve", notice))
    notice.refresh_from_db()
    assert (notice.status, notice.approver) == (Notice.STATUS_SCHEDULED, tenant_a.manager)


def test_reject_sends_back_to_draft(client, tenant_a):
    notice = _draft(tenant_a)
    services.notice_submit(notice=notice, actor=services.Actor(user=tenant_a.broadcaster))
    client.force_login(tenant_a.approver)
    client.post(_url("notice-reject", notice), {"reason": "Sai tên phường"})
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_DRAFT


def _sending(tenant) -> Notice:
    factories.make_follower(tenant.account, language="vi")
    factories.make_follower(tenant.account, language="en")
    notice = _draft(tenant, audience_all=True)
    services.notice_submit(notice=notice, actor=services.Actor(user=tenant.broadcaster))
    services.notice_approve(notice=notice, actor=services.Actor(user=tenant.approver))
    # the chunk tasks are enqueued on commit (eager in tests): run them, so the deliveries are sent
    with TestCase.captureOnCommitCallbacks(execute=True):
        notice_dispatch_one()
    notice.refresh_from_db()
    return notice


def test_progress_page_and_json_with_chart(client, tenant_a):
    notice = _sending(tenant_a)
    client.force_login(tenant_a.broadcaster)
    page = client.get(_url("notice", notice)).content.decode()
    assert "Tiến độ gửi" in page and "<svg" in page and "Trong ứng dụng (2)" in page
    data = client.get(_url("notice-progress", notice)).json()
    assert data["total"] == 2 and data["by_channel"][0]["label"] == "Trong ứng dụng"
    assert {row["label"] for row in data["by_status"]} <= {"Đang chờ", "Đã gửi", "Đã nhận", "Đã đọc"}
    assert "<svg" in data["html"]


def test_cancel_asks_first_then_cancels(client, tenant_a):
    notice = _draft(tenant_a)
    services.notice_submit(notice=notice, actor=services.Actor(user=tenant_a.broadcaster))
    client.force_login(tenant_a.broadcaster)
    page = client.get(_url("notice-cancel", notice))
    assert "Có, hủy thông báo" in page.content.decode()
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING
    client.post(_url("notice-cancel", notice))
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_CANCELLED


def test_correction_is_a_draft_prefilled_from_the_original(client, tenant_a):
    original = _sending(tenant_a)
    client.force_login(tenant_a.broadcaster)
    page = client.post(_url("notice-follow-up", original), {"kind": "update"})
    follow_up = Notice.objects.exclude(pk=original.pk).get()
    assert page["Location"] == _url("notice-content", follow_up)
    assert (follow_up.kind, follow_up.references, follow_up.status) == ("update", original, "draft")
    assert "CẬP NHẬT: Bão số 9" in client.get(page["Location"]).content.decode()
    # its audience is the original's recipients, and the audience page says so
    page = client.get(_url("notice-audience", follow_up)).content.decode()
    assert "đúng những người đã nhận thông báo gốc" in page
    assert 'data-count="total">2<' in page


def test_cap_export(client, tenant_a):
    notice = _draft(tenant_a)
    client.force_login(tenant_a.broadcaster)
    response = client.get(_url("notice-cap", notice))
    assert response["Content-Type"].startswith("application/cap+xml")
    assert b"<identifier>oa-agency-a-notice-" in response.content


def test_list_by_state_with_translated_labels_and_day_first_dates(client, tenant_a, frozen):
    _draft(tenant_a, title_vi="Nháp một")
    pending = _draft(tenant_a, title_vi="Chờ một")
    services.notice_submit(notice=pending, actor=services.Actor(user=tenant_a.broadcaster))
    client.force_login(tenant_a.broadcaster)
    page = client.get(_url("notices", account=tenant_a.account)).content.decode()
    assert "Bản nháp" in page and "Chờ duyệt" in page and "04/12/2026 09:00" in page
    assert "pending_approval<" not in page
    page = client.get(_url("notices", account=tenant_a.account, state="pending")).content.decode()
    assert "Chờ một" in page and "Nháp một" not in page


def test_only_drafts_are_edited(client, tenant_a):
    notice = _draft(tenant_a)
    services.notice_submit(notice=notice, actor=services.Actor(user=tenant_a.broadcaster))
    client.force_login(tenant_a.broadcaster)
    page = client.post(_url("notice-content", notice), {"title_vi": "khác", "body_vi": "x", "severity": "minor"})
    assert page["Location"] == _url("notice", notice)
    notice.refresh_from_db()
    assert notice.title_vi == "Bão số 9"


def test_editors_have_no_notices(client, tenant_a):
    client.force_login(tenant_a.editor)
    assert client.get(_url("notices", account=tenant_a.account)).status_code == 403


def test_huge_id_is_404(client, tenant_a):
    client.force_login(tenant_a.broadcaster)
    assert client.get(f"/staff/{tenant_a.account.slug}/notices/99999999999999999999/").status_code == 404


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_pages_in_other_languages(client, tenant_a, language):
    notice = _draft(tenant_a)
    client.force_login(tenant_a.broadcaster)
    client.cookies["django_language"] = language
    for name in ("notice-content", "notice-audience", "notice-schedule", "notice-check"):
        page = client.get(_url(name, notice)).content.decode()
        assert "Lưu và tiếp tục" not in page and "Kiểm tra và gửi" not in page, name


def test_check_page_says_when_no_approval_is_needed(client, tenant_a):
    # given an account that needs a second person only for severe and extreme notices
    BroadcastSettings.objects.filter(account=tenant_a.account).update(approval_policy=BroadcastSettings.APPROVAL_URGENT)
    minor = _draft(tenant_a, severity="minor", audience_all=True)
    severe = _draft(tenant_a, severity="severe", audience_all=True)
    client.force_login(tenant_a.broadcaster)
    assert "Lên lịch gửi" in client.get(_url("notice-check", minor)).content.decode()
    assert "Gửi đi để duyệt" in client.get(_url("notice-check", severe)).content.decode()
    client.post(_url("notice-check", minor))
    minor.refresh_from_db()
    assert minor.status == Notice.STATUS_SCHEDULED


NOTICE_TEMPLATES = sorted((Path(__file__).resolve().parents[3] / "templates" / "staff" / "notices").glob("*.html"))


@pytest.mark.parametrize("path", NOTICE_TEMPLATES, ids=lambda p: p.name)
def test_notice_templates_have_no_inline_script_style_or_handler(path):
    """What the Content-Security-Policy would block (the rules of tests/oa_platform/test_csp.py)."""
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source)
    assert "<style" not in source
    assert not re.search(r"\sstyle\s*=", source)
    assert not re.search(r"\son[a-z]+\s*=", source)
    assert "javascript:" not in source.lower()


def test_every_notice_template_is_checked():
    assert len(NOTICE_TEMPLATES) >= 10
