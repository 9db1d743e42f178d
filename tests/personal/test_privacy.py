import datetime as dt
import logging

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from broadcasts.personal import dispatch, selectors, services
from broadcasts.personal.models import Notification, RecipientList, TemplateVersion, TokenCallback
from broadcasts.personal.tasks import purge, send_due
from broadcasts.services import Actor
from oa_platform.models import ApiToken, Membership
from oa_platform.services import token_issue
from tests import factories
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


LIST_CSV = (
    "phone,name,date,place\n"
    "0912345678,An,05/12,Trạm 1\n"  # valid: in the preview
    "0912345679,,05/12,Trạm 1\n"  # a missing value: in the bad rows
)
FULL = ("+84912345678", "+84912345679")
MASKED = ("+84******678", "+84******679")


def _seen(client, user, slug: str, pk: int) -> str:
    """What ``user`` sees of the list: its page and its row report."""
    client.force_login(user)
    page = client.get(reverse("staff:personal-list", args=[slug, pk]))
    assert page.status_code == 200
    report = client.get(reverse("staff:personal-report", args=[slug, pk]))
    return page.content.decode() + b"".join(report.streaming_content).decode("utf-8-sig")


def _full(text: str) -> bool:
    if all(phone in text for phone in FULL):
        return True
    assert all(masked in text for masked in MASKED) and "912345678" not in text and "912345679" not in text
    return False


def test_a_lists_phones_are_in_full_for_its_author_and_approver_only(client, tenant_a, caplog):
    caplog.set_level(logging.DEBUG)
    slug = tenant_a.account.slug
    approved_template(tenant_a)
    web_person(tenant_a.account, phone="+84912345678")
    other_broadcaster = factories.make_staff(tenant_a.account, Membership.ROLE_BROADCASTER, "a-broadcaster-2")
    other_approver = factories.make_staff(tenant_a.account, Membership.ROLE_APPROVER, "a-approver-2")
    # given: the broadcaster uploads a list and submits it
    client.force_login(tenant_a.broadcaster)
    client.post(
        reverse("staff:personal", args=[slug]),
        {"template": "vaccination", "file": SimpleUploadedFile("l.csv", LIST_CSV.encode())},
    )
    checked = RecipientList.objects.get()
    client.post(reverse("staff:personal-submit", args=[slug, checked.pk]), {"skip_invalid": "1"})
    # then: before approval only its author sees the phones in full; the manager and every other sender or
    # approver see them masked
    assert _full(_seen(client, tenant_a.broadcaster, slug, checked.pk))
    for user in (tenant_a.manager, tenant_a.approver, other_broadcaster, other_approver):
        assert not _full(_seen(client, user, slug, checked.pk)), user.username
    # when: the approver approves it
    client.force_login(tenant_a.approver)
    client.post(reverse("staff:personal-approve", args=[slug, checked.pk]))
    checked.refresh_from_db()
    assert checked.approver == tenant_a.approver
    # then: its approver sees them in full too, nobody else does
    assert _full(_seen(client, tenant_a.approver, slug, checked.pk))
    assert _full(_seen(client, tenant_a.broadcaster, slug, checked.pk))
    for user in (tenant_a.manager, other_broadcaster, other_approver):
        assert not _full(_seen(client, user, slug, checked.pk)), user.username
    # an editor has no access to the page; another agency's staff do not find it
    client.force_login(tenant_a.editor)
    assert client.get(reverse("staff:personal-list", args=[slug, checked.pk])).status_code == 403
    # and no full phone reached the logs on the way (upload, pages, reports, approval, sending)
    assert "912345678" not in caplog.text and "912345679" not in caplog.text


def test_a_list_written_through_a_token_shows_its_phones_to_the_tokens_creator(tenant_a):
    # given: a list whose author is a token created by the broadcaster, approved by a token with no creator
    approved_template(tenant_a)
    author, _raw = token_issue(
        account=tenant_a.account, name="back-office", scopes=ApiToken.ALL_SCOPES, created_by=tenant_a.broadcaster
    )
    approver, _raw = token_issue(account=tenant_a.account, name="robot", scopes=ApiToken.ALL_SCOPES)
    checked = RecipientList(
        account=tenant_a.account, version=TemplateVersion.objects.get(), author_token=author, approver_token=approver
    )
    # then: the token's creator sees the phones in full; nobody stands behind the other token
    assert selectors.sees_full_phones(item=checked, user=tenant_a.broadcaster)
    for user in (tenant_a.approver, tenant_a.manager, AnonymousUser()):
        assert not selectors.sees_full_phones(item=checked, user=user)
