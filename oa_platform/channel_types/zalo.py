"""Zalo OA: inbound events (signature, parsing) and customer-service messages out, with token renewal.

In: Zalo signs each event with ``X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp + OA secret
key)>``, where ``timestamp`` is the one in the JSON body (milliseconds since the epoch). The stored payload is
Zalo's own JSON (its text dropped once processed).
Out: POST {api_base}/v3.0/oa/message/cs with header ``access_token``; an invalid or expired token is renewed
once with the refresh token and app secret (POST {oauth}/v4/oa/access_token) and the send repeated.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os

from oa_platform.channel_types.base import (
    FAILED,
    REACH_FOLLOWERS_IN_WINDOW,
    RETRY,
    SENT,
    UNREACHABLE,
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
    token_renew,
)
from oa_platform.channel_types.http import RENEW_POLICY, json_body, policy_for, post
from oa_platform.channel_types.signing import digest_equal
from oa_platform.errors import ValidationFailed
from oa_platform.provider_errors import code_error_summary, error_code, http_error_summary

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-ZEvent-Signature"
EVENT_FOLLOW = "follow"
EVENT_UNFOLLOW = "unfollow"
EVENT_TEXT = "user_send_text"
HANDLED_EVENTS = (EVENT_FOLLOW, EVENT_UNFOLLOW, EVENT_TEXT)

# Zalo's OAuth server (token renewal) is not the API host; overridable for a proxy or a test double.
OAUTH_BASE = os.environ.get("ZALO_OAUTH_BASE", "https://oauth.zaloapp.com")
# Zalo OA error codes (field "error"): token problems and throttling are retried, everything else is final.
RETRY_ERRORS = {
    -216: "access token invalid",
    -124: "access token expired",
    -32: "rate limit exceeded",
    -11: "Zalo server error",
}
TOKEN_ERRORS = {-216, -124}
# Final Zalo errors staff can act on; any other code is shown as "refused by the provider" (never its text).
FINAL_ERRORS = {
    -201: "invalid parameters",
    -213: "user has not followed the account",
    -230: "user has not interacted with the account in the last 7 days",
}
# Of those, the ones that say the citizen cannot be reached on Zalo any more.
UNREACHABLE_ERRORS = {-213, -230}


def signature(*, app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    """The hex mac Zalo puts after ``mac=``."""
    return hashlib.sha256(app_id.encode() + body + str(timestamp).encode() + secret.encode()).hexdigest()


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


def parse_event(payload: dict) -> InboundEvent:
    """A Zalo event as an InboundEvent (``handled`` False for events the platform ignores)."""
    name = payload.get("event_name")
    if not isinstance(name, str) or not name:
        raise ValidationFailed("Missing event_name.")
    if name not in HANDLED_EVENTS:
        return InboundEvent(
            kind=name, external_id="", text="", dedup_key="", payload=payload, handled=False, event_type=name
        )
    user_id = _user_id(payload, name)
    text = ""
    msg_id = None
    if name == EVENT_TEXT:
        message = payload.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            raise ValidationFailed("Missing message text.")
        text = message["text"]
        msg_id = message.get("msg_id")
    key = f"m:{msg_id}" if msg_id else content_key(name, user_id, str(payload.get("timestamp", "")), text)
    kind = "message" if name == EVENT_TEXT else name
    return InboundEvent(kind=kind, external_id=user_id, text=text, dedup_key=key, payload=payload, event_type=name)


def _renew(row) -> tuple[str, str] | None:
    if not (row.refresh_token and row.app_secret and row.app_id):
        return None
    response = post(
        OAUTH_BASE.rstrip("/") + "/v4/oa/access_token",
        policy=RENEW_POLICY,
        headers={"secret_key": row.app_secret},
        data={"refresh_token": row.refresh_token, "app_id": row.app_id, "grant_type": "refresh_token"},
    )
    data = json_body(response) if not isinstance(response, SendResult) and response.status_code == 200 else None
    token, refresh = (data or {}).get("access_token"), (data or {}).get("refresh_token")
    if not isinstance(token, str) or not token or not isinstance(refresh, str) or not refresh:
        logger.warning(
            "Zalo token renewal for account %s refused: %s", row.account_id, error_code((data or {}).get("error"))
        )
        return None
    return token, refresh


class ZaloType(ChannelType):
    kind = "zalo"
    label = "Zalo OA"
    max_length = 2000  # Zalo OA text messages
    max_tps = 20.0
    daily_quota = None  # replies are free within 7 days of the citizen's last message (error -230 after)
    # Consultation messages: free, within 7 days of the follower's last message, 8 per window.
    reaches = REACH_FOLLOWERS_IN_WINDOW
    window_hours = 168
    per_window = 8
    config_fields = ("app_id", "secret", "access_token", "api_base", "app_secret", "refresh_token")
    signing_field = "secret"

    # --- in ---
    def receive(self, request, config, body: bytes) -> InboundEvent:
        payload = json_object(body)
        verify(
            app_id=config.app_id,
            secret=config.secret,
            body=body,
            payload=payload,
            header=request.headers.get(SIGNATURE_HEADER),
        )
        return parse_event(payload)

    def parse_stored(self, payload: dict) -> InboundEvent:
        return parse_event(payload)

    def stored_citizen_id(self, payload: dict) -> str | None:
        return event_user_id(payload)

    def without_text(self, payload: dict) -> dict:
        payload = dict(payload)
        if isinstance(payload.get("message"), dict):
            payload["message"] = {k: v for k, v in payload["message"].items() if k != "text"}
        return payload

    # --- out ---
    def token_refresh(self, config, stale_token: str) -> str | None:
        return token_renew(config, stale_token, _renew)

    def send(self, config, recipient: Recipient, message: Message, *, once: bool = True) -> SendResult:
        body = json.dumps(
            {"recipient": {"user_id": recipient.external_id}, "message": {"text": self.render(message)}}
        ).encode()
        policy = policy_for(config, self, once=once)
        url = config.api_base.rstrip("/") + "/v3.0/oa/message/cs"
        for attempt in range(2):
            used_token = config.access_token
            response = post(
                url,
                policy=policy,
                headers={"access_token": used_token, "Content-Type": "application/json"},
                content=body,
            )
            if isinstance(response, SendResult):
                return response
            data = json_body(response)
            if response.status_code != 200 or data is None:
                return SendResult(FAILED, http_error_summary(response.status_code))
            code = data.get("error", 0)
            if code in TOKEN_ERRORS and attempt == 0 and self.token_refresh(config, used_token):
                continue
            break
        if code == 0:
            return SendResult(SENT, provider_id=str((data.get("data") or {}).get("message_id", "")))
        if code in RETRY_ERRORS:
            return SendResult(RETRY, f"Zalo {code}: {RETRY_ERRORS[code]}", retry_after=60.0)
        status = UNREACHABLE if error_code(code) in UNREACHABLE_ERRORS else FAILED
        return SendResult(status, code_error_summary("Zalo", code, FINAL_ERRORS))


TYPE = ZaloType()
