import datetime as dt

from django.utils import timezone

from broadcasts.models import Notice
from broadcasts.services import Actor, notice_follow_up_create
from tests.broadcasts.conftest import approved

BASE = "/api/v1/accounts/{slug}/notices/"

CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>NCHMF-2026-001</identifier><sender>nchmf@gov.vn</sender><sent>2026-07-01T10:00:00+07:00</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info>
    <language>vi-VN</language><category>Met</category><event>Bão</event><urgency>Immediate</urgency>
    <severity>Severe</severity><certainty>Observed</certainty><expires>{expires}</expires>
    <headline>Bão số 3 đổ bộ</headline><description>Gió mạnh cấp 12.</description>
    <instruction>Ở trong nhà.</instruction>
    <area><areaDesc>TP HCM</areaDesc><geocode><valueName>VN_AREA</valueName><value>79</value></geocode></area>
    <area><areaDesc>Thành phố Hà Nội</areaDesc></area>
  </info>
  <info><language>en-US</language><category>Met</category><event>Storm</event><urgency>Immediate</urgency>
    <severity>Severe</severity><certainty>Observed</certainty><headline>Storm No. 3</headline>
    <description>Strong winds.</description></info>
</alert>"""


def post_cap(client, tenant, body: bytes, content_type="application/xml"):
    client.credentials(HTTP_AUTHORIZATION=f"Token {tenant.token}")
    return client.post(BASE.format(slug=tenant.account.slug) + "cap/", data=body, content_type=content_type)


def future(hours=6):
    return (timezone.now() + dt.timedelta(hours=hours)).replace(microsecond=0).isoformat()


def test_cap_import_maps_info_area_severity_expiry(api_client, tenant_a):
    resp = post_cap(api_client, tenant_a, CAP.format(expires=future()).encode())
    assert resp.status_code == 201, resp.json()
    notice = Notice.objects.get(pk=resp.json()["notice"]["id"])
    assert notice.status == "draft" and notice.severity == "severe" and notice.category == "storm-flood"
    assert notice.title_vi == "Bão số 3 đổ bộ" and notice.body_vi == "Gió mạnh cấp 12.\n\nỞ trong nhà."
    assert notice.title_en == "Storm No. 3"
    assert notice.audience_areas == ["79", "01"]
    assert notice.expires_at is not None


def test_cap_round_trip_with_references(api_client, tenant_a, run_dispatcher):
    original = approved(
        tenant_a,
        severity="extreme",
        audience_areas=["79"],
        title_en="Storm",
        body_en="Winds",
        expires_at=timezone.now() + dt.timedelta(hours=3),
    )
    run_dispatcher()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    xml = api_client.get(BASE.format(slug=tenant_a.account.slug) + f"{original.pk}/cap/").content
    assert b"<msgType>Alert</msgType>" in xml and b"<severity>Extreme</severity>" in xml
    # import the export: the same notice fields come back
    back = Notice.objects.get(pk=post_cap(api_client, tenant_a, xml).json()["notice"]["id"])
    for field in ("severity", "category", "title_vi", "body_vi", "title_en", "body_en", "audience_areas"):
        assert getattr(back, field) == getattr(original, field), field
    assert back.expires_at == original.expires_at.replace(microsecond=0)
    # a cancellation exports <references> to the original and imports back as its follow-up
    cancel = notice_follow_up_create(notice=original, kind="cancel", actor=Actor(user=tenant_a.broadcaster)).notice
    xml = api_client.get(BASE.format(slug=tenant_a.account.slug) + f"{cancel.pk}/cap/").content
    assert b"<msgType>Cancel</msgType>" in xml
    assert f"{original.cap_identifier},".encode() in xml and b"<references>" in xml
    imported = Notice.objects.get(pk=post_cap(api_client, tenant_a, xml).json()["notice"]["id"])
    assert imported.kind == "cancel" and imported.references_id == original.pk


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""


def test_bad_cap_is_400_and_nothing_stored(api_client, tenant_a):
    bad = [
        BOMB,
        b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</identifier>",  # malformed
        b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</identifier></alert>",  # incomplete
        b"<other/>",
        b"",
        b"<a>" + b"x" * (300 * 1024) + b"</a>",  # oversize
        CAP.format(expires=future())
        .replace("TP HCM</areaDesc><geocode>", "Atlantis</areaDesc><geo>")
        .replace("</geocode></area>\n    <area>", "</geo></area>\n    <area>")
        .encode(),  # unknown area name
        CAP.format(expires="2020-01-01T00:00:00+07:00").encode(),  # already expired
        CAP.format(expires="yesterday").encode(),
    ]
    for body in bad:
        resp = post_cap(api_client, tenant_a, body)
        assert resp.status_code == 400, (resp.status_code, body[:80])
        assert "error" in resp.json()
    assert Notice.objects.count() == 0
