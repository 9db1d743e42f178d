"""Generic JSON channel, for SMS gateways or an agency's own app (no ORM here).

In: ``POST /webhooks/generic/<slug>/`` with JSON and two headers:
    X-OA-Timestamp: <Unix seconds>
    X-OA-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
Body: {"event": "message" | "follow" | "unfollow", "id": "<your message id>", "citizen_id": "...",
       "text": "...", "display_name"?: "...", "language"?: "vi|en|zh-hans", "phone"?: "..."}
Out: replies and staff messages are POSTed to the channel's callback URL, signed the same way:
    {"event": "message", "citizen_id": "...", "text": "...", "message_id": 123, "sender": "bot|staff"}
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from oa_platform.errors import ValidationFailed
from oa_platform.phones import InvalidPhone, normalize_phone
from oa_platform.webhooks.intake import (
    SignatureInvalid,
    content_key,
    digest_equal,
    freshness_check,
    json_object,
    signing_key_check,
)

SIGNATURE_HEADER = "X-OA-Signature"
TIMESTAMP_HEADER = "X-OA-Timestamp"
EVENTS = ("message", "follow", "unfollow")


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(*, secret: str, timestamp: str, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: "sha256=" + signature(secret=secret, timestamp=timestamp, body=body),
        "Content-Type": "application/json",
    }


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


@dataclass(frozen=True)
class GenericEvent:
    kind: str
    citizen_id: str
    text: str
    dedup_key: str
    profile: dict


def parse_event(body: bytes) -> GenericEvent:
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
    return GenericEvent(kind=kind, citizen_id=citizen_id.strip(), text=text or "", dedup_key=key, profile=profile)
