import datetime as dt
import threading
import time

import psycopg
import pytest
from django.db import connections
from django.utils import timezone

from broadcasts.personal import dispatch, services
from broadcasts.personal.models import Notification, PersonalSettings, TemplateVersion
from broadcasts.services import Actor
from oa_platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oa_platform.models import ApiToken, Message
from tests.fakes.fake_provider import FakeProvider
from tests.personal.conftest import BODY, VALUES, approved_template, provider, web_person

pytestmark = pytest.mark.django_db


def send(tenant, **kw):
    kw.setdefault("template_key", "vaccination")
    kw.setdefault("personalisation", VALUES)
    return services.notification_create(account=tenant.account, actor=Actor(user=tenant.broadcaster), **kw)


def test_a_template_needs_a_second_person_and_an_edit_needs_approval_again(tenant_a):
    author = Actor(user=tenant_a.broadcaster)
    v1 = services.template_save(account=tenant_a.account, actor=author, key="card", name="Card", body_vi="((name))")
    assert v1.status == TemplateVersion.STATUS_PENDING
    with pytest.raises(Forbidden):
        services.template_approve(template=v1.template, actor=author)
    services.template_approve(template=v1.template, actor=Actor(user=tenant_a.approver))
    # when: the author edits it
    v2 = services.template_save(account=tenant_a.account, actor=author, key="card", name="Card", body_vi="((name))!")
    # then: a new pending version; the approved one is still the one sent
    assert v2.number == 2 and v2.status == TemplateVersion.STATUS_PENDING
    notification, _ = services.notification_create(
        account=tenant_a.account, actor=author, template_key="card", phone="0912345678", personalisation={"name": "A"}
    )
    assert notification.version.number == 1 and notification.body == "A"


def test_a_token_speaks_for_the_person_who_created_it(tenant_a):
    token, _raw = (
        services.ApiToken.objects.create(
            account=tenant_a.account, name="x", key_hash="h", scopes=ApiToken.ALL_SCOPES, created_by=tenant_a.approver
        ),
        None,
    )
    version = services.template_save(
        account=tenant_a.account, actor=Actor(user=tenant_a.approver), key="k", name="n", body_vi="x"
    )
    with pytest.raises(Forbidden):
        services.template_approve(template=version.template, actor=Actor(token=token))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"body_vi": " "}, "body_vi"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"category": "nope"}, "category"),
        ({"zns_template_id": "z1", "zns_params": {"ten": "unknown"}}, "zns_params"),
        ({"zns_params": {"ten": "name"}}, "zns_template_id"),
        ({"body_vi": "x" * 4001}, "body_vi"),
    ],
)
def test_bad_templates_are_refused_and_nothing_is_stored(tenant_a, values, field):
    values = {"body_vi": BODY} | values
    with pytest.raises(ValidationFailed) as exc:
        services.template_save(
            account=tenant_a.account, actor=Actor(user=tenant_a.broadcaster), key="k", name="n", **values
        )
    assert field in exc.value.fields
    assert not services.Template.objects.exists()


def test_unknown_unapproved_and_bad_input_are_refused(tenant_a):
    with pytest.raises(NotFound):
        send(tenant_a, phone="0912345678")
    services.template_save(
        account=tenant_a.account, actor=Actor(user=tenant_a.broadcaster), key="vaccination", name="n", body_vi=BODY
    )
    with pytest.raises(Conflict):
        send(tenant_a, phone="0912345678")
    approved_template(tenant_a, key="v2")
    for kw in (
        {"phone": "12"},
        {"phone": "+6591234567"},  # foreign: the account allows only Vietnam
        {"phone": "0912345678", "personalisation": {"name": "An"}},
        {"phone": "0912345678", "personalisation": VALUES | {"place": "x" * 10_000}},
        {"phone": "0912345678", "personalisation": VALUES | {"place": ["a"]}},
        {},
        {"phone": "0912345678", "citizen_id": "c"},
    ):
        with pytest.raises(ValidationFailed):
            send(tenant_a, template_key="v2", **kw)
    assert not Notification.objects.exists()


