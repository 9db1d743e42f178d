"""SMS-gateway-style provider: POST {to, text} with a bearer key; answers {"message_id"}."""

from __future__ import annotations

from broadcasts.providers.base import OutboundMessage
from broadcasts.providers.http import HttpProviderAdapter
from broadcasts.providers.registry import register_provider

# One SMS segment-friendly size: long notices are cut and point to the link / chat page.
SMS_MAX = 320


class SmsAdapter(HttpProviderAdapter):
    kind = "sms"

    def request(self, message: OutboundMessage) -> tuple[str, dict, dict]:
        text = f"{message.title}: {message.body}"
        if len(text) > SMS_MAX:
            text = text[: SMS_MAX - 1] + "…"
        body = {"to": message.phone, "text": text, "reference": message.idempotency_key}
        return "/sms/send", body, self.auth_headers()


register_provider(SmsAdapter.kind, SmsAdapter)
