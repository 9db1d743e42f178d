"""Zalo-ZNS-style provider: a template message to a phone number; answers {"error": 0, "data": {"msg_id"}}."""

from __future__ import annotations

import httpx

from broadcasts.providers.base import OutboundMessage
from broadcasts.providers.http import HttpProviderAdapter, PermanentError
from broadcasts.providers.registry import register_provider
from oa_platform.provider_errors import code_error_summary


class ZnsAdapter(HttpProviderAdapter):
    kind = "zns"

    def request(self, message: OutboundMessage) -> tuple[str, dict, dict]:
        body = {
            "phone": message.phone.lstrip("+"),
            "template_id": self.config.template_id,
            "template_data": {"title": message.title, "body": message.body, "link": message.link},
            "tracking_id": message.idempotency_key,
        }
        return "/message/template", body, {"access_token": self.config.api_key} if self.config.api_key else {}

    def parse(self, response: httpx.Response) -> str:
        data = response.json()
        if data.get("error", 0) != 0:
            raise PermanentError(code_error_summary("ZNS", data.get("error"), {}))
        return str((data.get("data") or {}).get("msg_id", ""))


register_provider(ZnsAdapter.kind, ZnsAdapter)
