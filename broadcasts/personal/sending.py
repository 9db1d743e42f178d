"""The ONE place personal notices leave the platform. Everything else in this app calls ``send`` and
``available_channels``; both go through the single channel layer (``oa_platform.channel_types``).

In-app writes the text into the citizen's conversation on the web page (the web type sends nothing over HTTP)
and tells the citizen's open chat pages (``oa_platform.live``);
Zalo OA, WeChat, ZNS and SMS go through ``channel_types.send`` with the account's ``ChannelConfig`` of that
kind (its retries, rate limiter and error classes). ZNS carries the template's own ZNS id and its parameters
filled from the personalisation (``Message.template_id`` / ``template_data``). Answers are the layer's one
``SendResult``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from broadcasts.personal.models import (
    CHANNEL_INAPP,
    CHANNEL_SMS,
    CHANNEL_WECHAT,
    CHANNEL_ZALO,
    CHANNEL_ZNS,
    Notification,
)
from oa_platform import channel_types as ct
from oa_platform import live
from oa_platform.models import Citizen, Conversation, Message, OfficialAccount

SENT = ct.SENT
FAILED = ct.FAILED
RETRY = ct.RETRY
SendResult = ct.SendResult
# Final failures the next channel should not take over: the message may still go through later on this one.
TRANSIENT_PREFIXES = ("gave up after", "network error", "timeout")


@dataclass(frozen=True)
class Target:
    """Who to send to on a channel: a citizen (in-app, Zalo, WeChat) or a phone (ZNS, SMS)."""

    phone: str = ""
    citizen: Citizen | None = None


def available_channels(*, account: OfficialAccount, zns_template_id: str = "") -> set[str]:
    """The channels the account can send personal notices on right now."""
    kinds = ct.configured_kinds(account.pk)
    found = {CHANNEL_INAPP} | {c for c in (CHANNEL_ZALO, CHANNEL_WECHAT, CHANNEL_SMS) if c in kinds}
    if CHANNEL_ZNS in kinds and zns_template_id:
        found.add(CHANNEL_ZNS)
    return found


def is_permanent(result: ct.SendResult) -> bool:
    """A refusal that another channel should take over (unreachable, blocked, unknown number, template
    rejected), not one that gave up on a passing fault."""
    return result.final and not result.error.startswith(TRANSIENT_PREFIXES)


def _message(notification: Notification, channel: str, text: str) -> ct.Message:
    template_id, template_data = "", {}
    if channel == CHANNEL_ZNS:
        version = notification.version
        values = notification.personalisation or {}
        template_id = version.zns_template_id
        template_data = {param: values.get(name, "") for param, name in (version.zns_params or {}).items()}
    return ct.Message(
        text,
        link=notification.version.link,
        # One key per notification and channel: a retry on the same channel is deduplicated by the provider.
        idempotency_key=f"oa-p{notification.pk}-{channel}",
        reference=notification.pk,
        template_id=template_id,
        template_data=template_data,
    )


def _inapp(notification: Notification, target: Target, text: str) -> ct.SendResult:
    if target.citizen is None:
        return ct.SendResult(FAILED, "no web-page conversation for this person", attempts=0)
    conversation = Conversation.objects.filter(account_id=notification.account_id, citizen=target.citizen).first()
    if conversation is None:
        return ct.SendResult(FAILED, "no web-page conversation for this person", attempts=0)
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.DIRECTION_OUT,
        sender=Message.SENDER_SYSTEM,
        channel=Citizen.CHANNEL_WEB,
        text=text,
    )
    # the citizen's open chat pages fetch it once committed (as a list chunk's messages: inapp.send_range)
    changed = {conversation.citizen_id: conversation.pk}
    transaction.on_commit(
        lambda: live.citizens_conversations_changed(account_id=notification.account_id, conversations=changed)
    )
    return ct.SendResult(SENT, provider_id=f"msg-{message.pk}", attempts=0)


def send(*, notification: Notification, channel: str, target: Target, text: str) -> ct.SendResult:
    """Send ``text`` (already rendered for ``channel``) to ``target``. Never raises for a provider's answer."""
    if channel == CHANNEL_INAPP:
        return _inapp(notification, target, text)
    citizen = target.citizen
    recipient = ct.Recipient(
        external_id=citizen.external_id if citizen else "", phone=target.phone, language=notification.language
    )
    return ct.send(channel, notification.account, recipient, _message(notification, channel, text))
