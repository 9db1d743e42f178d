"""Channel adapters: a registry (channel name -> adapter) and the message/result shapes every adapter shares.

An adapter has ``send(messages: list[OutboundMessage]) -> list[SendResult]``, one result per message. The
Zalo OA / WeChat adapters of the webhooks app register themselves with ``register_adapter("zalo", adapter)``;
deliveries to citizens of those channels use them when registered, otherwise the in-app inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from broadcasts.models import Delivery, Notice, ProviderConfig, idempotency_key


@dataclass(frozen=True)
class OutboundMessage:
    delivery_id: int
    notice_id: int
    account_id: int
    citizen_id: int
    channel: str
    citizen_channel: str
    external_id: str
    phone: str
    language: str
    title: str
    body: str
    link: str
    severity: str
    kind: str
    idempotency_key: str

    @classmethod
    def build(cls, notice: Notice, delivery: Delivery) -> OutboundMessage:
        citizen = delivery.citizen
        title, body = notice.text_for(delivery.language)
        return cls(
            delivery_id=delivery.pk,
            notice_id=notice.pk,
            account_id=notice.account_id,
            citizen_id=citizen.pk,
            channel=delivery.channel,
            citizen_channel=citizen.channel,
            external_id=citizen.external_id,
            phone=citizen.phone,
            language=delivery.language,
            title=title,
            body=body,
            link=notice.link,
            severity=notice.severity,
            kind=notice.kind,
            idempotency_key=idempotency_key(notice.pk, citizen.pk),
        )


@dataclass
class SendResult:
    delivery_id: int
    status: str  # Delivery.STATUS_SENT, Delivery.STATUS_FAILED, or "retry" (leave queued, try again later)
    provider_message_id: str = ""
    error: str = ""
    attempts: int = 1
    retry_after: float = 0.0


class ChannelAdapter(Protocol):
    def send(self, messages: list[OutboundMessage]) -> list[SendResult]: ...


_REGISTRY: dict[str, ChannelAdapter] = {}


def register_adapter(channel: str, adapter: ChannelAdapter) -> None:
    """Register the adapter for a citizen channel (e.g. "zalo", "wechat")."""
    _REGISTRY[channel] = adapter


def unregister_adapter(channel: str) -> None:
    _REGISTRY.pop(channel, None)


def registered_channels() -> set[str]:
    return set(_REGISTRY)


def adapter_for(channel: str, *, account) -> ChannelAdapter | None:
    """The adapter of a delivery channel: a registered one, or the account's HTTP provider of that kind."""
    if channel in _REGISTRY:
        return _REGISTRY[channel]
    if channel in dict(ProviderConfig.KIND_CHOICES):
        config = ProviderConfig.objects.filter(account=account, kind=channel, is_enabled=True).first()
        if config is None:
            return None
        from broadcasts.providers.sms import SmsAdapter
        from broadcasts.providers.webhook import WebhookAdapter
        from broadcasts.providers.zns import ZnsAdapter

        return {"zns": ZnsAdapter, "sms": SmsAdapter, "webhook": WebhookAdapter}[channel](config)
    return None
