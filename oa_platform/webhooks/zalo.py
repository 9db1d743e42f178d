"""Zalo OA webhook: signature check and event parsing (no ORM here).

Zalo signs each event with ``X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp + OA secret
key)>``, where ``timestamp`` is the one in the JSON body (milliseconds since the epoch).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from oa_platform.errors import ValidationFailed
from oa_platform.webhooks.intake import (
    SignatureInvalid,
    content_key,
    digest_equal,
    freshness_check,
    json_object,
    signing_key_check,
)

SIGNATURE_HEADER = "X-ZEvent-Signature"
EVENT_FOLLOW = "follow"
EVENT_UNFOLLOW = "unfollow"
EVENT_TEXT = "user_send_text"
HANDLED_EVENTS = (EVENT_FOLLOW, EVENT_UNFOLLOW, EVENT_TEXT)


def signature(*, app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    """The hex mac Zalo puts after ``mac=``."""
    return hashlib.sha256(app_id.encode() + body + str(timestamp).encode() + secret.encode()).hexdigest()


def parse_body(body: bytes) -> dict:
    payload = json_object(body)
    return payload


def verify(*, app_id: str, secret: str, body: bytes, payload: dict, header: str | None) -> None:
    """Raise SignatureInvalid unless the header carries the right mac for this account and the timestamp is fresh."""
    signing_key_check(secret)
    if not header:
        raise SignatureInvalid("Missing X-ZEvent-Signature.")
    given = header.strip()
    if given.lower().startswith("mac="):
        given = given[4:]
    timestamp = payload.get("timestamp")
    if timestamp is None or not str(timestamp).strip():
        raise SignatureInvalid("Missing timestamp.")
    expected = signature(app_id=app_id, body=body, timestamp=str(timestamp), secret=secret)
    if not digest_equal(expected, given):
        raise SignatureInvalid("Bad signature.")
    freshness_check(timestamp)
    if payload.get("app_id") not in (None, "", app_id):
        raise SignatureInvalid("Event for another app.")


@dataclass(frozen=True)
class ZaloEvent:
    kind: str  # one of HANDLED_EVENTS, or another Zalo event name (ignored)
    user_id: str
    text: str
    dedup_key: str
    display_name: str = ""

    @property
    def handled(self) -> bool:
        return self.kind in HANDLED_EVENTS


def _user_id(payload: dict, kind: str) -> str:
    holder = payload.get("follower") if kind in (EVENT_FOLLOW, EVENT_UNFOLLOW) else payload.get("sender")
    user_id = holder.get("id") if isinstance(holder, dict) else None
    if not isinstance(user_id, str | int) or not str(user_id).strip():
        raise ValidationFailed("Missing user id.")
    return str(user_id).strip()[:128]


def event_user_id(payload: dict) -> str | None:
    """The Zalo user a stored event is about (also once its text was dropped), or None."""
    try:
        return _user_id(payload, payload.get("event_name"))
    except ValidationFailed:
        return None


def parse_event(payload: dict) -> ZaloEvent:
    kind = payload.get("event_name")
    if not isinstance(kind, str) or not kind:
        raise ValidationFailed("Missing event_name.")
    if kind not in HANDLED_EVENTS:
        return ZaloEvent(kind=kind, user_id="", text="", dedup_key="")
    user_id = _user_id(payload, kind)
    text = ""
    msg_id = None
    if kind == EVENT_TEXT:
        message = payload.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            raise ValidationFailed("Missing message text.")
        text = message["text"]
        msg_id = message.get("msg_id")
    if msg_id:
        key = f"m:{msg_id}"
    else:
        key = content_key(kind, user_id, str(payload.get("timestamp", "")), text)
    return ZaloEvent(kind=kind, user_id=user_id, text=text, dedup_key=key)
