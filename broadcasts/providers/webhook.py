"""Generic webhook provider: the notice as JSON, signed with HMAC-SHA256 of the body (X-Signature)."""

from __future__ import annotations

import hashlib
import hmac
import json

from broadcasts.providers.base import OutboundMessage
from broadcasts.providers.http import HttpProviderAdapter
from broadcasts.providers.registry import register_provider


class WebhookAdapter(HttpProviderAdapter):
    kind = "webhook"

    def request(self, message: OutboundMessage) -> tuple[str, bytes, dict]:
        body = {
            "event": "notice",
            "idempotency_key": message.idempotency_key,
            "citizen": {"external_id": message.external_id, "language": message.language},
            "notice": {
                "id": message.notice_id,
                "kind": message.kind,
                "severity": message.severity,
                "title": message.title,
                "body": message.body,
                "link": message.link,
            },
        }
        raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        signature = hmac.new(self.config.secret.encode(), raw, hashlib.sha256).hexdigest()
        return (
            "",
            raw,
            {
                "Content-Type": "application/json",
                "X-Signature": f"sha256={signature}",
                **self.auth_headers(),
            },
        )


register_provider(WebhookAdapter.kind, WebhookAdapter)
