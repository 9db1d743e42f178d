"""Reads of personal notices, always scoped to one account."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from broadcasts.personal.models import (
    CHANNEL_INAPP,
    CHANNEL_WECHAT,
    CHANNEL_ZALO,
    Notification,
    PersonalSettings,
    Template,
    TemplateVersion,
)
from broadcasts.personal.plan import Recipient
from broadcasts.services import Actor, actor_people, approver_people, notice_author_people
from oa_platform.models import ChannelConfig, Citizen, Conversation, Message, OfficialAccount


def sees_full_phones(*, item, user) -> bool:
    """Whether staff member ``user`` sees the phones of ``item`` (a recipient list: a row with the two-person
    fields) in full: only its author and its approver do, themselves or through a token they created. Everyone
    else sees them masked (oa_platform.phones.mask_phone); before approval only the author sees them."""
    if user is None or not user.is_authenticated:
        return False
    return bool(actor_people(Actor(user=user)) & (notice_author_people(item) | approver_people(item)))


def templates_for_account(*, account: OfficialAccount) -> QuerySet[Template]:
    return Template.objects.filter(account=account)


def template_by_key(*, account: OfficialAccount, key: str) -> Template | None:
    return templates_for_account(account=account).filter(key=key).first()


def approved_version_by_key(*, account: OfficialAccount, key: str) -> TemplateVersion | None:
    """The newest approved version of the account's template ``key`` (with its template), in one query: the
    one-message API reads it on every request."""
    return (
        TemplateVersion.objects.filter(
            template__account=account, template__key=key, status=TemplateVersion.STATUS_APPROVED
        )
        .select_related("template")
        .order_by("-number")
        .first()
    )


def notifications_for_account(*, account: OfficialAccount) -> QuerySet[Notification]:
    return Notification.objects.filter(account=account)


def settings_for(account: OfficialAccount) -> PersonalSettings:
    found = PersonalSettings.objects.filter(account=account).first()
    return found or PersonalSettings(account=account)


def channel_quotas(account: OfficialAccount) -> dict[str, int]:
    """Channel -> the account's own daily quota, where an enabled configuration sets one (a provider raised or
    lowered it for this account: ``ChannelConfig.daily_quota``); the planner uses it instead of the type's."""
    rows = ChannelConfig.objects.filter(account=account, is_enabled=True, daily_quota__isnull=False)
    pairs = rows.values_list("kind", "daily_quota")
    return {(CHANNEL_INAPP if kind == "web" else kind): quota for kind, quota in pairs}


def day_start(account: OfficialAccount, now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now, account.tzinfo)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def used_today(*, account: OfficialAccount, now: dt.datetime, channels: set[str] | None = None) -> dict[str, int]:
    """Messages taken by each channel since the account's midnight (the channel types' quotas are per account
    and day). ``channels``: only these (the ones with a daily limit; counting the others is wasted work per
    message)."""
    if channels is not None and not channels:
        return {}
    base = Notification.objects.filter(
        account=account,
        sent_at__gte=day_start(account, now),
        status__in=(Notification.STATUS_SENT, Notification.STATUS_DELIVERED),
    )
    if channels is not None:
        base = base.filter(channel__in=channels)
    return {row["channel"]: row["n"] for row in base.values("channel").annotate(n=Count("id")).order_by()}


def recipient_reach(
    *, account: OfficialAccount, phone: str = "", citizen: Citizen | None = None
) -> tuple[Recipient, dict[str, Citizen]]:
    """Everything the planner needs about one person in ``account``, matched by E.164 phone across channels
    (and by the citizen the client named): whether they have a conversation on the web page, when they last
    wrote on Zalo or WeChat, and how many messages went to them since. Also who to send to on each channel."""
    people = Q(phone=phone) if phone else Q(pk__in=[])
    if citizen is not None:
        people |= Q(pk=citizen.pk)
    conversations = Conversation.objects.filter(account=account).filter(
        Q(citizen__in=Citizen.objects.filter(people)) & (Q(citizen__account=account) | Q(citizen__account=None))
    )
    targets: dict[str, Citizen] = {}
    last_inbound: dict[str, dt.datetime] = {}
    sent_in_window: dict[str, int] = {}
    for conversation in conversations.select_related("citizen").order_by("-id"):
        person = conversation.citizen
        channel = CHANNEL_INAPP if person.channel == Citizen.CHANNEL_WEB else person.channel
        if channel not in (CHANNEL_INAPP, CHANNEL_ZALO, CHANNEL_WECHAT) or channel in targets:
            continue
        targets[channel] = person
        if channel == CHANNEL_INAPP:
            continue
        messages = Message.objects.filter(conversation=conversation)
        last = messages.filter(direction=Message.DIRECTION_IN).aggregate(at=Max("created_at"))["at"]
        if last is not None:
            last_inbound[channel] = last
            sent_in_window[channel] = messages.filter(direction=Message.DIRECTION_OUT, created_at__gt=last).count()
    reach_phone = phone or (citizen.phone if citizen is not None else "")
    recipient = Recipient(
        phone=reach_phone,
        follows_inapp=CHANNEL_INAPP in targets,
        last_inbound=last_inbound,
        sent_in_window=sent_in_window,
    )
    return recipient, targets
