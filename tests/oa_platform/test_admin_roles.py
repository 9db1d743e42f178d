"""Roles in the admin: what editors, broadcasters, approvers and managers may open and change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oa_platform.models import ApiToken, ChannelConfig, Membership, Topic
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.oa_platform.admin_urls")]

MANAGER_ONLY_MODELS = ["apitoken", "membership", "channelconfig", "auditlog", "webhookevent"]
EVERY_ROLE_MODELS = ["topic", "conversation", "message", "follow", "citizen", "officialaccount", "area"]


@pytest.mark.parametrize("role", ["editor", "broadcaster", "approver"])
@pytest.mark.parametrize("model", MANAGER_ONLY_MODELS)
def test_non_managers_cannot_open_manager_pages(client, tenant_a, role, model):
    client.force_login(getattr(tenant_a, role))
    assert client.get(reverse(f"admin:oa_platform_{model}_changelist")).status_code == 403
    assert client.get(reverse(f"admin:oa_platform_{model}_add")).status_code == 403


@pytest.mark.parametrize("model", MANAGER_ONLY_MODELS)
def test_manager_opens_manager_pages(client, tenant_a, model):
    client.force_login(tenant_a.manager)
    assert client.get(reverse(f"admin:oa_platform_{model}_changelist")).status_code == 200


@pytest.mark.parametrize("role", ["editor", "broadcaster", "approver", "manager"])
@pytest.mark.parametrize("model", EVERY_ROLE_MODELS)
def test_every_role_views_shared_working_pages(client, tenant_a, role, model):
    client.force_login(getattr(tenant_a, role))
    assert client.get(reverse(f"admin:oa_platform_{model}_changelist")).status_code == 200


def test_editor_cannot_touch_tokens_or_members(client, tenant_a):
    token = ApiToken.objects.filter(account=tenant_a.account).first()
    membership = Membership.objects.get(user=tenant_a.broadcaster)
    client.force_login(tenant_a.editor)
    response = client.post(
        reverse("admin:oa_platform_apitoken_changelist"), {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    assert response.status_code == 403
    client.post(reverse("admin:oa_platform_membership_change", args=[membership.pk]), {"role": "manager"})
    client.post(reverse("admin:oa_platform_membership_delete", args=[membership.pk]), {"post": "yes"})
    token.refresh_from_db()
    membership.refresh_from_db()
    assert token.revoked_at is None and membership.role == Membership.ROLE_BROADCASTER


def test_editor_views_topics_but_cannot_change_them(client, tenant_a):
    topic = tenant_a.account.topics.first()
    client.force_login(tenant_a.editor)
    assert client.get(reverse("admin:oa_platform_topic_change", args=[topic.pk])).status_code == 200
    response = client.post(
        reverse("admin:oa_platform_topic_change", args=[topic.pk]),
        {"account": tenant_a.account.pk, "key": topic.key, "name": "đổi", "position": 0},
    )
    assert response.status_code == 403
    topic.refresh_from_db()
    assert topic.name != "đổi"
    assert client.get(reverse("admin:oa_platform_topic_add")).status_code == 403


def test_broadcaster_cannot_change_conversations_editor_can(client, tenant_a):
    citizen = factories.make_follower(tenant_a.account)
    conversation = tenant_a.account.conversations.create(citizen=citizen)
    url = reverse("admin:oa_platform_conversation_change", args=[conversation.pk])
    data = {"status": "open", "assigned_to": tenant_a.editor.pk, "message_set-TOTAL_FORMS": 0}
    client.force_login(tenant_a.broadcaster)
    assert client.post(url, data).status_code == 403
    conversation.refresh_from_db()
    assert conversation.status == "bot"
    client.force_login(tenant_a.editor)
    page = client.get(url)
    # the assignee dropdown lists colleagues of the account only
    assignees = set(page.context["adminform"].form.fields["assigned_to"].queryset)
    assert tenant_a.approver in assignees
    client.post(url, {**_management(page), "status": "open", "assigned_to": tenant_a.editor.pk})
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.assigned_to == tenant_a.editor


def _management(page) -> dict:
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(name, field.initial)
    return data


def test_role_is_per_account(client, tenant_a, tenant_b):
    # given the editor of A, who is manager of B
    Membership.objects.create(user=tenant_a.editor, account=tenant_b.account, role=Membership.ROLE_MANAGER)
    topic_a = tenant_a.account.topics.first()
    topic_b = tenant_b.account.topics.first()
    client.force_login(tenant_a.editor)
    post = {"key": "k", "name": "đổi", "position": 0}
    # then B's topic can be changed, A's cannot
    client.post(reverse("admin:oa_platform_topic_change", args=[topic_b.pk]), {**post, "account": tenant_b.account.pk})
    client.post(reverse("admin:oa_platform_topic_change", args=[topic_a.pk]), {**post, "account": tenant_a.account.pk})
    assert Topic.objects.get(pk=topic_b.pk).name == "đổi"
    assert Topic.objects.get(pk=topic_a.pk).name != "đổi"
    # and moving B's topic into A (where the user is only an editor) is refused
    client.post(reverse("admin:oa_platform_topic_change", args=[topic_b.pk]), {**post, "account": tenant_a.account.pk})
    assert Topic.objects.get(pk=topic_b.pk).account == tenant_b.account


def test_manager_edits_own_account_but_cannot_create_accounts(client, tenant_a):
    client.force_login(tenant_a.manager)
    assert client.get(reverse("admin:oa_platform_officialaccount_add")).status_code == 403
    assert client.get(reverse("admin:oa_platform_agency_add")).status_code == 403
    url = reverse("admin:oa_platform_officialaccount_change", args=[tenant_a.account.pk])
    assert client.get(url).status_code == 200


def test_superuser_creates_account_with_default_topics(client):
    root = factories.make_staff(None, username="root", is_superuser=True)
    client.force_login(root)
    response = client.post(
        reverse("admin:oa_platform_officialaccount_add"),
        {
            "slug": "so-y-te",
            "name": "Sở Y tế",
            "default_language": "vi",
            "timezone": "Asia/Ho_Chi_Minh",
            "is_active": "on",
            "working_hours_start": "07:30",
            "working_hours_end": "17:00",
            "working_days": "0,1,2,3,4",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    from oa_platform.models import OfficialAccount

    account = OfficialAccount.objects.get(slug="so-y-te")
    assert account.agency.code == "so-y-te"
    assert account.topics.count() == len(Topic.DEFAULT_TOPICS)


def test_staff_without_membership_sees_nothing(client, tenant_a):
    loner = factories.make_staff(None, username="loner")
    client.force_login(loner)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.context["app_list"] == []
    assert client.get(reverse("admin:oa_platform_topic_changelist")).status_code == 403


def test_channel_config_manager_only(client, tenant_a):
    config = ChannelConfig.objects.create(account=tenant_a.account, kind="zalo", secret="zalo-secret-123456")
    client.force_login(tenant_a.approver)
    assert client.get(reverse("admin:oa_platform_channelconfig_change", args=[config.pk])).status_code == 403
