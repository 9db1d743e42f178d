"""The audit log: written for staff actions, read-only in the admin for everybody, scoped per agency."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from oa_platform.models import AuditLog, Conversation
from oa_platform.services import audit_record
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.oa_platform.admin_urls")]


def test_audit_record_names_object_actor_and_time(tenant_a):
    topic = tenant_a.account.topics.first()
    with time_machine.travel("2026-03-01 08:00:00+07:00", tick=False):
        entry = audit_record(action="update", obj=topic, account=tenant_a.account, actor=tenant_a.editor)
    assert entry.object_type == "oa_platform.topic" and entry.object_id == str(topic.pk)
    assert entry.object_repr == str(topic) and entry.actor_label == tenant_a.editor.username
    assert entry.created_at.isoformat() == "2026-03-01T01:00:00+00:00"


def test_audit_record_for_a_token_or_the_system(tenant_a):
    entry = audit_record(action="notice_create", account=tenant_a.account, actor=AnonymousUser(), actor_label="tok")
    assert entry.actor is None and entry.actor_label == "tok"
    long = audit_record(action="x", actor_label="a" * 500, object_repr="b" * 500)
    assert len(long.actor_label) == 150 and len(long.object_repr) == 200


def test_account_creation_is_audited():
    account = factories.make_account("so-gtvt")
    assert AuditLog.objects.filter(action="create", object_type="oa_platform.officialaccount", account=account).exists()


def test_audit_log_is_read_only_for_everyone(client, tenant_a):
    entry = audit_record(action="test", account=tenant_a.account, object_repr="x")
    root = factories.make_staff(None, username="root", is_superuser=True)
    for user in (tenant_a.manager, root):
        client.force_login(user)
        assert client.get(reverse("admin:oa_platform_auditlog_changelist")).status_code == 200
        assert client.get(reverse("admin:oa_platform_auditlog_add")).status_code == 403
        page = client.get(reverse("admin:oa_platform_auditlog_change", args=[entry.pk]))
        assert page.status_code == 200 and b'name="action"' not in page.content
        client.post(reverse("admin:oa_platform_auditlog_change", args=[entry.pk]), {"action": "forged"})
        client.post(reverse("admin:oa_platform_auditlog_delete", args=[entry.pk]), {"post": "yes"})
        client.post(
            reverse("admin:oa_platform_auditlog_changelist"),
            {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
        )
        entry.refresh_from_db()
        assert entry.action == "test"


def test_audit_log_scoped_to_own_agency(client, tenant_a, tenant_b):
    mine = audit_record(action="test", account=tenant_a.account, object_repr="mine")
    theirs = audit_record(action="test", account=tenant_b.account, object_repr="theirs")
    system = audit_record(action="test", object_repr="platform")
    client.force_login(tenant_a.manager)
    shown = set(client.get(reverse("admin:oa_platform_auditlog_changelist")).context["cl"].queryset)
    assert mine in shown and theirs not in shown and system not in shown
    client.force_login(tenant_a.editor)
    assert client.get(reverse("admin:oa_platform_auditlog_changelist")).status_code == 403


def test_admin_inline_change_is_audited_without_values(client, tenant_a):
    citizen = factories.make_follower(tenant_a.account, phone="0912345678")
    conversation = Conversation.objects.create(account=tenant_a.account, citizen=citizen)
    conversation.messages.create(direction="in", text="số của tôi là 0912345678")
    client.force_login(tenant_a.editor)
    url = reverse("admin:oa_platform_conversation_change", args=[conversation.pk])
    page = client.get(url)
    data = {"status": "open", "assigned_to": tenant_a.editor.pk}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
    assert client.post(url, data).status_code == 302
    entry = AuditLog.objects.get(action="update", object_type="oa_platform.conversation")
    assert entry.actor == tenant_a.editor and entry.account == tenant_a.account
    assert sorted(entry.changes["fields"]) == ["assigned_to", "status"]
    assert "0912345678" not in str(entry.changes) and "+84912345678" not in str(entry.changes)
