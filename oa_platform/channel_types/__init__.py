"""One module per channel type (web, zalo, zns, wechat, generic, sms): each owns its configuration fields, its
limits, verifying and parsing its inbound events, sending with its provider's API and mapping the provider's
answers to one outcome set. Every feature sends through here.

Public API (import from ``oa_platform.channel_types``):

    send(kind, account, recipient, message) -> SendResult
        kind: "web" | "zalo" | "wechat" | "generic" | "zns" | "sms" | "webhook" (notices to the agency endpoint)
        recipient: Recipient(external_id=..., phone=..., language=...)
        message: Message(text=..., title=..., link=..., idempotency_key=..., reference=..., sender=...)
        SendResult.status: SENT | RETRY (wait retry_after seconds) | FAILED | UNREACHABLE (stop sending to them)
    type_for(kind) -> ChannelType   (limits: max_length, max_tps, daily_quota; config_fields)
    config_for(account, kind) -> the account's enabled configuration, or None
"""

from oa_platform.channel_types.base import (
    FAILED,
    OUTCOMES,
    RETRY,
    SENT,
    UNREACHABLE,
    ChannelType,
    InboundEvent,
    Message,
    Recipient,
    SendResult,
)
from oa_platform.channel_types.registry import config_for, configured_kinds, send, type_for

__all__ = [
    "FAILED",
    "OUTCOMES",
    "RETRY",
    "SENT",
    "UNREACHABLE",
    "ChannelType",
    "InboundEvent",
    "Message",
    "Recipient",
    "SendResult",
    "config_for",
    "configured_kinds",
    "send",
    "type_for",
]
