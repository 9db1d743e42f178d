"""The console's schedule and audience page: daily or on weekdays at a time, open for some hours, a reminder
time; followers of a topic in an area picked from lists (provinces, then their wards), the staff, or a list of
phones typed or taken from an uploaded recipient list. Bad input: 400 with the reason, nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import get_template
from django.urls import reverse

from broadcasts.personal.models import ListRow, RecipientList
from oa_platform.collect.models import Form
from tests.collect.builders import make_form
from tests.personal.conftest import approved_template

pytestmark = pytest.mark.django_db

DAILY = {
    "repeat": "daily",
    "open_time": "08:00",
    "window_hours": "10",
    "remind_time": "09:00",
    "audience": "staff",
    "action": "save",
}


def url(form) -> str:
    return reverse("staff:form-schedule", args=[form.account.slug, form.pk])


def test_a_manager_sets_a_daily_8_oclock_staff_check_in_with_a_9_oclock_reminder(client, tenant_a):
    form = make_form(tenant_a.account, key="checkin")
    client.force_login(tenant_a.manager)
    page = client.get(url(form)).content.decode()
    assert "Thứ Hai" in page and 'name="open_time"' in page and "Hồ Chí Minh" in page  # provinces to pick
    response = client.post(url(form), DAILY)
    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.repeat, form.open_time, form.window_minutes, form.remind_time, form.audience) == (
        "daily",
        dt.time(8),
        600,
        dt.time(9),
        "staff",
    )
    page = client.get(url(form)).content.decode()
    assert 'value="08:00"' in page and 'value="09:00"' in page and 'value="10"' in page
    # the tenant's staff have no chat identity yet: the page says they will not be asked
    assert 'id="staff-missing"' in page
    listing = client.get(reverse("staff:forms", args=[tenant_a.account.slug])).content.decode()
    assert "08:00" in listing and url(form) in listing


def test_weekdays_and_followers_of_a_topic_in_a_ward_picked_from_lists(client, tenant_a):
    form = make_form(tenant_a.account, key="flood")
    topic = tenant_a.account.topics.first()
    client.force_login(tenant_a.editor)
    # the province first: its wards are listed (nothing saved yet)
    shown = client.post(url(form), {"audience": "followers", "province": "79", "action": "wards"})
    assert (
        shown.status_code == 200
        and 'name="ward"' in shown.content.decode()
        and 'value="25747"' in shown.content.decode()
    )
    form.refresh_from_db()
    assert form.audience_area is None
    body = {
        "repeat": "weekdays",
        "weekdays": ["0", "3"],
        "open_time": "7h30",
        "window_hours": "2",
        "audience": "followers",
        "topic": topic.key,
        "province": "79",
        "ward": "25747",
        "action": "save",
    }
    assert client.post(url(form), body).status_code == 302
    form.refresh_from_db()
    assert (form.repeat_weekdays, form.open_time, form.audience_topic, form.audience_area.code) == (
        "0,3",
        dt.time(7, 30),
        topic.key,
        "25747",
    )


def test_a_list_of_phones_typed_or_from_an_uploaded_recipient_list(client, tenant_a, tenant_b):
    form = make_form(tenant_a.account, key="vaccine")
    client.force_login(tenant_a.editor)
    body = {"repeat": "none", "audience": "list", "phones": "0912 345 001\n+84912345002\n", "action": "save"}
    assert client.post(url(form), body).status_code == 302
    form.refresh_from_db()
    assert form.audience_phones == ["+84912345001", "+84912345002"]
    page = client.get(url(form)).content.decode()
    assert "345001" not in page and "(2 số)" in page  # personal data: counted, not shown back
    # an uploaded list: its valid rows' phones, named on the page
    version = approved_template(tenant_a)
    upload = RecipientList.objects.create(account=tenant_a.account, version=version, file_name="tiem-chung.xlsx")
    upload.rows_total = 3
    upload.rows_invalid = 1
    upload.save()
    ListRow.objects.create(recipient_list=upload, number=2, phone="+84912345101")
    ListRow.objects.create(recipient_list=upload, number=3, phone="+84912345102")
    ListRow.objects.create(recipient_list=upload, number=4, phone="", problems=["phone_invalid"])
    other = RecipientList.objects.create(
        account=tenant_b.account, version=approved_template(tenant_b, key="b"), file_name="b.xlsx"
    )
    page = client.get(url(form)).content.decode()
    assert "tiem-chung.xlsx (2 dòng hợp lệ)" in page and "b.xlsx" not in page
    body = {"repeat": "none", "audience": "list", "list": str(upload.pk), "phones": "", "action": "save"}
    assert client.post(url(form), body).status_code == 302
    form.refresh_from_db()
    assert form.audience_phones == ["+84912345101", "+84912345102"] and form.audience_list_name == "tiem-chung.xlsx"
    # saving again without touching the list keeps it; another account's list is not offered nor taken
    assert client.post(url(form), body | {"list": ""}).status_code == 302
    form.refresh_from_db()
    assert len(form.audience_phones) == 2
    assert client.post(url(form), body | {"list": str(other.pk)}).status_code == 400


@pytest.mark.parametrize(
    "bad",
    [
        {"repeat": "hourly"},
        {"open_time": ""},
        {"open_time": "25:00"},
        {"remind_time": "7:00", "window_hours": "1"},
        {"window_hours": "1000"},
        {"window_hours": "abc"},
        {"repeat": "weekdays"},
        {"repeat": "weekdays", "weekdays": ["9"]},
        {"audience": "list", "phones": "not a phone"},
        {"audience": "list", "phones": ""},
        {"audience": "followers", "province": "nowhere"},
        {"audience": "followers", "topic": "no-such-topic"},
        {"audience": "everyone"},
    ],
)
def test_bad_input_is_400_with_the_reason_and_nothing_saved(client, tenant_a, bad):
    form = make_form(tenant_a.account, key="flood")
    client.force_login(tenant_a.editor)
    response = client.post(url(form), DAILY | bad)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    form.refresh_from_db()
    assert form.repeat == Form.REPEAT_NONE and form.audience == Form.AUDIENCE_FOLLOWERS


def test_only_editors_and_managers_of_the_account_change_it(client, tenant_a, tenant_b):
    form = make_form(tenant_a.account, key="flood")
    client.force_login(tenant_b.manager)
    assert client.post(url(form), DAILY).status_code in (403, 404)
    client.force_login(tenant_a.broadcaster)  # notices only
    assert client.post(url(form), DAILY).status_code == 403
    form.refresh_from_db()
    assert form.repeat == Form.REPEAT_NONE


def test_the_template_has_no_inline_script_style_or_handler():
    source = open(get_template("staff/formbuild/schedule.html").origin.name, encoding="utf-8").read()
    assert "<script" not in source and "style=" not in source and "<style" not in source
    assert not [word for word in ("onclick", "onchange", "onsubmit") if word in source]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("vi", ["Lịch và người nhận", "Thứ Hai", "Giờ mở đợt"]),
        ("en", ["Schedule and audience", "Monday", "Round opens at"]),
        ("zh-hans", ["日程和对象", "星期一", "开放时间"]),
    ],
)
def test_the_page_is_translated(client, tenant_a, language, words):
    form = make_form(tenant_a.account, key="flood")
    client.force_login(tenant_a.editor)
    client.cookies["django_language"] = language
    page = client.get(url(form)).content.decode()
    assert all(word in page for word in words)


def test_the_results_page_says_who_is_asked_and_when(client, tenant_a):
    form = make_form(tenant_a.account, key="checkin")
    client.force_login(tenant_a.manager)
    assert client.post(url(form), DAILY).status_code == 302
    results = reverse("staff:form-results", args=[tenant_a.account.slug, form.pk])
    page = client.get(results).content.decode()
    assert "Người nhận: cán bộ của tài khoản. Lịch: hằng ngày 08:00 · nhắc lúc 09:00." in page
    topic = tenant_a.account.topics.first()
    body = {"repeat": "weekdays", "weekdays": ["0", "4"], "open_time": "07:30", "window_hours": "3"}
    body |= {"audience": "followers", "topic": topic.key, "province": "79", "action": "save"}
    assert client.post(url(form), body).status_code == 302
    page = client.get(results).content.decode()
    assert f"người theo dõi · chủ đề {topic.label('vi')} · ở Thành phố Hồ Chí Minh" in page
    assert "Thứ Hai, Thứ Sáu 07:30" in page
