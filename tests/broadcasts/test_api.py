import datetime as dt

import pytest
from django.utils import timezone

from broadcasts.models import Notice
from tests import factories
from tests.broadcasts.conftest import follower

BASE = "/api/v1/accounts/{slug}/notices/"


def auth(client, token):
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def create(client, tenant, **extra):
    body = {"category": "storm-flood", "severity": "severe", "title_vi": "Bão", "body_vi": "Bão số 3"} | extra
    return auth(client, tenant.token).post(BASE.format(slug=tenant.account.slug), body, format="json")


def test_create_submit_approve_by_other_token_and_progress(api_client, tenant_a, run_dispatcher):
    follower(tenant_a.account)
    resp = create(api_client, tenant_a)
    assert resp.status_code == 201, resp.json()
    nid = resp.json()["notice"]["id"]
    url = BASE.format(slug=tenant_a.account.slug) + f"{nid}/"
    assert api_client.post(url + "submit/", {}, format="json").json()["notice"]["status"] == "pending_approval"
    preview = api_client.get(url + "preview/").json()
    assert preview == {"total": 1, "by_channel": {"inapp": 1}, "by_language": {"vi": 1}}
    # the creating token cannot approve its own notice
    resp = api_client.post(url + "approve/")
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "same_person"
    approver = factories.make_token(tenant_a.account, scopes=["broadcasts:approve", "read"], name="approver")
    resp = auth(api_client, approver).post(url + "approve/")
    assert resp.status_code == 200 and resp.json()["notice"]["status"] == "scheduled"
    run_dispatcher()
    detail = api_client.get(url).json()
    assert detail["notice"]["status"] == "sent"
    assert detail["progress"]["by_channel"] == {"inapp": {"sent": 1}} and detail["progress"]["percent"] == 100.0


def test_scopes_enforced(api_client, tenant_a):
    reader = factories.make_token(tenant_a.account, scopes=["read"], name="reader")
    resp = auth(api_client, reader).post(BASE.format(slug=tenant_a.account.slug), {}, format="json")
    assert resp.status_code == 403
    assert api_client.get(BASE.format(slug=tenant_a.account.slug)).status_code == 200
    writer = factories.make_token(tenant_a.account, scopes=["broadcasts:write"], name="writer")
    nid = create(api_client, tenant_a).json()["notice"]["id"]
    auth(api_client, writer).post(BASE.format(slug=tenant_a.account.slug) + f"{nid}/submit/", {}, format="json")
    resp = api_client.post(BASE.format(slug=tenant_a.account.slug) + f"{nid}/approve/")
    assert resp.status_code == 403


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"category": "nope"}, "category"),
        ({"audience_topics": ["nope"]}, "audience_topics"),
        ({"audience_areas": ["0000000"]}, "audience_areas"),
        ({"body_vi": ""}, "body_vi"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"send_at": "2030-01-02T10:00:00+07:00", "expires_at": "2030-01-02T09:00:00+07:00"}, "expires_at"),
        ({"send_at": "not a date"}, "send_at"),
    ],
)
def test_bad_input_is_400_and_nothing_stored(api_client, tenant_a, extra, field):
    resp = create(api_client, tenant_a, **extra)
    assert resp.status_code == 400
    assert field in resp.json()["error"].get("fields", {})
    assert Notice.objects.count() == 0


def test_send_at_in_past_says_so(api_client, tenant_a):
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    resp = create(api_client, tenant_a, send_at=past)
    assert resp.status_code == 201
    assert resp.json()["notice"]["send_at"] is None and resp.json()["notes"]


def test_wrong_status_is_409(api_client, tenant_a):
    nid = create(api_client, tenant_a).json()["notice"]["id"]
    resp = api_client.post(
        BASE.format(slug=tenant_a.account.slug) + f"{nid}/follow-up/", {"kind": "cancel"}, format="json"
    )
    assert resp.status_code == 409


def test_tenant_isolation_every_route(api_client, tenant_a, tenant_b):
    nid = create(api_client, tenant_a).json()["notice"]["id"]
    a_base = BASE.format(slug=tenant_a.account.slug)
    b_base = BASE.format(slug=tenant_b.account.slug)
    auth(api_client, tenant_b.token)
    # B's token on A's URLs: refused
    for method, suffix in [
        ("get", ""),
        ("post", ""),
        ("get", f"{nid}/"),
        ("post", f"{nid}/submit/"),
        ("post", f"{nid}/approve/"),
        ("post", f"{nid}/cancel/"),
        ("post", f"{nid}/follow-up/"),
        ("get", f"{nid}/preview/"),
        ("get", f"{nid}/progress/"),
        ("get", f"{nid}/cap/"),
        ("post", "cap/"),
    ]:
        assert getattr(api_client, method)(a_base + suffix).status_code == 403, suffix
    # A's notice id on B's URLs: not found
    for method, suffix in [
        ("get", f"{nid}/"),
        ("post", f"{nid}/submit/"),
        ("post", f"{nid}/approve/"),
        ("post", f"{nid}/cancel/"),
        ("get", f"{nid}/preview/"),
        ("get", f"{nid}/progress/"),
        ("get", f"{nid}/cap/"),
    ]:
        assert getattr(api_client, method)(b_base + suffix).status_code == 404, suffix
    assert api_client.get(b_base).json() == []
    assert Notice.objects.get(pk=nid).status == "draft"


def test_schema_lists_notice_routes(client):
    resp = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    assert "/api/v1/accounts/{slug}/notices/{id}/approve/" in paths
    assert "NoticeIn" in resp.json()["components"]["schemas"]
