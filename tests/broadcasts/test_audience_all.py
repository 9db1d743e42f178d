"""audience_all ("all followers") lifts only the topic filter: language and area filters still narrow, and naming
topics as well is refused. Through the service, the live push, the API and the admin form."""

import pytest
from django.urls import reverse

from broadcasts.fanout import audience_preview
from broadcasts.live import citizen_snapshot, notice_audience, notice_for
from broadcasts.models import Delivery, Notice
from oa_platform.errors import ValidationFailed
from tests.broadcasts.conftest import approved, draft, follower

pytestmark = pytest.mark.django_db


@pytest.fixture
def followers(tenant_a, tenant_b):
    follower(tenant_b.account, topics=["health"], areas=["79"], language="zh-hans")  # another tenant
    return {
        "zh_hcm": follower(tenant_a.account, topics=["health"], areas=["79"], language="zh-hans"),
        "zh_hanoi": follower(tenant_a.account, topics=["storm-flood"], areas=["01"], language="zh-hans"),
        "vi_hcm": follower(tenant_a.account, topics=["storm-flood"], areas=["25747"], language="vi"),  # ward of 79
        "vi_hanoi": follower(tenant_a.account, topics=["health"], areas=["01"], language="vi"),
    }


def recipients(notice):
    return set(Delivery.objects.filter(notice=notice).values_list("citizen_id", flat=True))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"zh_hcm", "zh_hanoi", "vi_hcm", "vi_hanoi"}),
        ({"audience_languages": ["zh-hans"]}, {"zh_hcm", "zh_hanoi"}),
        ({"audience_areas": ["79"]}, {"zh_hcm", "vi_hcm"}),
        ({"audience_areas": ["79"], "audience_languages": ["vi"]}, {"vi_hcm"}),
    ],
)
def test_all_followers_with_language_and_area_filters(tenant_a, followers, run_dispatcher, filters, expected):
    # when a notice to all followers (every topic) names languages or areas
    notice = approved(tenant_a, audience_all=True, severity="severe", **filters)  # severe: no quiet hours
    preview = audience_preview(notice)
    run_dispatcher()
    # then those filters narrow the audience, in the preview and in the deliveries
    want = {followers[name].pk for name in expected}
    assert recipients(notice) == want and preview["total"] == len(want)
    # and in the live push each citizen's page filters the same way
    event = {
        "notice": {"id": notice.pk, "texts": {"vi": {"title": "t", "body": "b"}}},
        "audience": notice_audience(notice),
    }
    pushed = {
        citizen.pk
        for citizen in followers.values()
        if notice_for(citizen_snapshot(account_id=tenant_a.account.pk, citizen_id=citizen.pk), event) is not None
    }
    assert pushed == want


def test_all_followers_with_topics_is_refused(tenant_a):
    with pytest.raises(ValidationFailed) as err:
        draft(tenant_a, audience_all=True, audience_topics=["health"])
    assert "audience_topics" in err.value.fields
    assert not Notice.objects.exists()


def test_api_all_followers_language_filter_applies_and_topics_refused(api_client, tenant_a, followers):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    base = f"/api/v1/accounts/{tenant_a.account.slug}/notices/"
    body = {"category": "general", "title_vi": "Thông báo", "body_vi": "b", "title_zh": "通知", "body_zh": "b"}
    resp = api_client.post(base, body | {"audience_all": True, "audience_languages": ["zh-hans"]}, format="json")
    assert resp.status_code == 201, resp.json()
    preview = api_client.get(f"{base}{resp.json()['notice']['id']}/preview/").json()
    assert preview["total"] == 2 and preview["by_language"] == {"zh-hans": 2}
    resp = api_client.post(base, body | {"audience_all": True, "audience_topics": ["health"]}, format="json")
    assert resp.status_code == 400 and "audience_topics" in resp.json()["error"]["fields"]
    assert Notice.objects.count() == 1


def test_admin_form_all_followers(client, tenant_a, followers):
    client.force_login(tenant_a.broadcaster)
    form = {
        "account": tenant_a.account.pk,
        "category": "general",
        "severity": "minor",
        "title_vi": "Thông báo",
        "body_vi": "b",
        "audience_all": "on",
        "audience_areas": "",
        "mode": "live",
    }
    # naming topics with "all followers" is a form error, nothing stored
    resp = client.post(reverse("admin:broadcasts_notice_add"), form | {"audience_topics": "health"})
    assert resp.status_code == 200 and "audience_topics" in resp.context["adminform"].form.errors
    assert not Notice.objects.exists()
    # a language filter is kept and applies
    resp = client.post(reverse("admin:broadcasts_notice_add"), form | {"audience_languages": ["zh-hans"]})
    assert resp.status_code == 302
    notice = Notice.objects.get()
    assert notice.audience_all and notice.audience_languages == ["zh-hans"]
    assert audience_preview(notice)["by_language"] == {"zh-hans": 2}
