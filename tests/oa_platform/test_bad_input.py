"""Regression tests for inputs found by fuzzing (schemathesis + hand fuzzing): each once gave a 500.

House rule: bad input gets a clear 4xx JSON error and leaves nothing half-stored.
"""

from __future__ import annotations

import pytest

from oa_platform.models import Citizen, Conversation, Follow, Message
from tests.oa_platform import web_support
from tests.oa_platform.web_support import citizen_client

faq_account = web_support.faq_account

pytestmark = pytest.mark.django_db


def counts():
    return Citizen.objects.count(), Conversation.objects.count(), Message.objects.count(), Follow.objects.count()


def post_raw(client, url, raw: bytes):
    return client.post(url, data=raw, content_type="application/json")


# JSON lets a string escape a lone surrogate; Python decodes it, but no database can store it.
LONE_SURROGATES = [
    b'{"text": "\\ud800"}',
    b'{"text": "hi \\udc00\\ud800 there"}',
]


@pytest.mark.parametrize("raw", LONE_SURROGATES)
def test_message_with_lone_surrogate_is_400_and_stores_nothing(faq_account, raw):
    client, _ = citizen_client()
    before = counts()
    response = post_raw(client, f"/oa/{faq_account.slug}/messages/", raw)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert counts() == before


@pytest.mark.parametrize(
    "endpoint, raw",
    [
        ("subscriptions", b'{"topics": ["\\ud800"]}'),
        ("profile", b'{"phone": "\\ud800"}'),
        ("profile", b'{"\\ud800": "x", "language": "en"}'),
        ("feedback", b'{"message_id": 1, "helpful": true, "x": "\\udfff"}'),
    ],
)
def test_other_json_endpoints_refuse_lone_surrogates(faq_account, endpoint, raw):
    client, _ = citizen_client()
    before = counts()
    response = post_raw(client, f"/oa/{faq_account.slug}/{endpoint}/", raw)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert counts() == before


def test_clean_text_refuses_lone_surrogate():
    """Every channel (WebSocket, webhooks, staff replies) validates text through clean_text."""
    from oa_platform.conversations.engine import clean_text
    from oa_platform.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        clean_text("abc\ud800")
    assert info.value.status == 400
    assert clean_text("  ok \u202e ") == "ok \u202e"


@pytest.mark.parametrize("after", ["²", "١٢", "１２", "߁"])
def test_unicode_digits_in_after_are_400(faq_account, after):
    client, _ = citizen_client()
    for url in ("history", "inbox"):
        response = client.get(f"/oa/{faq_account.slug}/{url}/", {"after": after})
        assert response.status_code == 400, url
        assert response.json()["error"]["fields"] == {"after": after}


# --- admin ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("selected", ["abc", "99999999999999999999999", "1.5", "²"])
def test_admin_action_with_tampered_ids_is_400_and_changes_nothing(client, tenant_a, selected):
    from faq.models import FaqEntry
    from tests.faq.conftest import add_faqs

    add_faqs(tenant_a.account, [("k1", "Làm hộ chiếu ở đâu?", "Ở phòng xuất nhập cảnh.", [])])
    client.force_login(tenant_a.manager)
    before = FaqEntry.objects.count()
    response = client.post(
        "/admin/faq/faqentry/",
        {"action": "delete_selected", "_selected_action": [selected], "index": "0", "post": "yes"},
    )
    assert response.status_code == 400
    assert FaqEntry.objects.count() == before


def test_admin_action_with_real_ids_still_runs(client, tenant_a):
    from faq.models import FaqEntry
    from tests.faq.conftest import add_faqs

    add_faqs(tenant_a.account, [("k1", "Làm hộ chiếu ở đâu?", "Ở phòng xuất nhập cảnh.", [])])
    entry = FaqEntry.objects.get(account=tenant_a.account, key="k1")
    client.force_login(tenant_a.manager)
    response = client.post(
        "/admin/faq/faqentry/",
        {"action": "delete_selected", "_selected_action": [str(entry.pk)], "index": "0", "post": "yes"},
    )
    assert response.status_code == 302
    assert not FaqEntry.objects.filter(pk=entry.pk).exists()


def test_admin_notice_change_with_unicode_digit_id_is_not_a_500(client, tenant_a):
    client.force_login(tenant_a.manager)
    response = client.get("/admin/broadcasts/notice/²/change/")
    # Django's own handling of an unknown id: back to the list with a message
    assert response.status_code == 302


