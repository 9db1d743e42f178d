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
    from oa_platform.chat import clean_text
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