def test_foreign_phones_when_the_account_allows_them(tenant_a):
    approved_template(tenant_a)
    PersonalSettings.objects.create(account=tenant_a.account, vietnam_only=False)
    notification, _ = send(tenant_a, phone="+6591234567")
    assert notification.phone == "+6591234567"


def test_html_in_a_value_is_stored_as_text(tenant_a):
    approved_template(tenant_a)
    notification, _ = send(tenant_a, phone="0912345678", personalisation=VALUES | {"name": "<script>x</script>"})
    assert "<script>x</script>" in notification.body  # plain text; every HTML view escapes it


def test_same_reference_same_content_is_the_same_notification_other_content_a_conflict(
    tenant_a, django_capture_on_commit_callbacks
):
    approved_template(tenant_a)
    web_person(tenant_a.account)
    with django_capture_on_commit_callbacks(execute=True):
        first, created = send(tenant_a, phone="0912345678", reference="ref-1")
    assert created
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again, created_again = send(tenant_a, phone="+84912345678", reference="ref-1")
    assert (again.pk, created_again, callbacks) == (first.pk, False, [])
    with pytest.raises(Conflict):
        send(tenant_a, phone="0912345678", reference="ref-1", personalisation=VALUES | {"name": "Bình"})
    assert Notification.objects.count() == 1
    assert Message.objects.filter(direction="out", sender="system").count() == 1


def test_a_follower_on_the_web_page_gets_it_in_app_for_free(tenant_a, django_capture_on_commit_callbacks):
    approved_template(tenant_a)
    web_person(tenant_a.account)
    with django_capture_on_commit_callbacks(execute=True):
        notification, _ = send(tenant_a, phone="0912345678")
    notification.refresh_from_db()
    assert (notification.status, notification.channel, notification.cost) == ("sent", "inapp", 0)
    assert list(notification.events.values_list("status", "channel")) == [
        ("queued", ""),
        ("sending", "inapp"),
        ("sent", "inapp"),
    ]
    message = Message.objects.get(direction="out", sender="system")
    assert message.text == "Chào An, lịch tiêm của ông/bà: 05/12 08:00 tại Trạm y tế phường 1."


def test_zns_rejected_falls_back_to_sms_once_with_the_reason(tenant_a):
    approved_template(tenant_a, zns_template_id="z-77", zns_params={"ten": "name"}, sms_text="Lich tiem ((date))")
    with FakeProvider() as zns, FakeProvider() as sms:
        provider(tenant_a, "zns", zns.url)
        provider(tenant_a, "sms", sms.url)
        zns.script = ["zns-error:-124"]
        notification, _ = send(tenant_a, phone="0912345678")
        dispatch.notification_send(notification_id=notification.pk)
        notification.refresh_from_db()
        assert (notification.status, notification.channel, notification.tried_channels) == (
            "sent",
            "sms",
            ["zns", "sms"],
        )
        assert notification.reason.startswith("zns failed:")
        assert (notification.segments, notification.cost) == (1, 800)
        assert b'"ten":"An"' in zns.requests[0]["body"] and b'"z-77"' in zns.requests[0]["body"]
        assert b"Lich tiem 05/12 08:00" in sms.requests[0]["body"]
        statuses = list(notification.events.values_list("status", "channel"))
        assert statuses == [("queued", ""), ("sending", "zns"), ("queued", "zns"), ("sending", "sms"), ("sent", "sms")]


def test_a_second_permanent_failure_is_final(tenant_a):
    approved_template(tenant_a, zns_template_id="z-77")
    with FakeProvider() as zns, FakeProvider() as sms:
        provider(tenant_a, "zns", zns.url)
        provider(tenant_a, "sms", sms.url)
        zns.script = ["zns-error:-124"]
        sms.script = ["400:unknown number"]
        notification, _ = send(tenant_a, phone="0912345678")
        dispatch.notification_send(notification_id=notification.pk)
        notification.refresh_from_db()
        assert notification.status == "failed"
        assert notification.reason.startswith("zns failed:") and "sms failed: HTTP 400" in notification.reason
        assert len(sms.requests) == 1 and len(zns.requests) == 1
        # a second run sends nothing
        assert dispatch.notification_send(notification_id=notification.pk)["skipped"]


