"""The core model admins as staff use them: tokens, staff invitations, citizens (masked, erasable), channels."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from oa_platform.models import (
    ApiToken,
    AuditLog,
    ChannelConfig,
    Citizen,
    Conversation,
    Follow,
    InitialPassword,
    Membership,
    WebhookEvent,
)
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.oa_platform.admin_urls")]

RAW_PHONE = "+84912345678"


# --- API tokens  ---
def test_token_created_in_admin_shown_once_and_stored_hashed(client, tenant_a):
    client.force_login(tenant_a.manager)
    response = client.post(
        reverse("admin:oa_platform_apitoken_add"),
        {"account": tenant_a.account.pk, "name": "Zalo gateway", "scopes": ["chat", "read"]},
    )
    assert response.status_code == 200
    raw = re.search(r'id="raw-token"[^>]*>(oa_[^<]+)<', response.content.decode()).group(1)
    token = ApiToken.objects.get(name="Zalo gateway")
    assert token.key_hash == ApiToken.hash(raw) and raw not in (token.prefix, token.key_hash)
    assert token.scopes == ["chat", "read"] and token.created_by == tenant_a.manager
    assert AuditLog.objects.filter(action="token_issue", object_id=str(token.pk)).count() == 1
    # the change page and the list never show it again
    for url in (
        reverse("admin:oa_platform_apitoken_change", args=[token.pk]),
        reverse("admin:oa_platform_apitoken_changelist"),
    ):
        page = client.get(url).content.decode()
        assert raw not in page and token.key_hash not in page
        assert token.prefix in page


def test_token_with_unknown_scope_is_a_form_error(client, tenant_a):
    client.force_login(tenant_a.manager)
    before = ApiToken.objects.count()
    response = client.post(
        reverse("admin:oa_platform_apitoken_add"),
        {"account": tenant_a.account.pk, "name": "x", "scopes": ["root"]},
    )
    assert response.status_code == 200 and "scopes" in response.context["adminform"].form.errors
    assert ApiToken.objects.count() == before


def test_revoke_action(client, tenant_a, tenant_b):
    mine = ApiToken.objects.get(account=tenant_a.account)
    theirs = ApiToken.objects.get(account=tenant_b.account)
    client.force_login(tenant_a.manager)
    client.post(
        reverse("admin:oa_platform_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [mine.pk, theirs.pk]},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert AuditLog.objects.filter(action="token_revoke", actor=tenant_a.manager).count() == 1
    assert not mine.is_active and theirs.is_active


# --- staff invitations  ---
def test_manager_invites_new_staff_member(client, tenant_a):
    client.force_login(tenant_a.manager)
    response = client.post(
        reverse("admin:oa_platform_membership_add"),
        {"account": tenant_a.account.pk, "username": "can-bo-moi", "email": "moi@example.vn", "role": "editor"},
    )
    assert response.status_code == 200
    password = re.search(r'id="first-password"[^>]*>([^<]+)<', response.content.decode()).group(1)
    user = get_user_model().objects.get(username="can-bo-moi")
    assert user.is_staff and not user.is_superuser and user.check_password(password)
    assert Membership.objects.get(user=user).account == tenant_a.account
    assert AuditLog.objects.filter(action="create", object_type="oa_platform.membership").exists()


def test_manager_attaches_existing_user_without_seeing_user_list(client, tenant_a, tenant_b):
    client.force_login(tenant_a.manager)
    page = client.get(reverse("admin:oa_platform_membership_add"))
    html = page.content.decode()
    # no dropdown of users: other agencies' staff names are not listed
    assert tenant_b.manager.username not in html and tenant_b.editor.username not in html
    response = client.post(
        reverse("admin:oa_platform_membership_add"),
        {"account": tenant_a.account.pk, "username": tenant_b.editor.username, "role": "broadcaster"},
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=tenant_b.editor, account=tenant_a.account).role == "broadcaster"
    # B's own membership of that user is untouched and still invisible to A
    assert Membership.objects.get(user=tenant_b.editor, account=tenant_b.account).role == "editor"
    listed = client.get(reverse("admin:oa_platform_membership_changelist")).context["cl"].queryset
    assert all(m.account_id == tenant_a.account.pk for m in listed)


def test_invite_into_other_agency_refused(client, tenant_a, tenant_b):
    client.force_login(tenant_a.manager)
    response = client.post(
        reverse("admin:oa_platform_membership_add"),
        {"account": tenant_b.account.pk, "username": "spy", "role": "manager"},
    )
    assert response.status_code == 200 and "account" in response.context["adminform"].form.errors
    assert not get_user_model().objects.filter(username="spy").exists()


def test_duplicate_membership_is_a_form_error(client, tenant_a):
    client.force_login(tenant_a.manager)
    response = client.post(
        reverse("admin:oa_platform_membership_add"),
        {"account": tenant_a.account.pk, "username": tenant_a.editor.username, "role": "manager"},
    )
    assert response.status_code == 200 and "username" in response.context["adminform"].form.errors
    assert Membership.objects.get(user=tenant_a.editor).role == "editor"


def test_manager_cannot_demote_or_remove_self(client, tenant_a):
    own = Membership.objects.get(user=tenant_a.manager)
    client.force_login(tenant_a.manager)
    client.post(reverse("admin:oa_platform_membership_change", args=[own.pk]), {"role": "editor"})
    client.post(reverse("admin:oa_platform_membership_delete", args=[own.pk]), {"post": "yes"})
    own.refresh_from_db()
    assert own.role == "manager"


def test_manager_changes_colleague_role_and_it_is_audited(client, tenant_a):
    other = Membership.objects.get(user=tenant_a.editor)
    client.force_login(tenant_a.manager)
    response = client.post(reverse("admin:oa_platform_membership_change", args=[other.pk]), {"role": "approver"})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.role == "approver"
    entry = AuditLog.objects.get(action="update", object_type="oa_platform.membership", object_id=str(other.pk))
    assert entry.changes["fields"] == ["role"] and entry.account == tenant_a.account


# --- citizens  ---
def _citizen_of(account, **kwargs):
    citizen = factories.make_follower(account, phone=RAW_PHONE, display_name="Trần Thị B", **kwargs)
    conversation = Conversation.objects.create(account=account, citizen=citizen)
    conversation.messages.create(direction="in", text="xin chào")
    return citizen


def test_phone_is_masked_on_every_citizen_page(client, tenant_a):
    citizen = _citizen_of(tenant_a.account)
    client.force_login(tenant_a.manager)
    pages = [
        client.get(reverse("admin:oa_platform_citizen_changelist")),
        client.get(reverse("admin:oa_platform_citizen_changelist"), {"q": "Trần"}),
        client.get(reverse("admin:oa_platform_citizen_change", args=[citizen.pk])),
        client.post(
            reverse("admin:oa_platform_citizen_changelist"), {"action": "erase_data", "_selected_action": [citizen.pk]}
        ),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "+84******678" in html
        assert RAW_PHONE not in html and "912345678" not in html and "0912345678" not in html


def test_phone_masked_for_superuser_too(client, tenant_a):
    citizen = _citizen_of(tenant_a.account)
    root = factories.make_staff(None, username="root", is_superuser=True)
    client.force_login(root)
    html = client.get(reverse("admin:oa_platform_citizen_change", args=[citizen.pk])).content.decode()
    assert "+84******678" in html and "912345678" not in html


def test_erase_needs_confirmation_and_touches_only_own_account(client, tenant_a, tenant_b):
    # given a citizen who follows and wrote to both agencies
    citizen = _citizen_of(tenant_a.account)
    Follow.objects.create(account=tenant_b.account, citizen=citizen)
    Conversation.objects.create(account=tenant_b.account, citizen=citizen)
    client.force_login(tenant_a.manager)
    url = reverse("admin:oa_platform_citizen_changelist")
    # when the manager picks the action, a confirmation page comes first and nothing is erased yet
    page = client.post(url, {"action": "erase_data", "_selected_action": [citizen.pk]})
    assert page.status_code == 200 and b"confirm" in page.content
    assert Follow.objects.filter(account=tenant_a.account, citizen=citizen).exists()
    # then confirming erases A's data only
    client.post(url, {"action": "erase_data", "_selected_action": [citizen.pk], "confirm": "yes"})
    assert not Follow.objects.filter(account=tenant_a.account, citizen=citizen).exists()
    assert not Conversation.objects.filter(account=tenant_a.account, citizen=citizen).exists()
    assert Follow.objects.filter(account=tenant_b.account, citizen=citizen).exists()
    assert Citizen.objects.filter(pk=citizen.pk).exists()
    assert AuditLog.objects.filter(action="erase", account=tenant_a.account, actor=tenant_a.manager).exists()


def test_erase_removes_citizen_when_no_other_account_holds_it(client, tenant_a):
    citizen = _citizen_of(tenant_a.account)
    client.force_login(tenant_a.manager)
    client.post(
        reverse("admin:oa_platform_citizen_changelist"),
        {"action": "erase_data", "_selected_action": [citizen.pk], "confirm": "yes"},
    )
    assert not Citizen.objects.filter(pk=citizen.pk).exists()


def test_erase_reaches_an_accounts_citizen_that_neither_follows_nor_wrote(client, tenant_a):
    # given: a citizen the account's Zalo OA knows (e.g. a notice delivery only), no follow, no conversation
    citizen = factories.make_citizen("u-quiet", channel=Citizen.CHANNEL_ZALO, account=tenant_a.account)
    client.force_login(tenant_a.manager)
    url = reverse("admin:oa_platform_citizen_changelist")
    assert citizen.pk in {c.pk for c in client.get(url).context["cl"].queryset}
    # when
    client.post(url, {"action": "erase_data", "_selected_action": [citizen.pk], "confirm": "yes"})
    # then
    assert not Citizen.objects.filter(pk=citizen.pk).exists()


@pytest.mark.parametrize("role", ["editor", "broadcaster", "approver"])
def test_only_managers_may_erase(client, tenant_a, role):
    citizen = _citizen_of(tenant_a.account)
    client.force_login(getattr(tenant_a, role))
    response = client.post(
        reverse("admin:oa_platform_citizen_changelist"),
        {"action": "erase_data", "_selected_action": [citizen.pk], "confirm": "yes"},
    )
    assert response.status_code in (200, 302, 403)
    assert Follow.objects.filter(citizen=citizen).exists()
    assert client.get(reverse("admin:oa_platform_citizen_change", args=[citizen.pk])).status_code == 200


def test_citizen_not_editable_by_staff(client, tenant_a):
    citizen = _citizen_of(tenant_a.account)
    client.force_login(tenant_a.manager)
    response = client.post(
        reverse("admin:oa_platform_citizen_change", args=[citizen.pk]),
        {"channel": "web", "external_id": "x", "display_name": "changed", "language": "en"},
    )
    assert response.status_code == 403
    citizen.refresh_from_db()
    assert citizen.display_name == "Trần Thị B"


# --- channel secrets  ---
def test_channel_secrets_are_write_only(client, tenant_a):
    config = ChannelConfig.objects.create(
        account=tenant_a.account,
        kind="zalo",
        app_id="app-1",
        secret="zalo-super-secret-value",
        access_token="tok-xyz-1234",
    )
    client.force_login(tenant_a.manager)
    url = reverse("admin:oa_platform_channelconfig_change", args=[config.pk])
    for page in (client.get(url), client.get(reverse("admin:oa_platform_channelconfig_changelist"))):
        html = page.content.decode()
        assert "zalo-super-secret-value" not in html and "tok-xyz-1234" not in html
    # saving with blank secret fields keeps them; a typed one replaces it
    data = {"account": tenant_a.account.pk, "kind": "zalo", "is_enabled": "on", "app_id": "app-2"}
    assert client.post(url, data).status_code == 302
    config.refresh_from_db()
    assert (
        config.app_id == "app-2"
        and config.secret == "zalo-super-secret-value"
        and config.access_token == "tok-xyz-1234"
    )
    entry = AuditLog.objects.filter(action="update", object_type="oa_platform.channelconfig").latest("id")
    assert entry.changes["fields"] == ["app_id"]
    assert client.post(url, {**data, "secret": "new-secret"}).status_code == 302
    config.refresh_from_db()
    assert config.secret == "new-secret"
    entry = AuditLog.objects.filter(action="update", object_type="oa_platform.channelconfig").latest("id")
    assert "new-secret" not in str(entry.changes)


def test_admin_header_names_only_own_accounts(client, tenant_a, tenant_b):
    client.force_login(tenant_a.editor)
    html = client.get(reverse("admin:index")).content.decode()
    assert tenant_a.account.name in html and tenant_b.account.name not in html


def test_new_staff_member_must_choose_a_password_before_anything_else(client, tenant_a):
    # given: a manager creates a staff member, who gets a generated password shown once
    client.force_login(tenant_a.manager)
    response = client.post(
        reverse("admin:oa_platform_membership_add"),
        {"account": tenant_a.account.pk, "username": "can-bo-2", "role": "editor"},
    )
    password = re.search(r'id="first-password"[^>]*>([^<]+)<', response.content.decode()).group(1)
    client.logout()
    # and: the stored hash changes without anyone choosing a password (as a hasher upgrade re-hashes at login)
    user = get_user_model().objects.get(username="can-bo-2")
    user.set_password(password)
    user.save()
    # when: they log in with it
    assert client.login(username="can-bo-2", password=password)
    # then: every admin page sends them to the password change form, which itself opens
    for page in (reverse("admin:index"), reverse("admin:faq_faqentry_changelist")):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"] == reverse("admin:password_change")
    assert client.get(reverse("admin:password_change")).status_code == 200
    # when: the form is sent with a mistake, nothing changes; with their own password, the admin opens as usual
    client.post(
        reverse("admin:password_change"),
        {"old_password": "wrong", "new_password1": "Mat-khau-rieng-2026", "new_password2": "Mat-khau-rieng-2026"},
    )
    assert client.get(reverse("admin:index")).status_code == 302
    changed = client.post(
        reverse("admin:password_change"),
        {"old_password": password, "new_password1": "Mat-khau-rieng-2026", "new_password2": "Mat-khau-rieng-2026"},
    )
    assert changed.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert not InitialPassword.objects.exists()


def test_staff_with_their_own_password_are_not_sent_to_the_change_form(client, tenant_a):
    client.force_login(tenant_a.editor)
    assert client.get(reverse("admin:index")).status_code == 200
    assert "oa_initial_password" not in client.session


# --- webhook events  ---
def test_phone_numbers_in_webhook_events_are_masked_in_the_admin(client, tenant_a):
    # a generic gateway's event: its citizen id and message id are the sender's phone, the profile has it too
    event = WebhookEvent.objects.create(
        account=tenant_a.account,
        channel="generic",
        dedup_key="m:+84912345678-1",
        event_type="message",
        payload={"kind": "message", "citizen_id": "+84912345678", "text": "số tôi 0912 345 678",
                 "profile": {"phone": RAW_PHONE, "display_name": "Lan"}},
    )  # fmt: skip
    client.force_login(tenant_a.manager)
    pages = [
        client.get(reverse("admin:oa_platform_webhookevent_changelist")),
        client.get(reverse("admin:oa_platform_webhookevent_change", args=[event.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "912345678" not in html and "912 345 678" not in html
    detail = pages[1].content.decode()
    assert "+84******678" in detail and "Lan" in detail and "message" in detail
