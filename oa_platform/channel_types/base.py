"""What every channel type shares: the one ``SendResult`` and its outcome set, the recipient and message shapes,
the ``ChannelType`` base class (limits, config schema, inbound, sending), inbound checks every webhook makes
before its provider-specific part, and token renewal (written once for Zalo and WeChat).

No ORM writes here except the locked token renewal; no provider knowledge.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from oa_platform.errors import DomainError, ValidationFailed
from oa_platform.models import ChannelConfig

logger = logging.getLogger(__name__)

# --- the one outcome set of a send -------------------------------------------------------------------------
SENT = "sent"  # the provider took the message
RETRY = "retry"  # not now (5xx, timeout, throttled, token to renew): try again after ``retry_after`` seconds
FAILED = "failed"  # refused for good (bad request, credentials, configuration): retrying will not help
UNREACHABLE = "unreachable"  # the recipient cannot be reached (unfollowed, blocked, invalid number): stop
OUTCOMES = (SENT, RETRY, FAILED, UNREACHABLE)

# --- who a type reaches with a message the platform starts (personal notices plan with these) -------------
REACH_NONE = ""  # nobody by itself (an agency endpoint, a chat channel that only answers)
REACH_FOLLOWERS = "followers"  # people who follow the account on this channel
REACH_FOLLOWERS_IN_WINDOW = "followers_in_window"  # followers who wrote to the account within window_hours
REACH_VN_PHONE = "vn_phone"  # any Vietnamese mobile number (+84)
REACH_ANY_PHONE = "any_phone"  # any phone number


@dataclass(frozen=True)
class SendResult:
    """The outcome of sending one message through a channel type."""

    status: str  # one of OUTCOMES
    error: str = ""  # a short reason from oa_platform.provider_errors, never the provider's own text
    provider_id: str = ""  # the provider's message id, when it gives one
    attempts: int = 1  # HTTP attempts made (0 when the rate limiter said "later" before any)
    retry_after: float = 0.0  # RETRY: seconds to wait before the next attempt

    @property
    def sent(self) -> bool:
        return self.status == SENT

    @property
    def final(self) -> bool:
        """Refused for good (FAILED or UNREACHABLE): the caller records it and never retries."""
        return self.status in (FAILED, UNREACHABLE)


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to, in the terms a provider knows: the channel's user id and/or a phone number."""

    external_id: str = ""
    phone: str = ""
    language: str = "vi"


@dataclass(frozen=True)
class Message:
    """One outbound message. Chat and staff replies set ``text``; a notice also sets ``title`` and ``link`` and
    carries its delivery's idempotency key. Each type renders it for its provider (see ``ChannelType.render``)."""

    text: str
    title: str = ""
    link: str = ""
    idempotency_key: str = ""
    reference: int | str = 0  # our id of the message (chat Message.pk, or the notice id)
    sender: str = ""  # "bot" | "staff" for chat; "" for notices
    notice: dict = field(default_factory=dict)  # a notice's kind/severity, for providers that want them
    # Template providers (ZNS): this message's template and its parameters; empty = the configuration's
    # template filled with title / text / link.
    template_id: str = ""
    template_data: dict = field(default_factory=dict)


# --- the base class ----------------------------------------------------------------------------------------
class ChannelType:
    """One provider. Subclasses declare their limits and config fields and implement what they support.

    Limits: ``max_length`` characters per message (longer text is cut with "…"), ``max_tps`` messages per second
    per account (the default rate of the shared token bucket, overridable per configuration), ``daily_quota``
    messages per account per day (of the account's time zone) the provider allows (None: no fixed quota),
    enforced by registry.send (channel_types.quota; ChannelConfig.daily_quota overrides it per account)."""

    kind = ""
    label = ""
    max_length = 2000
    max_tps = 20.0
    daily_quota: int | None = None
    reaches = REACH_NONE
    window_hours = 0
    per_window = 0
    price = 0
    per_segment = False
    # Fields of ChannelConfig this type uses (the admin and set_channel show and validate these).
    config_fields: tuple[str, ...] = ()
    # The field holding the key inbound webhooks are signed with ("" when the type receives nothing).
    signing_field = ""
    # Whether the provider sends a message once per Idempotency-Key (a lost result may then be posted again).
    honours_idempotency_key = False

    def render(self, message: Message) -> str:
        """The text of ``message`` for this channel: title, body and link, cut to ``max_length``."""
        parts = [message.title.strip(), message.text.strip(), (message.link or "").strip()]
        return truncate("\n\n".join(p for p in parts if p), self.max_length)

    def send(self, config, recipient: Recipient, message: Message) -> SendResult:
        raise NotImplementedError(f"{self.kind} does not send")

    def __repr__(self) -> str:
        return f"<channel type {self.kind}>"


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- token renewal (Zalo, WeChat) ------------------------------------------------------------------------
def token_renew(
    config: ChannelConfig, stale_token: str, fetch: Callable[[ChannelConfig], tuple[str, str] | None]
) -> str | None:
    """Renew ``config``'s access token with ``fetch(row) -> (access_token, refresh_token or "")`` (None: refused).

    The config row is locked: a worker that finds the token already renewed by another (it differs from
    ``stale_token``) uses that one instead of renewing again (Zalo refresh tokens are single use). The new
    token (and refresh token, when the provider rotates it) is saved on the row and on ``config``."""
    with transaction.atomic():
        row = ChannelConfig.objects.select_for_update().get(pk=config.pk)
        if row.access_token and row.access_token != stale_token:
            config.access_token = row.access_token
            return row.access_token
        fetched = fetch(row)
        if fetched is None:
            return None
        token, refresh = fetched
        updates = {"access_token": token}
        if refresh:
            updates["refresh_token"] = refresh
        ChannelConfig.objects.filter(pk=row.pk).update(**updates)
    config.access_token = token
    if refresh:
        config.refresh_token = refresh
    return token


