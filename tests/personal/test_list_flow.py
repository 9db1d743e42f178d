"""A list's schedule, severity (quiet hours as notices) and expiry ("do not send after"), issue 15: chosen on
submitting, approved as shown, honoured by the one-by-one path and by the set-based in-app statement."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import translation

from broadcasts.personal import dispatch, inapp, lists
from broadcasts.personal.models import Notification, RecipientList, StatusEvent
from broadcasts.personal.tasks import send_due
from broadcasts.services import Actor
from oa_platform.errors import Conflict, ValidationFailed
from oa_platform.models import AuditLog
from tests.factories import set_quiet_hours
from tests.personal.conftest import approved_template, web_person

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
HEADER = "phone,name,date,place\n"
TWO = HEADER + "0912345678,An,05/12,T1\n0912345679,Bình,06/12,T2\n"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=HCM)


def checked_list(tenant, text: str = TWO) -> RecipientList:
    approved_template(tenant)
    web_person(tenant.account, phone="+84912345678", external_id="w1")
    web_person(tenant.account, phone="+84912345679", external_id="w2")
    return lists.list_upload(
        account=tenant.account,
        actor=Actor(user=tenant.broadcaster),
        template_key="vaccination",
        fileobj=SimpleUploadedFile("list.csv", text.encode()),
        file_name="list.csv",
        max_bytes=1024 * 1024,
    )


def submit(tenant, recipient_list, **choices) -> RecipientList:
    return lists.list_submit(recipient_list=recipient_list, actor=Actor(user=tenant.broadcaster), **choices)


def approve(tenant, recipient_list, capture, *, run: bool = True):
    with capture(execute=run) as callbacks:
        lists.list_approve(recipient_list=recipient_list, actor=Actor(user=tenant.approver))
    recipient_list.refresh_from_db()
    return callbacks


# --- schedule  ---
def test_a_list_approved_before_its_time_is_held_until_then(tenant_a, time_machine, django_capture_on_commit_callbacks):
    # given: no quiet hours; submitted on 1 Dec for 3 Dec 09:00 local
    set_quiet_hours(tenant_a.account, dt.time(0, 0), dt.time(0, 0))
    time_machine.move_to(local("2026-12-01 10:00"), tick=False)
    checked = checked_list(tenant_a)
    submit(tenant_a, checked, send_at=local("2026-12-03 09:00"))
    # when: approved at once
    callbacks = approve(tenant_a, checked, django_capture_on_commit_callbacks)
    # then: nothing goes now; every notification waits for 09:00 on the 3rd, and goes with the sweep after it
    assert callbacks == []
    assert set(Notification.objects.values_list("status", "scheduled_for")) == {("queued", local("2026-12-03 09:00"))}
    time_machine.move_to(local("2026-12-03 08:59"), tick=False)
    assert send_due() == {"enqueued": 0}
    time_machine.move_to(local("2026-12-03 09:00:20"), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        send_due()
    checked.refresh_from_db()
    assert checked.status == "sent"
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    audit = AuditLog.objects.get(action="approve", object_type="personal.recipientlist")
    assert audit.changes["send_at"] == audit.changes["scheduled_for"] == "2026-12-03T02:00:00+00:00"


def test_a_sending_time_passed_by_the_approval_means_now(tenant_a, time_machine, django_capture_on_commit_callbacks):
    set_quiet_hours(tenant_a.account, dt.time(0, 0), dt.time(0, 0))
    time_machine.move_to(local("2026-12-01 10:00"), tick=False)
    checked = checked_list(tenant_a)
    submit(tenant_a, checked, send_at=local("2026-12-01 11:00"))
    time_machine.move_to(local("2026-12-01 12:00"), tick=False)
    approve(tenant_a, checked, django_capture_on_commit_callbacks)
    assert checked.status == "sent"


@pytest.mark.parametrize(
    ("choices", "field", "message"),
    [
        ({"send_at": "2026-12-01 09:59"}, "send_at", "This time has passed"),
        ({"send_at": "2027-01-01 10:01"}, "send_at", "At most 30 days ahead"),
        ({"expires_at": "2026-12-01 09:00"}, "expires_at", "The expiry must be after the sending time"),
        ({"send_at": "2026-12-02 10:00", "expires_at": "2026-12-02 09:00"}, "expires_at", "must be after"),
        ({"expires_at": "2027-01-05 10:00"}, "expires_at", "At most 30 days ahead"),
        ({"severity": "apocalyptic"}, "severity", "Unknown severity"),
    ],
)
def test_bad_choices_are_refused_by_field_and_nothing_is_stored(tenant_a, time_machine, choices, field, message):
    time_machine.move_to(local("2026-12-01 10:00"), tick=False)
    checked = checked_list(tenant_a)
    values = {k: (local(v) if k != "severity" else v) for k, v in choices.items()}
    with pytest.raises(ValidationFailed) as refused:
        submit(tenant_a, checked, **values)
    assert message in str(refused.value.fields[field])
    checked.refresh_from_db()
    assert (checked.status, checked.severity, checked.send_at, checked.expires_at) == (
        "checked",
        "moderate",
        None,
        None,
    )
    assert not AuditLog.objects.filter(action="submit").exists()


# --- severity and quiet hours  ---
@pytest.mark.parametrize(
    ("severity", "goes_now"), [("extreme", True), ("severe", True), ("moderate", False), ("minor", False)]
)
def test_urgent_lists_ignore_quiet_hours_routine_ones_wait_for_their_end(
    tenant_a, time_machine, django_capture_on_commit_callbacks, severity, goes_now
):
    # given: quiet hours 21:00-06:00, approval at 22:30 local
    set_quiet_hours(tenant_a.account, dt.time(21, 0), dt.time(6, 0))
    time_machine.move_to(local("2026-12-01 22:30"), tick=False)
    checked = checked_list(tenant_a)
    submit(tenant_a, checked, severity=severity)
    approve(tenant_a, checked, django_capture_on_commit_callbacks)
    statuses = set(Notification.objects.values_list("status", "scheduled_for"))
    if goes_now:  # a vaccination site moved tonight: sent at once
        assert (checked.status, statuses) == ("sent", {("sent", None)})
    else:  # tomorrow's appointment reminders: at the end of the quiet hours
        assert (checked.status, statuses) == ("sending", {("queued", local("2026-12-02 06:00"))})


def test_a_routine_list_scheduled_inside_the_quiet_hours_moves_to_their_end(
    tenant_a, time_machine, django_capture_on_commit_callbacks
):
    set_quiet_hours(tenant_a.account, dt.time(21, 0), dt.time(6, 0))
    time_machine.move_to(local("2026-12-01 10:00"), tick=False)
    checked = checked_list(tenant_a)
    submit(tenant_a, checked, severity="minor", send_at=local("2026-12-01 23:00"))
    approve(tenant_a, checked, django_capture_on_commit_callbacks)
    assert set(Notification.objects.values_list("scheduled_for", flat=True)) == {local("2026-12-02 06:00")}


def test_approval_is_refused_when_the_quiet_hours_would_hold_a_list_past_its_expiry(
    tenant_a, time_machine, django_capture_on_commit_callbacks
):
    set_quiet_hours(tenant_a.account, dt.time(21, 0), dt.time(6, 0))
    time_machine.move_to(local("2026-12-01 22:00"), tick=False)
    checked = checked_list(tenant_a)
    submit(tenant_a, checked, expires_at=local("2026-12-01 23:30"))
    with pytest.raises(Conflict, match="quiet hours hold this list until after its expiry"):
        approve(tenant_a, checked, django_capture_on_commit_callbacks)
    assert not Notification.objects.exists()


# --- expiry  ---
def test_an_expired_list_cannot_be_approved_and_the_sweep_marks_it(tenant_a, time_machine):
    time_machine.move_to(local("2026-12-01 10:00"), tick=False)
    checked = checked_list(tenant_a)
    submit(tenant_a, checked, expires_at=local("2026-12-01 12:00"))
    time_machine.move_to(local("2026-12-01 12:00"), tick=False)
    with pytest.raises(Conflict, match="expiry has passed"):
        lists.list_approve(recipient_list=checked, actor=Actor(user=tenant_a.approver))
    send_due()
    checked.refresh_from_db()
    assert checked.status == "expired" and not Notification.objects.exists()


def scheduled_and_approved(tenant, time_machine, capture) -> RecipientList:
    """A two-row list approved at 10:00 for 11:00, not to be sent after 12:00 (no quiet hours)."""
    set_quiet_hours(tenant.account, dt.time(0, 0), dt.time(0, 0))
    time_machine.move_to(local("2026-12-01 10:00"), tick=False)
    checked = checked_list(tenant)
    submit(tenant, checked, send_at=local("2026-12-01 11:00"), expires_at=local("2026-12-01 12:00"))
    approve(tenant, checked, capture)
    assert set(Notification.objects.values_list("status", flat=True)) == {"queued"}
    return checked


def history(notification_id: int) -> list[tuple[str, str]]:
    return list(
        StatusEvent.objects.filter(notification_id=notification_id).order_by("id").values_list("status", "reason")
    )


def test_one_by_one_a_notification_of_an_expired_list_is_not_sent_and_the_list_stops(
    tenant_a, time_machine, django_capture_on_commit_callbacks
):
    """The per-message path (dispatch.notification_send), on SQLite and PostgreSQL alike."""
    checked = scheduled_and_approved(tenant_a, time_machine, django_capture_on_commit_callbacks)
    first, second = Notification.objects.order_by("id").values_list("id", flat=True)
    # when: the first one goes at 11:00, the second only after 12:00
    time_machine.move_to(local("2026-12-01 11:00"), tick=False)
    assert dispatch.notification_send(notification_id=first)["status"] == "sent"
    time_machine.move_to(local("2026-12-01 12:00"), tick=False)
    result = dispatch.notification_send(notification_id=second)
    # then: not sent; it ends "expired" with that step in its history; the list stops and its progress counts it
    assert result == {"notification": second, "list": checked.pk, "status": "expired"}
    second_row = Notification.objects.get(pk=second)
    assert (second_row.status, second_row.reason, second_row.sent_at) == ("expired", "expired", None)
    assert history(second) == [("queued", ""), ("expired", "expired")]
    checked.refresh_from_db()
    assert checked.status == "expired"
    assert lists.list_progress(recipient_list=checked)["status"] == {"sent": 1, "expired": 1}
    with pytest.raises(Conflict):
        lists.list_cancel(recipient_list=checked, actor=Actor(user=tenant_a.broadcaster))
    assert dispatch.notification_send(notification_id=second) == {"notification": second, "skipped": True}


def test_a_chunk_whose_list_expired_stops_like_a_cancel(tenant_a, time_machine, django_capture_on_commit_callbacks):
    checked = scheduled_and_approved(tenant_a, time_machine, django_capture_on_commit_callbacks)
    first, last = Notification.objects.order_by("id").values_list("id", flat=True)
    time_machine.move_to(local("2026-12-01 12:00:01"), tick=False)
    assert dispatch.send_list_chunk(checked.pk, first, last) == {
        "list": checked.pk,
        "stopped": "expired",
        "sent": 0,
        "failed": 0,
    }
    assert set(Notification.objects.values_list("status", flat=True)) == {"expired"}
    assert not Notification.objects.filter(sent_at__isnull=False).exists()


def test_the_sweep_expires_a_list_held_past_its_expiry(tenant_a, time_machine, django_capture_on_commit_callbacks):
    checked = scheduled_and_approved(tenant_a, time_machine, django_capture_on_commit_callbacks)
    time_machine.move_to(local("2026-12-01 12:30"), tick=False)
    assert send_due() == {"enqueued": 0}
    checked.refresh_from_db()
    assert checked.status == "expired"
    assert lists.list_progress(recipient_list=checked)["status"] == {"expired": 2}
    for pk in Notification.objects.values_list("id", flat=True):
        assert history(pk) == [("queued", ""), ("expired", "expired")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the set-based in-app statement is PostgreSQL only")
def test_the_set_based_inapp_statement_sends_nothing_for_an_expired_list(
    tenant_a, time_machine, django_capture_on_commit_callbacks
):
    checked = scheduled_and_approved(tenant_a, time_machine, django_capture_on_commit_callbacks)
    first, last = Notification.objects.order_by("id").values_list("id", flat=True)
    statement = {
        "list_id": checked.pk,
        "account_id": tenant_a.account.pk,
        "version": checked.version,
        "first_id": first,
        "last_id": last,
    }
    # the statement reads the list itself: past 12:00 it sends nothing even though the list is still "sending"
    assert inapp.send_range(**statement, now=local("2026-12-01 12:00")) == 0
    assert set(Notification.objects.values_list("status", flat=True)) == {"queued"}
    # and before it, the same statement sends both (so the refusal above was the expiry's)
    assert inapp.send_range(**statement, now=local("2026-12-01 11:59")) == 2
    assert set(Notification.objects.values_list("status", "channel")) == {("sent", "inapp")}


# --- console  ---
def test_the_sender_chooses_and_the_approver_sees_severity_time_and_expiry(
    client, tenant_a, time_machine, django_capture_on_commit_callbacks
):
    set_quiet_hours(tenant_a.account, dt.time(21, 0), dt.time(6, 0))
    time_machine.move_to(local("2026-12-01 10:00"), tick=False)
    checked = checked_list(tenant_a)
    slug = tenant_a.account.slug
    url = reverse("staff:personal-submit", args=[slug, checked.pk])
    client.force_login(tenant_a.broadcaster)
    page = client.get(reverse("staff:personal-list", args=[slug, checked.pk])).content.decode()
    assert 'name="severity" id="severity-extreme"' in page and "Asia/Ho_Chi_Minh" in page
    # bad input: a clear message on the page, nothing stored
    for form, message in (
        ({"when": "later", "send_date": "2026-12-01", "send_time": "09:00"}, "ngày/tháng/năm"),
        ({"when": "later", "send_date": "01/12/2026", "send_time": "09:00"}, "Thời điểm này đã qua"),
        ({"when": "later", "send_date": "03/01/2027", "send_time": "09:00"}, "Tối đa 30 ngày tới"),
        ({"when": "now", "expires_date": "31/11/2026", "expires_time": "09:00"}, "không có trong lịch"),
        ({"when": "now", "severity": "apocalyptic"}, "Chọn một mức độ"),
    ):
        answer = client.post(url, {"severity": "moderate", **form})
        assert answer.status_code == 400 and message in answer.content.decode(), form
        checked.refresh_from_db()
        assert (checked.status, checked.send_at, checked.expires_at) == ("checked", None, None)
    # when: an urgent list for 02/12 08:00, not after 02/12 18:00
    answer = client.post(
        url,
        {
            "severity": "severe",
            "when": "later",
            "send_date": "02/12/2026",
            "send_time": "08:00",
            "expires_date": "02/12/2026",
            "expires_time": "18:00",
        },
    )
    assert answer.status_code == 302
    checked.refresh_from_db()
    assert (checked.status, checked.severity) == ("pending_approval", "severe")
    assert (checked.send_at, checked.expires_at) == (local("2026-12-02 08:00"), local("2026-12-02 18:00"))
    # then: the approver sees what they approve
    client.force_login(tenant_a.approver)
    page = client.get(reverse("staff:personal-list", args=[slug, checked.pk])).content.decode()
    assert "sev-chip sev-severe" in page
    assert "02/12/2026 08:00 Asia/Ho_Chi_Minh" in page and "02/12/2026 18:00 Asia/Ho_Chi_Minh" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:personal-approve", args=[slug, checked.pk]))
    assert set(Notification.objects.values_list("scheduled_for", flat=True)) == {local("2026-12-02 08:00")}
    submitted = AuditLog.objects.get(action="submit", object_type="personal.recipientlist")
    assert submitted.changes["severity"] == "severe"


# --- the API  ---
def test_the_api_shows_an_expired_notification_and_documents_the_status(
    api_client, tenant_a, time_machine, django_capture_on_commit_callbacks
):
    checked = scheduled_and_approved(tenant_a, time_machine, django_capture_on_commit_callbacks)
    time_machine.move_to(local("2026-12-01 12:00"), tick=False)
    send_due()
    pk = Notification.objects.filter(recipient_list=checked).order_by("id").values_list("id", flat=True)[0]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    detail = api_client.get(f"/api/v1/accounts/{tenant_a.account.slug}/notifications/{pk}/").json()["notification"]
    assert detail["status"] == "expired"
    assert [(h["status"], h["reason"]) for h in detail["history"]] == [("queued", ""), ("expired", "expired")]
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    statuses = [s["enum"] for s in schema["components"]["schemas"].values() if "delivered" in (s.get("enum") or [])]
    assert statuses and all("expired" in enum for enum in statuses)  # the notifications' documented statuses
