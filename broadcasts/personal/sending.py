"""The ONE place personal notices leave the platform. Everything else in this app calls ``send`` and
``available_channels``; on the merge of the single channel layer (oa_platform/channel_types, issue 13) only
this module is re-pointed at ``channel_types.<kind>.send``.

Today it sends through what exists: in-app by writing the text into the citizen's conversation on the web page,
Zalo OA / WeChat through the adapters registered in broadcasts.providers.registry, ZNS and SMS through the
account's HTTP providers (broadcasts.providers.zns / sms, with their retries, rate limiter and error classes),
and answers with their ``SendResult``.
"""

from __future__ import annotations

from dataclasses import dataclass

from broadcasts.models import Delivery, ProviderConfig
from broadcasts.personal.models import (
    CHANNEL_INAPP,
    CHANNEL_SMS,
    CHANNEL_WECHAT,
    CHANNEL_ZALO,
    CHANNEL_ZNS,
    Notification,
)
from broadcasts.providers.base import OutboundMessage, SendResult
from broadcasts.providers.registry import adapter_for, registered_channels
from broadcasts.providers.zns import ZnsAdapter
from oa_platform.models import ChannelConfig, Citizen, Conversation, Message, OfficialAccount

SENT = Delivery.STATUS_SENT
FAILED = Delivery.STATUS_FAILED
RETRY = "retry"
# Failures the next channel should not take over: the message may still go through later on this one.
TRANSIENT_PREFIXES = ("gave up after", "network error", "timeout")


@dataclass(frozen=True)
class Target:
    """Who to send to on a channel: a citizen (in-app, Zalo, WeChat) or a phone (ZNS, SMS)."""

    phone: str = ""
    citizen: Citizen | None = None


def available_channels(*, account: OfficialAccount, zns_template_id: str = "") -> set[str]:
    """The channels the account can send personal notices on right now."""
    found = {CHANNEL_INAPP}
    registered = registered_channels()
    kinds = set(ChannelConfig.objects.filter(account=account, is_enabled=True).values_list("kind", flat=True))
    found |= {c for c in (CHANNEL_ZALO, CHANNEL_WECHAT) if c in registered and c in kinds}
    providers = set(ProviderConfig.objects.filter(account=account, is_enabled=True).values_list("kind", flat=True))
    if CHANNEL_SMS in providers:
        found.add(CHANNEL_SMS)
    if CHANNEL_ZNS in providers and zns_template_id:
        found.add(CHANNEL_ZNS)
    return found


def is_permanent(result: SendResult) -> bool:
    """A refusal that another channel should take over (blocked, unknown number, template rejected)."""
    return result.status == FAILED and not result.error.startswith(TRANSIENT_PREFIXES)


def _message(notification: Notification, channel: str, target: Target, text: str) -> OutboundMessage:
    citizen = target.citizen
    return OutboundMessage(
        delivery_id=notification.pk,
        notice_id=0,
        account_id=notification.account_id,
        citizen_id=citizen.pk if citizen else 0,
        channel=channel,
        citizen_channel=citizen.channel if citizen else "",
        external_id=citizen.external_id if citizen else "",
        phone=target.phone,
        language=notification.language,
        title="",
        body=text,
        link=notification.version.link,
        severity="",
        kind="personal",
        # One key per notification and channel: a retry on the same channel is deduplicated by the provider.
        idempotency_key=f"oa-p{notification.pk}-{channel}",
    )


class PersonalZnsAdapter(ZnsAdapter):
    """ZNS with the template's own ZNS id and its parameters filled from the personalisation."""

    def __init__(self, config, *, template_id: str, params: dict, **kwargs):
        super().__init__(config, **kwargs)
        self.template_id = template_id
        self.params = params

    def request(self, message: OutboundMessage) -> tuple[str, dict, dict]:
        path, body, headers = super().request(message)
        body = {**body, "template_id": self.template_id, "template_data": self.params}
        return path, body, headers


def send(*, notification: Notification, channel: str, target: Target, text: str) -> SendResult:
    """Send ``text`` (already rendered for ``channel``) to ``target``. Never raises for a provider's answer."""
    pk = notification.pk
    if channel == CHANNEL_INAPP:
        if target.citizen is None:
            return SendResult(pk, FAILED, error="no web-page conversation for this person")
        conversation = Conversation.objects.filter(account_id=notification.account_id, citizen=target.citizen).first()
        if conversation is None:
            return SendResult(pk, FAILED, error="no web-page conversation for this person")
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.DIRECTION_OUT,
            sender=Message.SENDER_SYSTEM,
            channel=Citizen.CHANNEL_WEB,
            text=text,
        )
        return SendResult(pk, SENT, provider_message_id=f"msg-{message.pk}")
    if channel == CHANNEL_ZNS:
        config = ProviderConfig.objects.filter(
            account_id=notification.account_id, kind=channel, is_enabled=True
        ).first()
        if config is None:
            return SendResult(pk, FAILED, error="no zns provider configured")
        version = notification.version
        values = notification.personalisation or {}
        params = {param: values.get(name, "") for param, name in (version.zns_params or {}).items()}
        adapter = PersonalZnsAdapter(config, template_id=version.zns_template_id, params=params)
        return adapter.send([_message(notification, channel, target, text)])[0]
    adapter = adapter_for(channel, account=notification.account)
    if adapter is None:
        return SendResult(pk, FAILED, error=f"no {channel} provider configured")
    answers = adapter.send([_message(notification, channel, target, text)])
    return answers[0] if answers else SendResult(pk, RETRY, retry_after=1.0)
