"""Generic JSON channel, for SMS gateways or an agency's own app: inbound events and outbound posts, both
signed with the one HMAC scheme (channel_types.signing).

In: ``POST /webhooks/generic/<slug>/`` with JSON and two headers:
    X-OA-Timestamp: <Unix seconds>
    X-OA-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
Body: {"event": "message" | "follow" | "unfollow", "id": "<your message id>", "citizen_id": "...",
       "text": "...", "display_name"?: "...", "language"?: "vi|en|zh-hans", "phone"?: "..."}
Out: replies and staff messages are POSTed to the channel's callback URL, signed the same way:
    {"event": "message", "citizen_id": "...", "text": "...", "message_id": 123, "sender": "bot|staff"}
Notices (the "webhook" kind, an agency endpoint configured for notices) are POSTed to its base URL, signed the
same way:
    {"event": "notice", "idempotency_key": "...", "citizen": {"external_id", "language"},
     "notice": {"id", "kind", "severity", "title", "body", "link"}}
"""

from __future__ import annotations

import json

from oa_platform.channel_types.base import (
    FAILED,
    RETRY,
    SENT,
    ChannelType,
    InboundEvent,
    Message,
    Recipient,
    SendResult,
    SignatureInvalid,
    content_key,
    freshness_check,
    json_object,
    signing_key_check,
)
from oa_platform.channel_types.http import json_body, policy_for, post, reason
from oa_platform.channel_types.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    digest_equal,
    signature,
    signed_headers,
)
from oa_platform.errors import ValidationFailed
from oa_platform.phones import InvalidPhone, normalize_phone
from oa_platform.provider_errors import http_error_summary

EVENTS = ("message", "follow", "unfollow")


def verify(*, secret: str, body: bytes, timestamp: str | None, header: str | None) -> None:
    signing_key_check(secret)
    if not header or not timestamp:
        raise SignatureInvalid("Missing X-OA-Signature or X-OA-Timestamp.")
    given = header.strip()
    if given.lower().startswith("sha256="):
        given = given[7:]
    if not digest_equal(signature(secret=secret, timestamp=timestamp, body=body), given):
        raise SignatureInvalid("Bad signature.")
    freshness_check(timestamp)


def parse_event(body: bytes) -> InboundEvent:
    payload = json_object(body)
    kind = payload.get("event", "message")
    if kind not in EVENTS:
        raise ValidationFailed("Unknown event.", fields={"event": f"one of {', '.join(EVENTS)}"})
    citizen_id = payload.get("citizen_id")
    if not isinstance(citizen_id, str) or not citizen_id.strip() or len(citizen_id) > 128:
        raise ValidationFailed("citizen_id is required.", fields={"citizen_id": "required"})
    text = payload.get("text", "")
    if not isinstance(text, str):
        raise ValidationFailed("text must be a string.", fields={"text": "required"})
    msg_id = payload.get("id")
    if msg_id is not None and (not isinstance(msg_id, str | int) or len(str(msg_id)) > 100):
        raise ValidationFailed("id must be a short string.", fields={"id": "invalid"})
    key = f"m:{msg_id}" if msg_id not in (None, "") else content_key(kind, citizen_id, text, str(payload.get("ts", "")))
    profile = {}
    for name in ("display_name", "language", "phone"):
        value = payload.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise ValidationFailed(f"{name} must be a string.", fields={name: "invalid"})
            profile[name] = value
    if profile.get("phone"):
        try:
            profile["phone"] = normalize_phone(profile["phone"])
        except InvalidPhone as exc:
            raise ValidationFailed("Invalid phone number.", fields={"phone": str(exc)}) from exc
    citizen_id = citizen_id.strip()
    text = text or ""
    return InboundEvent(
        kind=kind,
        external_id=citizen_id,
        text=text,
        dedup_key=key,
        payload={"kind": kind, "citizen_id": citizen_id, "text": text, "profile": profile},
        profile=profile,
    )


def _stored(payload: dict) -> InboundEvent:
    return InboundEvent(
        kind=payload["kind"],
        external_id=payload["citizen_id"],
        text=payload.get("text", ""),
        dedup_key="",
        payload=payload,
        profile=payload.get("profile", {}),
    )


def _answer(response, *, provider_id: bool = False) -> SendResult:
    """Any 2xx is taken; 408 is worth another try later; any other 4xx is final."""
    if isinstance(response, SendResult):
        return response
    attempts = getattr(response, "attempts", 1)
    if 200 <= response.status_code < 300:
        data = json_body(response) if provider_id and response.content else None
        return SendResult(
            SENT, provider_id=str((data or {}).get("message_id") or (data or {}).get("id") or ""), attempts=attempts
        )
    if response.status_code == 408:
        return SendResult(RETRY, http_error_summary(408), attempts=attempts, retry_after=30.0)
    return SendResult(FAILED, reason(response), attempts=attempts)


class GenericType(ChannelType):
    """The agency's own endpoint: chat in and out (``generic``)."""

    kind = "generic"
    label = "generic"
    max_length = 4000
    max_tps = 20.0
    config_fields = ("secret", "callback_url")
    signing_field = "secret"

    def receive(self, request, config, body: bytes) -> InboundEvent:
        verify(
            secret=config.secret,
            body=body,
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            header=request.headers.get(SIGNATURE_HEADER),
        )
        return parse_event(body)

    def parse_stored(self, payload: dict) -> InboundEvent:
        return _stored(payload)

    def stored_citizen_id(self, payload: dict) -> str | None:
        value = payload.get("citizen_id")
        return value if isinstance(value, str) else None

    def without_text(self, payload: dict) -> dict:
        return {k: v for k, v in payload.items() if k != "text"}

    def send(self, config, recipient: Recipient, message: Message, *, once: bool = True) -> SendResult:
        if not config.callback_url:
            return SendResult(FAILED, "no callback URL configured")
        body = json.dumps(
            {
                "event": "message",
                "citizen_id": recipient.external_id,
                "text": self.render(message),
                "message_id": message.reference,
                "sender": message.sender,
            },
            ensure_ascii=False,
        ).encode()
        headers = signed_headers(secret=config.secret, body=body)
        return _answer(
            post(config.callback_url, policy=policy_for(config, self, once=once), headers=headers, content=body)
        )


class WebhookNoticeType(ChannelType):
    """Notices to the agency's endpoint (``webhook``): the notice as signed JSON, with its idempotency key."""

    kind = "webhook"
    label = "generic webhook"
    max_length = 4000
    max_tps = 20.0
    config_fields = ("api_base", "secret", "access_token")

    def send(self, config, recipient: Recipient, message: Message, *, once: bool = False) -> SendResult:
        body = {
            "event": "notice",
            "idempotency_key": message.idempotency_key,
            "citizen": {"external_id": recipient.external_id, "language": recipient.language},
            "notice": {
                "id": message.reference,
                "kind": message.notice.get("kind", ""),
                "severity": message.notice.get("severity", ""),
                "title": message.title,
                "body": message.text,
                "link": message.link,
            },
        }
        raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        headers = {"Idempotency-Key": message.idempotency_key, **signed_headers(secret=config.secret, body=raw)}
        headers |= bearer(config)
        return _answer(
            post(config.api_base.rstrip("/"), policy=policy_for(config, self, once=once), headers=headers, content=raw),
            provider_id=True,
        )


def bearer(config) -> dict:
    key = config.access_token
    return {"Authorization": f"Bearer {key}"} if key else {}


TYPE = GenericType()
WEBHOOK_TYPE = WebhookNoticeType()
__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "TYPE", "WEBHOOK_TYPE", "signature", "signed_headers", "verify"]
