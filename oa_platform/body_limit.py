"""ASGI middleware in front of Django: a request body over the limit gets a 413 before Django spools it.

Django under ASGI writes every body to a temporary file, whatever its size, and checks
DATA_UPLOAD_MAX_MEMORY_SIZE only against a declared Content-Length, when a view reads the body. Here a
declared length over the limit is refused without reading anything, and a body sent without one (chunked) is
read, counted and refused as soon as it passes the limit; when it fits, it is handed on with its
Content-Length set (DRF reads no body from a request without one). Multipart uploads (the admin's FAQ import)
get MAX_UPLOAD_BYTES; everything else DATA_UPLOAD_MAX_MEMORY_SIZE.
"""

from __future__ import annotations

import json

from django.conf import settings


def body_limit(headers) -> int:
    for name, value in headers:
        if name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
            return settings.MAX_UPLOAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def declared_length(headers) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send, limit: int) -> None:
    message = f"The request is larger than {limit // (1024 * 1024)} MB."
    body = json.dumps({"error": {"code": "too_large", "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope["headers"])
        declared = declared_length(scope["headers"])
        if declared is not None:
            if declared > limit:
                return await _too_large(send, limit)
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return await _too_large(send, limit)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            headers = [(n, v) for n, v in scope["headers"] if n != b"content-length"]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay():
            return pending.pop() if pending else await receive()

        return await self.app(scope, replay, send)
