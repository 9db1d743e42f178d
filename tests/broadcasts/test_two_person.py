"""The two-person rule holds per person: a token acts for the user who created it, a token with no creator
(``issue_token``) is its own identity. Every path that approves (service, API, admin) uses the same rule."""

import re

import pytest
from django.urls import reverse

from broadcasts.models import Notice
from broadcasts.services import (
    Actor,
    notice_approve,
    notice_create,
    notice_follow_up_create,
    notice_submit,
)
from oa_platform.errors import Forbidden
from oa_platform.models import ApiToken
from oa_platform.services import token_issue
from tests import factories

pytestmark = pytest.mark.django_db


def token(tenant, created_by=None, name="t"):
    return token_issue(account=tenant.account, name=name, scopes=ApiToken.ALL_SCOPES, created_by=created_by)


def identities(tenant):
    """Named identities: two managers, each with two tokens, and two tokens nobody created (issue_token)."""
    boss = tenant.manager
    other = factories.make_staff(tenant.account, "manager", "second-manager")
    return {
        "boss": Actor(user=boss),
        "boss_token_1": Actor(token=token(tenant, boss, "boss-1")[0]),
        "boss_token_2": Actor(token=token(tenant, boss, "boss-2")[0]),
        "other": Actor(user=other),
        "other_token": Actor(token=token(tenant, other, "other-1")[0]),
        "bare_1": Actor(token=token(tenant, None, "bare-1")[0]),
        "bare_2": Actor(token=token(tenant, None, "bare-2")[0]),
    }


def pending(tenant, author: Actor) -> Notice:
    notice = notice_create(
        account=tenant.account, actor=author, category="storm-flood", severity="severe", title_vi="Bão", body_vi="b"
    ).notice
    notice_submit(notice=notice, actor=author)
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING
    return notice


SAME_PERSON = [
    ("boss", "boss"),  # staff / same staff
    ("boss", "boss_token_1"),  # staff / own token
    ("boss_token_1", "boss"),  # token / the user who created it
    ("boss_token_1", "boss_token_1"),  # token / itself
    ("boss_token_1", "boss_token_2"),  # token / another token of the same creator
    ("bare_1", "bare_1"),  # a token nobody created / itself
]
OTHER_PERSON = [
    ("boss", "other"),  # staff / other staff
    ("boss", "other_token"),  # staff / another person's token
    ("boss_token_1", "other"),
    ("boss_token_1", "other_token"),  # token / other person's token
    ("boss_token_1", "bare_1"),  # token / a token nobody created
    ("bare_1", "boss"),
    ("bare_1", "bare_2"),  # two tokens nobody created are two identities
]


@pytest.mark.parametrize(("author", "approver"), SAME_PERSON)
def test_same_person_cannot_approve(tenant_a, author, approver):
    people = identities(tenant_a)
    notice = pending(tenant_a, people[author])
    with pytest.raises(Forbidden) as err:
        notice_approve(notice=notice, actor=people[approver])
    assert err.value.code == "same_person"
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING and notice.approved_at is None


@pytest.mark.parametrize(("author", "approver"), OTHER_PERSON)
def test_other_person_approves(tenant_a, author, approver):
    people = identities(tenant_a)
    notice = pending(tenant_a, people[author])
    notice_approve(notice=notice, actor=people[approver])
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SCHEDULED


def test_follow_up_same_rule(tenant_a):
    # given a sent notice and a correction drafted through the manager's token
    people = identities(tenant_a)
    original = pending(tenant_a, people["other"])
    Notice.objects.filter(pk=original.pk).update(status=Notice.STATUS_SENT)
    follow_up = notice_follow_up_create(notice=original, kind=Notice.KIND_UPDATE, actor=people["boss_token_1"]).notice
    notice_submit(notice=follow_up, actor=people["boss_token_1"])
    # then neither the manager nor their other token approves it; someone else does
    for who in ("boss", "boss_token_2"):
        with pytest.raises(Forbidden):
            notice_approve(notice=follow_up, actor=people[who])
    notice_approve(notice=follow_up, actor=people["other"])
    follow_up.refresh_from_db()
    assert follow_up.status == Notice.STATUS_SCHEDULED


def test_api_manager_cannot_approve_with_own_token(client, api_client, tenant_a):
    """The reported case: a manager drafts and submits in the admin, creates an approve token in the admin, and
    approves through the API with it."""
    # given a notice the manager wrote and submitted in the admin
    client.force_login(tenant_a.manager)
    resp = client.post(
        reverse("admin:broadcasts_notice_add"),
        {
            "account": tenant_a.account.pk,
            "category": "storm-flood",
            "severity": "severe",
            "title_vi": "Bão",
            "body_vi": "Bão số 3",
            "mode": "live",
        },
    )
    assert resp.status_code == 302
    notice = Notice.objects.get()
    client.post(reverse("admin:broadcasts_notice_do", args=[notice.pk, "submit"]))
    # and a token the manager created in the admin
    resp = client.post(
        reverse("admin:oa_platform_apitoken_add"),
        {"account": tenant_a.account.pk, "name": "approve-bot", "scopes": ["broadcasts:approve"]},
    )
    the_token = ApiToken.objects.get(name="approve-bot")
    shown = [
        raw for raw in re.findall(r"oa_[A-Za-z0-9_-]{40,}", resp.content.decode()) if raw.startswith(the_token.prefix)
    ]
    assert the_token.created_by == tenant_a.manager and ApiToken.hash(shown[0]) == the_token.key_hash
    # when it approves through the API
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {shown[0]}")
    resp = api_client.post(f"/api/v1/accounts/{tenant_a.account.slug}/notices/{notice.pk}/approve/")
    # then it is refused and the notice still waits
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "same_person"
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING


def test_admin_refuses_approval_of_notice_written_by_own_token(client, tenant_a):
    # given a notice written through a token the manager created
    the_token, _raw = token(tenant_a, tenant_a.manager, "bot")
    notice = pending(tenant_a, Actor(token=the_token))
    client.force_login(tenant_a.manager)
    # then the page offers no approve button, and posting it anyway leaves the notice pending
    page = client.get(reverse("admin:broadcasts_notice_change", args=[notice.pk])).content.decode()
    assert reverse("admin:broadcasts_notice_do", args=[notice.pk, "approve"]) not in page
    client.post(reverse("admin:broadcasts_notice_do", args=[notice.pk, "approve"]))
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_PENDING
    # while another approver may
    client.force_login(tenant_a.approver)
    client.post(reverse("admin:broadcasts_notice_do", args=[notice.pk, "approve"]))
    notice.refresh_from_db()
    assert notice.status == Notice.STATUS_SCHEDULED
