"""A real HTTP server on 127.0.0.1 that plays the Zalo OA and WeChat send APIs and a generic callback URL.

It checks the access token like the providers do and answers in their shapes; tests inject failures
(HTTP 5xx, a response slower than the client's timeout, an expired token) for the next N requests.

    with FakeMessagingApi(zalo_token="zt", wechat_token="wt") as api:
        config.api_base = api.url
        api.fail_next(2, "500")
        ...
        api.sent  # successful sends: [{"channel": "zalo", "to": "...", "text": "..."}]
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FAULTS = ("500", "503", "timeout", "expired")


class FakeMessagingApi:
    def __init__(
        self,
        *,
        zalo_token: str = "zalo-token",
        wechat_token: str = "wechat-token",
        wechat_app_id: str = "wx5823bf96d3bd56c7",
        wechat_app_secret: str = "wechat-app-secret",
        zalo_app_secret: str = "zalo-app-secret",
        zalo_refresh_token: str = "zalo-refresh-1",
        slow_seconds=1.5,
    ):
        self.zalo_app_secret = zalo_app_secret
        self.zalo_refresh_token = zalo_refresh_token  # single use, like Zalo's: each renewal issues a new one
        self.zalo_renewals = 0
        self.zalo_token = zalo_token
        self.wechat_token = wechat_token  # the current token; /cgi-bin/stable_token hands it out for the AppSecret
        self.wechat_app_id = wechat_app_id
        self.wechat_app_secret = wechat_app_secret
        self.slow_seconds = slow_seconds  # how long a "timeout" fault stalls: longer than the client's timeout
        self.requests: list[dict] = []  # every request, as received
        self.sent: list[dict] = []  # accepted sends
        self._faults: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, count: int, fault: str) -> None:
        assert fault in FAULTS, fault
        with self._lock:
            self._faults.extend([fault] * count)

    def _take_fault(self) -> str | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                record = {"path": parts.path, "query": query, "headers": dict(self.headers), "raw": raw, "json": body}
                with api._lock:
                    api.requests.append(record)
                fault = api._take_fault()
                if fault in ("500", "503"):
                    return self._reply(int(fault), {"error": "injected"})
                if fault == "timeout":
                    time.sleep(api.slow_seconds)
                    return self._reply(200, {"error": 0, "errcode": 0})
                if parts.path == "/v3.0/oa/message/cs":
                    return self._zalo(body, fault)
                if parts.path == "/v4/oa/access_token":
                    return self._zalo_token(raw)
                if parts.path == "/cgi-bin/stable_token":
                    return self._wechat_token(body)
                if parts.path == "/cgi-bin/message/custom/send":
                    return self._wechat(body, query, fault)
                if parts.path.startswith("/callback"):
                    with api._lock:
                        api.sent.append(
                            {
                                "channel": "generic",
                                "to": (body or {}).get("citizen_id"),
                                "text": (body or {}).get("text"),
                                "record": record,
                            }
                        )
                    return self._reply(200, {"ok": True})
                return self._reply(404, {"error": "unknown path"})

            def _zalo(self, body, fault):
                if fault == "expired" or self.headers.get("access_token") != api.zalo_token:
                    return self._reply(200, {"error": -216, "message": "Access token is invalid"})
                try:
                    to, text = body["recipient"]["user_id"], body["message"]["text"]
                except (KeyError, TypeError):
                    return self._reply(200, {"error": -201, "message": "Parameters are invalid"})
                with api._lock:
                    api.sent.append({"channel": "zalo", "to": to, "text": text})
                    n = len(api.sent)
                return self._reply(
                    200, {"error": 0, "message": "Success", "data": {"message_id": f"z{n}", "user_id": to}}
                )

            def _zalo_token(self, raw):
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                with api._lock:
                    if self.headers.get("secret_key") != api.zalo_app_secret:
                        return self._reply(200, {"error": -14014, "error_name": "Invalid secret key"})
                    if form.get("refresh_token") != api.zalo_refresh_token or form.get("grant_type") != "refresh_token":
                        return self._reply(200, {"error": -14020, "error_name": "Invalid refresh token"})
                    api.zalo_renewals += 1
                    api.zalo_token = f"zalo-token-r{api.zalo_renewals}"
                    api.zalo_refresh_token = f"zalo-refresh-r{api.zalo_renewals + 1}"
                    body = {
                        "access_token": api.zalo_token,
                        "refresh_token": api.zalo_refresh_token,
                        "expires_in": "90000",
                    }
                return self._reply(200, body)

            def _wechat_token(self, body):
                body = body or {}
                if (body.get("appid"), body.get("secret")) != (api.wechat_app_id, api.wechat_app_secret):
                    return self._reply(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
                return self._reply(200, {"access_token": api.wechat_token, "expires_in": 7200})

            def _wechat(self, body, query, fault):
                if fault == "expired":
                    return self._reply(200, {"errcode": 42001, "errmsg": "access_token expired"})
                if query.get("access_token") != api.wechat_token:
                    return self._reply(200, {"errcode": 40001, "errmsg": "invalid credential"})
                try:
                    to, text = body["touser"], body["text"]["content"]
                except (KeyError, TypeError):
                    return self._reply(200, {"errcode": 44002, "errmsg": "empty post data"})
                with api._lock:
                    api.sent.append({"channel": "wechat", "to": to, "text": text})
                return self._reply(200, {"errcode": 0, "errmsg": "ok"})

        return Handler
