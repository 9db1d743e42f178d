"""The scoping base class itself: querysets, dropdowns, autocomplete, filters, saves, audit, staff_accounts."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from oa_platform.admin_scoping import (
    BROADCASTERS,
    EDITORS,
    MANAGER_ONLY,
    ScopedForeignKeyRawIdWidget,
    scoped_choices,
    staff_accounts,
)
from oa_platform.models import AuditLog, Citizen, Conversation, Membership, OfficialAccount, Topic
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.oa_platform.admin_urls")]


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_staff_accounts_by_role(tenant_a, tenant_b):
    # given an editor of A who is also a broadcaster of B
    Membership.objects.create(user=tenant_a.editor, account=tenant_b.account, role=Membership.ROLE_BROADCASTER)
    request = _request(tenant_a.editor)
    # then each role list gives exactly the accounts where the role is held
    assert set(staff_accounts(request, EDITORS)) == {tenant_a.account}
    assert set(staff_accounts(request, BROADCASTERS)) == {tenant_b.account}
    assert set(staff_accounts(request, MANAGER_ONLY)) == set()
    assert set(staff_accounts(_request(tenant_a.manager), EDITORS)) == {tenant_a.account}


def test_staff_accounts_superuser_all_and_inactive_none(tenant_a, tenant_b):
    root = factories.make_staff(None, username="root", is_superuser=True)
    assert set(staff_accounts(_request(root), MANAGER_ONLY)) == {tenant_a.account, tenant_b.account}
    tenant_a.manager.is_active = False
    tenant_a.manager.save()
    assert not staff_accounts(_request(tenant_a.manager)).exists()


def test_scoped_choices_for_each_kind_of_model(tenant_a, tenant_b):
    cit_a = factories.make_follower(tenant_a.account)
    cit_b = factories.make_follower(tenant_b.account)
    request = _request(tenant_a.editor)
    assert set(scoped_choices(request, OfficialAccount)) == {tenant_a.account}
    assert set(scoped_choices(request, Citizen)) == {cit_a}
    assert set(scoped_choices(request, Topic)) == set(tenant_a.account.topics.all())
    users = set(scoped_choices(request, type(tenant_a.editor)))
    assert tenant_a.manager in users and tenant_b.manager not in users
    assert cit_b not in scoped_choices(request, Citizen)


def test_changelist_shows_only_own_rows(client, tenant_a, tenant_b):
    client.force_login(tenant_a.manager)
    response = client.get(reverse("admin:oa_platform_topic_changelist"))
    assert response.status_code == 200
    shown = set(response.context["cl"].queryset)
    assert shown == set(tenant_a.account.topics.all())


def test_fk_dropdown_and_post_of_other_account_refused(client, tenant_a, tenant_b):
    client.force_login(tenant_a.manager)
    url = reverse("admin:oa_platform_topic_add")
    # the dropdown offers only A
    form = client.get(url).context["adminform"].form
    assert list(form.fields["account"].queryset) == [tenant_a.account]
    # posting B's account id is a form error and nothing is stored
    before = Topic.objects.count()
    response = client.post(url, {"account": tenant_b.account.pk, "key": "x-b", "name": "X", "position": 0})
    assert response.status_code == 200
    assert "account" in response.context["adminform"].form.errors
    assert Topic.objects.count() == before
    # the same post for A's account works (so the refusal above was the scoping)
    response = client.post(url, {"account": tenant_a.account.pk, "key": "x-a", "name": "X", "position": 0})
    assert response.status_code == 302
    assert Topic.objects.filter(account=tenant_a.account, key="x-a").exists()


def test_other_agency_object_urls_redirect_and_change_post_does_nothing(client, tenant_a, tenant_b):
    topic_b = tenant_b.account.topics.first()
    client.force_login(tenant_a.manager)
    for name in ("change", "delete", "history"):
        response = client.get(reverse(f"admin:oa_platform_topic_{name}", args=[topic_b.pk]))
        assert response.status_code in (302, 403, 404)
    client.post(reverse("admin:oa_platform_topic_change", args=[topic_b.pk]), {"name": "hacked", "key": "k"})
    client.post(reverse("admin:oa_platform_topic_delete", args=[topic_b.pk]), {"post": "yes"})
    topic_b.refresh_from_db()
    assert topic_b.name != "hacked"


def test_autocomplete_of_accounts_limited_to_source_roles(client, tenant_a, tenant_b):
    # given an editor of A who manages C
    account_c = factories.make_account("agency-c")
    Membership.objects.create(user=tenant_a.editor, account=account_c, role=Membership.ROLE_MANAGER)
    client.force_login(tenant_a.editor)
    url = reverse("admin:autocomplete")
    # when the Topic form (managers only) asks for accounts
    response = client.get(url, {"app_label": "oa_platform", "model_name": "topic", "field_name": "account"})
    ids = {int(r["id"]) for r in json.loads(response.content)["results"]}
    # then only C (where the editor is manager) comes back, never B
    assert ids == {account_c.pk}


def test_autocomplete_of_citizens_scoped(client, tenant_a, tenant_b):
    cit_a = factories.make_follower(tenant_a.account, display_name="Nguyen A")
    factories.make_follower(tenant_b.account, display_name="Nguyen B")
    client.force_login(tenant_a.manager)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "oa_platform", "model_name": "membership", "field_name": "test_citizen", "term": "Nguyen"},
    )
    assert response.status_code == 200
    assert [int(r["id"]) for r in json.loads(response.content)["results"]] == [cit_a.pk]


def test_list_filter_choices_scoped(client, tenant_a, tenant_b):
    # given a manager of A and C (a filter with a single choice is not shown at all)
    account_c = factories.make_account("agency-c")
    Membership.objects.create(user=tenant_a.manager, account=account_c, role=Membership.ROLE_MANAGER)
    client.force_login(tenant_a.manager)
    response = client.get(reverse("admin:oa_platform_topic_changelist"))
    specs = response.context["cl"].filter_specs
    account_spec = next(s for s in specs if getattr(s, "field_path", "") == "account")
    assert {pk for pk, _label in account_spec.lookup_choices} == {tenant_a.account.pk, account_c.pk}
    # filtering on B's account shows nothing
    response = client.get(reverse("admin:oa_platform_topic_changelist"), {"account__id__exact": tenant_b.account.pk})
    assert response.status_code == 200
    assert not list(response.context["cl"].queryset)


def test_raw_id_widget_does_not_label_foreign_rows(tenant_a, tenant_b):
    from django.contrib import admin

    conversation_field = Conversation._meta.get_field("citizen")
    cit_b = factories.make_follower(tenant_b.account, display_name="Secret B")
    widget = ScopedForeignKeyRawIdWidget(
        conversation_field.remote_field, admin.site, allowed=scoped_choices(_request(tenant_a.manager), Citizen)
    )
    assert widget.label_and_url_for_value(cit_b.pk) == ("", "")
    assert widget.label_and_url_for_value("not-a-number") == ("", "")


def test_admin_add_change_delete_are_audited(client, tenant_a):
    client.force_login(tenant_a.manager)
    # add
    client.post(
        reverse("admin:oa_platform_topic_add"),
        {"account": tenant_a.account.pk, "key": "fire", "name": "Cháy", "position": 3},
    )
    topic = Topic.objects.get(account=tenant_a.account, key="fire")
    created = AuditLog.objects.get(action="create", object_type="oa_platform.topic", object_id=str(topic.pk))
    assert created.actor == tenant_a.manager and created.account == tenant_a.account
    # change
    client.post(
        reverse("admin:oa_platform_topic_change", args=[topic.pk]),
        {"account": tenant_a.account.pk, "key": "fire", "name": "Hỏa hoạn", "position": 3},
    )
    updated = AuditLog.objects.get(action="update", object_id=str(topic.pk))
    assert updated.changes["fields"] == ["name"]
    # delete
    client.post(reverse("admin:oa_platform_topic_delete", args=[topic.pk]), {"post": "yes"})
    assert not Topic.objects.filter(pk=topic.pk).exists()
    assert AuditLog.objects.filter(action="delete", object_id=str(topic.pk), actor=tenant_a.manager).exists()


def test_bulk_delete_action_audits_each_and_ignores_foreign_ids(client, tenant_a, tenant_b):
    mine = list(tenant_a.account.topics.values_list("pk", flat=True)[:2])
    theirs = list(tenant_b.account.topics.values_list("pk", flat=True)[:2])
    client.force_login(tenant_a.manager)
    client.post(
        reverse("admin:oa_platform_topic_changelist"),
        {"action": "delete_selected", "_selected_action": mine + theirs, "post": "yes"},
    )
    assert not Topic.objects.filter(pk__in=mine).exists()
    assert Topic.objects.filter(pk__in=theirs).count() == 2
    assert AuditLog.objects.filter(action="delete", object_type="oa_platform.topic").count() == 2