def test_no_channel_reaches_the_person(tenant_a):
    approved_template(tenant_a)
    notification, _ = send(tenant_a, phone="0912345678")
    dispatch.notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == "failed" and "no configured channel" in notification.reason


def test_receipts_mark_delivered_once_and_only_in_the_account(tenant_a, tenant_b):
    approved_template(tenant_a)
    with FakeProvider() as sms:
        provider(tenant_a, "sms", sms.url)
        notification, _ = send(tenant_a, phone="0912345678")
        dispatch.notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    mid = notification.provider_message_id
    assert not dispatch.notification_receipt(account=tenant_b.account, kind="sms", message_id=mid, status="delivered")
    assert dispatch.notification_receipt(account=tenant_a.account, kind="sms", message_id=mid, status="delivered")
    assert dispatch.notification_receipt(account=tenant_a.account, kind="sms", message_id=mid, status="failed")
    notification.refresh_from_db()
    assert notification.status == "delivered"
    assert notification.events.filter(status="delivered").count() == 1


def test_personal_data_is_deleted_after_the_retention_period(tenant_a, settings, time_machine):
    settings.PERSONAL_RETENTION_DAYS = 7
    time_machine.move_to("2026-12-01 10:00:00+07:00", tick=False)
    approved_template(tenant_a)
    notification, _ = send(tenant_a, phone="0912345678")
    dispatch.notification_send(notification_id=notification.pk)  # fails: no channel; still personal data
    time_machine.move_to("2026-12-07 10:00:00+07:00", tick=False)
    assert services.personal_data_purge() == 0
    time_machine.move_to("2026-12-08 10:00:01+07:00", tick=False)
    assert services.personal_data_purge() == 1
    notification.refresh_from_db()
    assert (notification.personalisation, notification.body) == ({}, "")
    assert notification.purged_at is not None
    assert services.personal_data_purge() == 0


def test_a_scheduled_notification_waits(tenant_a, time_machine):
    time_machine.move_to("2026-12-01 10:00:00+07:00", tick=False)
    approved_template(tenant_a)
    later = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    notification, _ = send(tenant_a, phone="0912345678", scheduled_for=later)
    assert dispatch.notification_send(notification_id=notification.pk)["skipped"]
    time_machine.move_to(later)
    assert dispatch.notification_send(notification_id=notification.pk)["status"] == "failed"  # nothing configured


def test_an_account_with_notifications_and_lists_can_be_deleted(tenant_a):
    # a template version is kept while a message refers to it, but goes with its account (RESTRICT, not PROTECT)
    approved_template(tenant_a)
    send(tenant_a, phone="0912345678")
    tenant_a.account.delete()
    assert not Notification.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_notification_claimed_by_another_worker_meanwhile_is_not_sent_again(tenant_a):
    """Two workers run the same notification at once: the second claim waits for the first worker's row lock and
    then finds it no longer queued (READ COMMITTED re-checks only conditions on the updated row itself)."""
    approved_template(tenant_a)
    # queued, not sent on creation (as a scheduled one), then due
    notification, _ = send(tenant_a, phone="0912345678", scheduled_for=timezone.now() + dt.timedelta(hours=1))
    Notification.objects.filter(pk=notification.pk).update(scheduled_for=None)
    db = connections["default"].settings_dict
    result = {}

    def run():
        try:
            result.update(dispatch.notification_send(notification_id=notification.pk))
        finally:
            connections.close_all()

    # the other worker: its own connection, its claim of the row not yet committed
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or None
    ) as other:
        other.execute("UPDATE personal_notification SET status = 'sending' WHERE id = %s", [notification.pk])
        worker = threading.Thread(target=run)
        worker.start()
        # when: this worker's claim is waiting for the row (seen in pg_stat_activity), the other one commits
        deadline = time.monotonic() + 10
        waiting = 0
        while not waiting and time.monotonic() < deadline:
            query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s"
            other.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
            waiting = other.execute(query, [db["NAME"]]).fetchone()[0]
            time.sleep(0.01)
        other.commit()
    worker.join(10)
    # then: it was waiting, and sent nothing once it could see the other claim
    assert waiting == 1
    assert result == {"notification": notification.pk, "skipped": True}
    assert list(notification.events.values_list("status", flat=True)) == ["queued"]