def test_faq_import_of_deeply_nested_json_is_400_and_imports_nothing(client, tenant_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from faq.models import FaqEntry

    client.force_login(tenant_a.manager)
    before = FaqEntry.objects.count()
    upload = SimpleUploadedFile("faq.json", b"[" * 100_000 + b"]" * 100_000, content_type="application/json")
    response = client.post(f"/admin/faq/faqentry/{tenant_a.account.slug}/import/", {"file": upload})
    assert response.status_code == 400
    assert FaqEntry.objects.count() == before


# --- deeply nested JSON: json.loads raises RecursionError, not ValueError ------------------------------------------
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("endpoint", ["messages", "profile", "subscriptions", "feedback"])
def test_deeply_nested_json_is_400_on_the_citizen_page(faq_account, endpoint):
    client, _ = citizen_client()
    before = counts()
    response = post_raw(client, f"/oa/{faq_account.slug}/{endpoint}/", DEEP)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert counts() == before


@pytest.mark.parametrize("path", ["messages/", "notices/"])
def test_deeply_nested_json_is_400_on_the_api(api_client, tenant_a, path):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    before = counts()
    response = api_client.post(
        f"/api/v1/accounts/{tenant_a.account.slug}/{path}", data=DEEP, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert counts() == before


def test_areas_parent_with_nul_is_400(faq_account):
    client, _ = citizen_client()
    response = client.get(f"/oa/{faq_account.slug}/areas/", {"parent": "79\x00"})
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("frame", ["[" * 5000, '{"type": "message", "text": "\\ud800"}'])
async def test_websocket_bad_frame_gets_an_error_frame_and_the_socket_stays_open(faq_account, frame):
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from oa_platform import web_identity
    from oa_platform.asgi import application
    from tests.oa_platform.web_support import cookie_header

    headers = [(b"origin", b"http://testserver"), (b"cookie", cookie_header(web_identity.new_cid()))]
    comm = WebsocketCommunicator(application, f"/ws/oa/{faq_account.slug}/", headers=headers)
    ok, _ = await comm.connect(timeout=5)
    assert ok
    before = await database_sync_to_async(counts)()
    await comm.send_to(text_data=frame)
    answer = await comm.receive_json_from(timeout=5)
    assert answer["type"] == "error" and answer["code"] in ("malformed_json", "invalid")
    # still usable afterwards
    await comm.send_json_to({"type": "sync"})
    assert (await comm.receive_json_from(timeout=5))["type"] == "messages"
    assert await database_sync_to_async(counts)() == before
    await comm.disconnect()


# One byte over Django's request body limit (DATA_UPLOAD_MAX_MEMORY_SIZE): refused before any view reads it.
def oversize_body(settings) -> bytes:
    return b'{"citizen_id": "c", "text": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'


def test_a_body_over_the_limit_is_a_json_413_on_the_api(api_client, tenant_a, settings):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    before = counts()
    response = api_client.post(
        f"/api/v1/accounts/{tenant_a.account.slug}/messages/",
        data=oversize_body(settings),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert counts() == before


def test_a_body_over_the_limit_is_a_json_413_on_the_page(faq_account, settings):
    client, _ = citizen_client()
    before = counts()
    response = post_raw(client, f"/oa/{faq_account.slug}/messages/", oversize_body(settings))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert counts() == before


def test_a_browser_form_over_the_limit_gets_the_styled_413_page(client, settings):
    response = client.post(
        "/admin/login/", data={"username": "a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 413
    # the site's error page (templates/400.html) saying the limit, not a bare text answer
    assert response["Content-Type"].startswith("text/html") and b"MB" in response.content
    assert b"oa/oa.css" in response.content


@pytest.mark.parametrize(
    "path",
    ["/api/v1/accounts/{slug}/notices/-5/", "/api/v1/accounts/{slug}/notices/-5/approve/", "/api/v1/nothing/"],
)
def test_an_api_address_no_route_matches_is_a_json_404(api_client, tenant_a, path):
    # found by schemathesis: the schema types a notice id as an integer, and -5 gave Django's HTML page
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    response = api_client.get(path.format(slug=tenant_a.account.slug))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_a_page_address_no_route_matches_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
