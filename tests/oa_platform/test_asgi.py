"""The production path: the chat API through a real ASGI server, and a middleware chain that stays async."""

import json

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


# PostgreSQL only: the SQLite test database is in memory with a shared cache, where two connections writing at
# once get "database table is locked" at once instead of waiting (the file database waits, WAL + busy timeout).
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_chat_requests_run_side_by_side_under_the_asgi_server(asgi_server, tenant_a, monkeypatch):  # noqa: F811
    # given: a chat engine that lets a message through only once two requests are inside it at the same time
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from oa_platform import api

    barrier = threading.Barrier(2, timeout=5)
    real_chat_receive = api.chat_receive

    def chat_receive_in_step(**kwargs):
        barrier.wait()  # raises BrokenBarrierError (a 500) when the requests are served one after the other
        return real_chat_receive(**kwargs)

    monkeypatch.setattr(api, "chat_receive", chat_receive_in_step)
    url = f"{asgi_server}/api/v1/accounts/{tenant_a.account.slug}/messages/"

    def send(citizen_id):
        body = {"citizen_id": citizen_id, "text": "xin chào"}
        return httpx.post(url, json=body, headers={"Authorization": f"Token {tenant_a.token}"}, timeout=15)

    # when: two citizens write at once
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(send, ["side-1", "side-2"]))
    # then: both were answered, neither queued behind the other
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    assert Message.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_chunked_bodies_are_read_and_capped_by_the_asgi_server(asgi_server, tenant_a):  # noqa: F811
    faq_entry_create(account=tenant_a.account, key="ho-chieu", question="Làm hộ chiếu ở đâu?", answer="Tại phòng XNC.")
    url = f"{asgi_server}/api/v1/accounts/{tenant_a.account.slug}/messages/"
    headers = {"Authorization": f"Token {tenant_a.token}", "Content-Type": "application/json"}

    def chunked(body: bytes, size: int = 64 * 1024):  # a generator: httpx sends it without Content-Length
        for start in range(0, len(body), size):
            yield body[start : start + size]

    body = json.dumps({"citizen_id": "chunked-1", "text": "làm hộ chiếu ở đâu"}).encode()
    answered = httpx.post(url, content=chunked(body, 16), headers=headers, timeout=10)
    assert answered.status_code == 200, answered.text
    assert answered.json()["reply"]["faq"] == "ho-chieu"
    oversize = b'{"citizen_id": "chunked-2", "text": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    refused = httpx.post(url, content=chunked(oversize), headers=headers, timeout=10)
    assert refused.status_code == 413 and refused.json()["error"]["code"] == "too_large"
    assert not Message.objects.filter(conversation__citizen__external_id="chunked-2").exists()
