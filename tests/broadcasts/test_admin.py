import pytest
from django.urls import reverse

from broadcasts.models import Notice
from tests.broadcasts.conftest import approved, draft, follower

pytestmark = pytest.mark.django_db


def change_url(notice):
    return reverse("admin:broadcasts_notice_change", args=[notice.pk])


def do_url(notice, action):
    return reverse("admin:broadcasts_notice_do", args=[notice.pk, action])


def test_compose_preview_submit_approve(client, tenant_a):
    follower(tenant_a.account, topics=["storm-flood"])
    client.force_login(tenant_a.broadcaster)
    resp = client.post(
        reverse("admin:broadcasts_notice_add"),
        {
            "account": tenant_a.account.pk,
            "category": "storm-flood",
            "severity": "severe",
            "title_vi": "Bão",
            "body_vi": "Bão số 3",
            "audience_topics": "storm-flood",
            "audience_areas": "",
            "mode": "live",
        },
    )
    assert resp.status_code == 302, resp.content[:2000]
    notice = Notice.objects.get()
    assert notice.author == tenant_a.broadcaster
    page = client.get(change_url(notice)).content.decode()
    assert "Audience preview" in page or "oa-preview" in page
    client.post(do_url(notice, "submit"))
    notice.refresh_from_db()
    assert notice.status == "pending_approval"
    # the broadcaster cannot approve (role), and the page shows no approve button
    assert client.post(do_url(notice, "approve")).status_code == 403
    client.force_login(tenant_a.approver)
    client.post(do_url(notice, "approve"))
    notice.refresh_from_db()
    assert notice.status == "scheduled" and notice.approver == tenant_a.approver


def test_approver_cannot_approve_own_in_admin(client, tenant_a):
    client.force_login(tenant_a.approver)
    resp = client.post(
        reverse("admin:broadcasts_notice_add"),
        {
            "account": tenant_a.account.pk,
            "category": "health",
            "severity": "minor",
            "title_vi": "t",
            "body_vi": "b",
            "mode": "live",
        },
    )
    assert resp.status_code == 302
    notice = Notice.objects.get()
    client.post(do_url(notice, "submit"))
    client.post(do_url(notice, "approve"))
    notice.refresh_from_db()
    assert notice.status == "pending_approval"


def test_bad_input_shows_form_errors(client, tenant_a):
    client.force_login(tenant_a.broadcaster)
    resp = client.post(
        reverse("admin:broadcasts_notice_add"),
        {
            "account": tenant_a.account.pk,
            "category": "nope",
            "severity": "minor",
            "title_vi": "t",
            "body_vi": "b",
            "audience_areas": "123456789",
            "mode": "live",
        },
    )
    assert resp.status_code == 200 and Notice.objects.count() == 0


def test_progress_chart_and_json(client, tenant_a, run_dispatcher):
    follower(tenant_a.account)
    notice = approved(tenant_a)
    run_dispatcher()
    client.force_login(tenant_a.manager)
    page = client.get(change_url(notice)).content.decode()
    assert "<svg" in page and "inapp" in page
    data = client.get(reverse("admin:broadcasts_notice_progress", args=[notice.pk])).json()
    assert data["by_channel"] == {"inapp": {"sent": 1}}
    # correct creates a pre-filled follow-up draft
    resp = client.post(do_url(notice, "correct"))
    follow_up = Notice.objects.get(references=notice)
    assert resp.url == change_url(follow_up) and follow_up.kind == "update"


def test_other_tenant_sees_nothing(client, tenant_a, tenant_b):
    notice = draft(tenant_a)
    client.force_login(tenant_b.manager)
    assert client.get(change_url(notice)).status_code in (302, 404)
    assert client.get(reverse("admin:broadcasts_notice_progress", args=[notice.pk])).status_code == 404
    assert client.post(do_url(notice, "cancel")).status_code == 404
    listing = client.get(reverse("admin:broadcasts_notice_changelist")).content.decode()
    assert notice.title_vi not in listing
    notice.refresh_from_db()
    assert notice.status == "draft"
