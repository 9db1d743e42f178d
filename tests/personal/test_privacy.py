import datetime as dt
import logging

import pytest

from broadcasts.personal import dispatch, services
from broadcasts.personal.models import Notification, TokenCallback
from broadcasts.personal.tasks import purge, send_due
from broadcasts.services import Actor
from oa_platform.models import ApiToken
from tests.fakes.fake_provider import FakeProvider
from tests.personal.conftest import approved_template, provider, web_person

pytestmark = pytest.mark.django_db

SECRET_NAME = "Nguyễn Thị Bímật"


def test_phones_and_personalisation_are_never_logged(tenant_a, caplog):
    caplog.set_level(logging.DEBUG)
    approved_template(tenant_a, zns_template_id="z1")
    with FakeProvider() as zns, FakeProvider() as sms:
        provider(tenant_a, "zns", zns.url)
        provider(tenant_a, "sms", sms.url)
        zns.script = ["zns-error:-124"]  # a fallback: the path that logs
        sms.script = ["500", "400:unknown number"]
        notification, _ = services.notification_create(
            account=tenant_a.account,
            actor=Actor(user=tenant_a.broadcaster),
            template_key="vaccination",
            phone="0912345678",
            personalisation={"name": SECRET_NAME, "date": "05/12", "place": "Trạm 1"},
        )
        dispatch.notification_send(notification_id=notification.pk)
    assert caplog.records  # something was logged
    assert "912345678" not in caplog.text and SECRET_NAME not in caplog.text


def test_the_beat_task_deletes_personal_data_after_the_retention_period(tenant_a, settings, time_machine):
    settings.PERSONAL_RETENTION_DAYS = 7
    time_machine.move_to("2026-12-01 10:00:00+07:00", tick=False)
    approved_template(tenant_a)
    notification, _ = services.notification_create(
        account=tenant_a.account,
        actor=Actor(user=tenant_a.broadcaster),
        template_key="vaccination",
        phone="0912345678",
        personalisation={"name": SECRET_NAME, "date": "05/12", "place": "Trạm 1"},
    )
    dispatch.notification_send(notification_id=notification.pk)
    time_machine.move_to("2026-12-09 10:00:00+07:00", tick=False)
    assert purge() == {"purged": 1}
    assert not Notification.objects.filter(body__contains="Bímật").exists()


def test_the_sweep_sends_scheduled_and_lost_ones_only(tenant_a, time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to("2026-12-01 10:00:00+07:00", tick=False)
    approved_template(tenant_a)
    values = {"name": "An", "date": "05/12", "place": "Trạm 1"}
    actor = Actor(user=tenant_a.broadcaster)
    kw = {"account": tenant_a.account, "actor": actor, "template_key": "vaccination", "personalisation": values}
    lost, _ = services.notification_create(phone="0912345678", **kw)  # its task never ran (no on-commit here)
    later, _ = services.notification_create(
        phone="0912345679", scheduled_for=dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC), **kw
    )
    assert send_due() == {"enqueued": 0}
    time_machine.move_to("2026-12-01 10:06:00+07:00", tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due() == {"enqueued": 1}
    lost.refresh_from_db()
    assert lost.status == "failed"  # it ran: nothing reaches this person in this account
    time_machine.move_to("2026-12-01 11:00:01+07:00", tick=False)
    assert send_due() == {"enqueued": 1}
    later.refresh_from_db()
    assert later.status == "failed"


def test_a_broken_callback_never_breaks_a_send(tenant_a, api_client, django_capture_on_commit_callbacks):
    approved_template(tenant_a)
    web_person(tenant_a.account)
    with FakeProvider() as receiver:
        url = receiver.url
    token = ApiToken.objects.get(key_hash=ApiToken.hash(tenant_a.token))
    TokenCallback.objects.create(token=token, url=url, secret="s" * 20)  # the receiver is gone: refused
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(
            f"/api/v1/accounts/{tenant_a.account.slug}/notifications/",
            {
                "template": "vaccination",
                "phone": "0912345678",
                "personalisation": {"name": "A", "date": "B", "place": "C"},
            },
            format="json",
        )
    assert answer.status_code == 201
    assert Notification.objects.get().status == "sent"
