"""Builders for the personal notice tests."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from broadcasts.personal import lists
from broadcasts.personal.models import RecipientList
from broadcasts.personal.services import template_approve, template_save
from broadcasts.services import Actor
from oa_platform.models import ChannelConfig, Citizen
from oa_platform.services import citizen_conversation_get_or_create

BODY = "Chào ((name)), lịch tiêm của ông/bà: ((date)) tại ((place))."
VALUES = {"name": "An", "date": "05/12 08:00", "place": "Trạm y tế phường 1"}


def approved_template(tenant, key: str = "vaccination", **values):
    values.setdefault("name", "Lịch tiêm")
    values.setdefault("body_vi", BODY)
    version = template_save(account=tenant.account, actor=Actor(user=tenant.broadcaster), key=key, **values)
    return template_approve(template=version.template, actor=Actor(user=tenant.approver))


def web_person(account, phone: str = "+84912345678", external_id: str = "web-1") -> Citizen:
    """A person with a conversation on the account's web page (reachable in-app) and this phone."""
    citizen, _conversation = citizen_conversation_get_or_create(
        account=account, channel=Citizen.CHANNEL_WEB, external_id=external_id, phone=phone
    )
    return citizen


def provider(tenant, kind: str, url: str, **values) -> ChannelConfig:
    values.setdefault("max_attempts", 1)
    return ChannelConfig.objects.create(account=tenant.account, kind=kind, api_base=url, access_token="k", **values)


def empty_list(tenant) -> RecipientList:
    """A list of the approved vaccination template with no rows yet (its rows table exists on PostgreSQL)."""
    version = approved_template(tenant)
    return RecipientList.objects.create(
        account=tenant.account, version=version, file_name="l.csv", columns=["name", "date", "place"]
    )


def approved_list(tenant, text: str, *, run_on_commit=None) -> RecipientList:
    """Upload (every row valid), submit and approve a list of CSV ``text``. ``run_on_commit``: the
    django_capture_on_commit_callbacks fixture, to run the chunk tasks the approval enqueues."""
    checked = lists.list_upload(
        account=tenant.account,
        actor=Actor(user=tenant.broadcaster),
        template_key="vaccination",
        fileobj=SimpleUploadedFile("l.csv", text.encode()),
        file_name="l.csv",
        max_bytes=1 << 20,
    )
    assert checked.rows_invalid == 0, checked.problems
    lists.list_submit(recipient_list=checked, actor=Actor(user=tenant.broadcaster))
    if run_on_commit is not None:
        with run_on_commit(execute=True):
            lists.list_approve(recipient_list=checked, actor=Actor(user=tenant.approver))
    else:  # the chunk tasks run on the approval's commit in a transaction test; otherwise the test runs them
        lists.list_approve(recipient_list=checked, actor=Actor(user=tenant.approver))
    checked.refresh_from_db()
    return checked
