"""The ASGI body cap in front of Django: 413 before anything is spooled; chunked bodies get a length."""

from __future__ import annotations

import json

import pytest

from oa_platform.body_limit import RequestBodyLimit

LIMIT = 1000


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    settings.MAX_UPLOAD_BYTES = 5 * LIMIT


class Recorder:
    """The wrapped app: reads the whole body the way Django does and answers 200."""

    def __init__(self):
        self.scope = self.body = None

    async def __call__(self, scope, receive, send):
        self.scope, self.body = scope, b""
        while True:
            message = await receive()
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(chunks, *, headers=(), scope_type="http"):
    app, sent, messages = (
        Recorder(),
        [],
        [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)],
    )
    read = []

    async def receive():
        message = messages.pop(0) if messages else {"type": "http.disconnect"}
        read.append(message)
        return message

    async def send(message):
        sent.append(message)

    scope = {"type": scope_type, "method": "POST", "path": "/", "headers": list(headers)}
    await RequestBodyLimit(app)(scope, receive, send)
    return app, sent, read


def status_of(sent):
    return sent[0]["status"]


async def test_a_declared_length_over_the_limit_is_refused_unread():
    app, sent, read = await call([b"x" * 10], headers=[(b"content-length", str(LIMIT + 1).encode())])
    assert status_of(sent) == 413 and app.scope is None and read == []
    assert json.loads(sent[1]["body"])["error"]["code"] == "too_large"


async def test_a_declared_length_within_the_limit_passes_untouched():
    headers = [(b"content-length", b"5"), (b"content-type", b"application/json")]
    app, sent, _read = await call([b"hello"], headers=headers)
    assert status_of(sent) == 200 and app.body == b"hello" and app.scope["headers"] == headers


async def test_a_chunked_body_over_the_limit_is_refused_while_it_arrives():
    chunk = b"y" * (LIMIT // 2)
    app, sent, read = await call([chunk, chunk, chunk, chunk])
    assert status_of(sent) == 413 and app.scope is None
    assert len(read) == 3  # stopped at the chunk that passed the limit


async def test_a_chunked_body_within_the_limit_is_handed_on_with_its_length():
    app, sent, _read = await call([b'{"a": ', b"1}"])
    assert status_of(sent) == 200 and app.body == b'{"a": 1}'
    assert (b"content-length", b"8") in app.scope["headers"]


async def test_multipart_uploads_get_the_larger_limit():
    headers = [(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", str(3 * LIMIT).encode())]
    app, sent, _read = await call([b"z" * (3 * LIMIT)], headers=headers)
    assert status_of(sent) == 200 and len(app.body) == 3 * LIMIT
    headers[1] = (b"content-length", str(6 * LIMIT).encode())
    _app, sent, _read = await call([b"z"], headers=headers)
    assert status_of(sent) == 413


async def test_other_protocols_pass_through():
    app, sent, _read = await call([b"x" * (2 * LIMIT)], scope_type="websocket")
    assert status_of(sent) == 200 and app.scope["type"] == "websocket"