# --- inbound checks every webhook makes ------------------------------------------------------------------
# Providers send small events (a chat line and some ids); 64 KiB leaves room for long Vietnamese/Chinese text
# and refuses anything meant to exhaust memory or the XML parser.
MAX_BODY_BYTES = 64 * 1024
# A signed request older (or further in the future) than this is refused: it bounds replays of a captured body.
MAX_SKEW_SECONDS = 5 * 60


class SignatureInvalid(DomainError):
    """Missing or wrong signature, stale timestamp, another account's credentials."""

    status = 401
    code = "bad_signature"


class PayloadTooLarge(DomainError):
    status = 413
    code = "too_large"


@dataclass(frozen=True)
class InboundEvent:
    """A verified, parsed inbound event, ready to be stored once and processed by conversations.inbound.

    ``kind`` is "message", "follow", "unfollow" or something the platform ignores (``handled`` False)."""

    kind: str
    external_id: str
    text: str
    dedup_key: str
    payload: dict  # what is stored on the WebhookEvent (the text is dropped from it once processed)
    profile: dict = field(default_factory=dict)  # display_name / language / phone sent with the event
    handled: bool = True
    event_type: str = ""  # the provider's own name of the event (stored on the WebhookEvent); kind when empty

    @property
    def stored_type(self) -> str:
        return self.event_type or self.kind


def body_check(body: bytes) -> bytes:
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Body larger than {MAX_BODY_BYTES} bytes.")
    if not body:
        raise ValidationFailed("Empty body.")
    return body


def timestamp_seconds(raw) -> float:
    """A provider timestamp as Unix seconds; Zalo sends milliseconds, WeChat and the generic channel seconds."""
    try:
        value = float(str(raw).strip())
    except (TypeError, ValueError) as exc:
        raise SignatureInvalid("Missing or invalid timestamp.") from exc
    if not math.isfinite(value):  # "nan" would compare as inside any window
        raise SignatureInvalid("Missing or invalid timestamp.")
    if value > 10**11:  # milliseconds: 10**11 seconds is the year 5138
        value /= 1000.0
    return value


def freshness_check(raw_timestamp) -> None:
    """Refuse a timestamp outside the replay window (in either direction)."""
    seconds = timestamp_seconds(raw_timestamp)
    if abs(timezone.now().timestamp() - seconds) > MAX_SKEW_SECONDS:
        raise SignatureInvalid("Timestamp outside the accepted window.", code="stale_timestamp")


def signing_key_check(key: str | None) -> None:
    """Refuse every request to a channel configured without its signing key: a signature over an empty key
    is one anybody can compute. (The admin and set_channel refuse to enable such a channel; this also covers
    rows written some other way.)"""
    if not key:
        raise SignatureInvalid("The channel has no signing key configured.", code="not_configured")


def unicode_check(payload) -> None:
    """Refuse strings (keys or values, at any depth) no database stores: JSON may escape lone surrogates
    ("\\ud800") and NUL ("\\u0000"; PostgreSQL text and jsonb refuse it)."""
    stack = [payload]
    while stack:  # iterative: nesting depth is bounded by the body size, not by the recursion limit
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise ValidationFailed("Malformed JSON: NUL character in a string.")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValidationFailed("Malformed JSON: invalid Unicode (lone surrogate).") from exc


def content_key(*parts: str) -> str:
    """Dedup key for events that carry no message id: a hash of what identifies them."""
    return "h:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def json_object(body: bytes) -> dict:
    """A webhook's JSON body as an object, or ValidationFailed (malformed, nested too deep, not an object,
    strings the database cannot store)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: "[[[[…" nested too deep
        raise ValidationFailed("Malformed JSON.") from exc
    if not isinstance(payload, dict):
        raise ValidationFailed("The body must be a JSON object.")
    unicode_check(payload)
    return payload
