"""The message/result shapes every channel adapter shares (the registry is broadcasts.providers.registry).

An adapter has ``send(messages: list[OutboundMessage]) -> list[SendResult]``, one result per message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from broadcasts.models import Delivery, Notice, idempotency_key


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
