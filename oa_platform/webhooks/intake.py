"""What every webhook does before its channel-specific part: find the account's channel, check the
timestamp window, store the event exactly once."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from oa_platform.errors import DomainError, NotFound, ValidationFailed
from oa_platform.models import ChannelConfig, OfficialAccount, WebhookEvent
from oa_platform.selectors import account_by_slug

logger = logging.getLogger(__name__)

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
class ChannelTarget:
    account: OfficialAccount
    config: ChannelConfig


def channel_target(*, slug: str, kind: str) -> ChannelTarget:
    """The active account of ``slug`` with its enabled ``kind`` channel, else NotFound (404)."""
    account = account_by_slug(slug)
    config = None
    if account is not None:
        config = ChannelConfig.objects.filter(account=account, kind=kind, is_enabled=True).first()
    if config is None:
        raise NotFound("No such account or channel.")
    return ChannelTarget(account=account, config=config)


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


def digest_equal(expected: str, given: str | None) -> bool:
    """Constant-time comparison of two hex digests (case-insensitive, as providers vary)."""
    if not given:
        return False
    return hmac.compare_digest(expected.lower().encode(), given.strip().lower().encode())


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


def event_store(*, account: OfficialAccount, channel: str, dedup_key: str, event_type: str, payload: dict):
    """Store the event once. Returns (event, created); a retried delivery returns the stored row, created False.

    Safe under concurrent deliveries: the unique (account, channel, dedup_key) constraint decides the winner.
    """
    dedup_key = dedup_key[:128]
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                account=account, channel=channel, dedup_key=dedup_key, event_type=event_type[:60], payload=payload
            )
        return event, True
    except IntegrityError:
        event = WebhookEvent.objects.get(account=account, channel=channel, dedup_key=dedup_key)
        return event, False


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
