"""The production path: the chat API through a real ASGI server, and a middleware chain that stays async."""

import httpx
import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from faq.services import faq_entry_create
from oa_platform.models import Message
from tests.browser.conftest import asgi_server  # noqa: F401 - the fixture


def test_every_middleware_runs_in_async_mode():
    """One sync-only middleware would put every request of a process on one thread under ASGI."""
    for path in settings.MIDDLEWARE:
        assert getattr(import_string(path), "async_capable", False), path


@pytest.mark.django_db(transaction=True)
def test_chat_api_answers_through_the_asgi_server(asgi_server, tenant_a):  # noqa: F811
    faq_entry_create(
        account=tenant_a.account,
        key="ho-chieu",
        question="Làm hộ chiếu ở đâu?",
        answer="Nộp hồ sơ hộ chiếu tại Phòng Quản lý xuất nhập cảnh.",
    )
    url = f"{asgi_server}/api/v1/accounts/{tenant_a.account.slug}/messages/"

    response = httpx.post(
        url,
        json={"citizen_id": "asgi-1", "text": "làm hộ chiếu ở đâu"},
        headers={"Authorization": f"Token {tenant_a.token}"},
        timeout=10,
    )

    assert response.status_code == 200, response.text
    assert response.json()["reply"]["faq"] == "ho-chieu"
    assert Message.objects.filter(conversation__citizen__external_id="asgi-1").count() == 2
    headers = {"Authorization": f"Token {tenant_a.token}", "Content-Type": "application/json"}
    refused = httpx.post(url, content=b"{nope", headers=headers, timeout=10)
    assert refused.status_code == 400
