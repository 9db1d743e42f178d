"""A provider's error body is never stored (and so never shown to staff) verbatim: only the status or the
provider's numeric code and a reason from a fixed set."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oa_platform import channel_types as ct
from oa_platform.models import ChannelConfig
from oa_platform.provider_errors import http_error_summary

SECRET = "sk_live_51HxSECRETkey"
HTML_BODY = f"<html><body><h1>Error</h1><script>alert(document.cookie)</script>api_key={SECRET}</body></html>"
JSON_BODY = json.dumps({"message": f"<img src=x onerror=alert(1)> bad token {SECRET}", "error": SECRET})


class ScriptedServer:
    """Answers every POST with the given status, content type and body."""

    def __init__(self, status: int, body: str, content_type: str = "text/html"):
        answer = (status, body.encode(), content_type)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(answer[0])
                self.send_header("Content-Type", answer[2])
                self.send_header("Content-Length", str(len(answer[1])))
                self.end_headers()
                self.wfile.write(answer[1])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(status, body, content_type="text/html"):
        servers.append(ScriptedServer(status, body, content_type))
        return servers[-1].url

    yield start
    for server in servers:
        server.close()


def assert_clean(error: str) -> None:
    assert SECRET not in error and "<" not in error and "alert" not in error, error


def _send(config):
    recipient = ct.Recipient(external_id="c1", phone="+84912345678")
    return ct.type_for(config.kind).send(config, recipient, ct.Message("b", title="t", idempotency_key="k1"))


def _provider(tenant, url, kind="sms"):
    return ChannelConfig.objects.create(
        account=tenant.account, kind=kind, api_base=url, max_attempts=2, backoff_s=0, access_token="k"
    )


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (400, HTML_BODY, "text/html", "HTTP 400: request refused"),
        (403, JSON_BODY, "application/json", "HTTP 403: credentials refused"),
        (500, HTML_BODY, "text/html", "gave up after 2 attempts: HTTP 500: provider error"),
    ],
)
def test_sms_provider_error_is_summarised(tenant_a, serve, status, body, content_type, expected):
    url = serve(status, body, content_type)
    result = _send(_provider(tenant_a, url))
    assert result.status == "failed"
    assert result.error == expected
    assert_clean(result.error)


def test_zns_error_code_is_kept_its_text_is_not(tenant_a, serve):
    url = serve(200, json.dumps({"error": -999, "message": f"<b>{SECRET}</b>"}), "application/json")
    result = _send(_provider(tenant_a, url, kind="zns"))
    assert result.error == "ZNS -999: refused by the provider"


def test_zalo_wechat_and_callback_errors_are_summarised(tenant_a, serve):
    zalo = ChannelConfig(
        account=tenant_a.account,
        kind="zalo",
        access_token="t",
        api_base=serve(200, json.dumps({"error": -999, "message": f"<script>{SECRET}</script>"}), "application/json"),
    )
    result = ct.zalo.TYPE.send(zalo, ct.Recipient("u1"), ct.Message("xin chào"))
    assert (result.status, result.error) == (ct.FAILED, "Zalo -999: refused by the provider")
    known = serve(200, json.dumps({"error": -213, "message": SECRET}), "application/json")
    zalo.api_base = known
    result = ct.zalo.TYPE.send(zalo, ct.Recipient("u1"), ct.Message("x"))
    assert (result.status, result.error) == (ct.UNREACHABLE, "Zalo -213: user has not followed the account")
    wechat = ChannelConfig(
        account=tenant_a.account,
        kind="wechat",
        access_token="t",
        api_base=serve(200, json.dumps({"errcode": f"<i>{SECRET}</i>", "errmsg": SECRET}), "application/json"),
    )
    result = ct.wechat.TYPE.send(wechat, ct.Recipient("o1"), ct.Message("x"))
    assert result.status == ct.FAILED
    assert_clean(result.error)
    generic = ChannelConfig(
        account=tenant_a.account, kind="generic", secret="s", callback_url=serve(400, HTML_BODY) + "/cb"
    )
    result = ct.generic.TYPE.send(generic, ct.Recipient("c1"), ct.Message("x", reference=1, sender="bot"))
    assert (result.status, result.error) == (ct.FAILED, "HTTP 400: request refused")


def test_summaries():
    assert http_error_summary(422, "Invalid phone number") == "HTTP 422: recipient refused"
    assert http_error_summary(418, SECRET) == "HTTP 418: refused by the provider"
    assert http_error_summary(503) == "HTTP 503: provider error"
