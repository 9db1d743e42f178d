import logging

import pytest

from broadcasts.personal import dispatch, services
from broadcasts.personal.models import Notification
from broadcasts.personal.tasks import purge
from broadcasts.services import Actor
from tests.fakes.fake_provider import FakeProvider
from tests.personal.conftest import approved_template, provider

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
