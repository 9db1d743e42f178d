"""The channel plan per person: the pure function that picks a channel for one recipient from what each channel
type declares about itself (``oa_platform.channel_types``: who it reaches, its price per message or SMS segment,
its daily quota per account). No ORM here: callers pass what they know.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from broadcasts.personal.models import CHANNEL_INAPP, CHANNEL_SMS, CHANNEL_WECHAT, CHANNEL_ZALO, CHANNEL_ZNS
from oa_platform import channel_types as ct
from oa_platform.channel_types.base import (
    REACH_ANY_PHONE,
    REACH_FOLLOWERS,
    REACH_FOLLOWERS_IN_WINDOW,
    REACH_VN_PHONE,
)


@dataclass(frozen=True)
class ChannelReach:
    """What one channel declares for planning. Prices in VND (illustrative list prices; the contract decides)."""

    channel: str
    reaches: str
    price: int = 0  # per message, or per segment when per_segment
    per_segment: bool = False
    daily_quota: int | None = None  # per account and day, None: no quota of the channel's own
    window_hours: int = 0  # REACH_FOLLOWERS_IN_WINDOW: how recent the person's last message must be
    per_window: int = 0  # REACH_FOLLOWERS_IN_WINDOW: messages the account may send in one window

    @classmethod
    def of(cls, channel: str) -> ChannelReach:
        """What the channel type of ``channel`` declares (in-app is the web type)."""
        t = ct.type_for(channel)
        return cls(
            channel,
            t.reaches,
            price=t.price,
            per_segment=t.per_segment,
            daily_quota=t.daily_quota,
            window_hours=t.window_hours,
            per_window=t.per_window,
        )

    def cost(self, segments: int) -> int:
        return self.price * max(segments, 1) if self.per_segment else self.price


CHANNELS: dict[str, ChannelReach] = {
    c: ChannelReach.of(c) for c in (CHANNEL_INAPP, CHANNEL_ZALO, CHANNEL_ZNS, CHANNEL_WECHAT, CHANNEL_SMS)
}
DEFAULT_ORDER = [CHANNEL_INAPP, CHANNEL_ZALO, CHANNEL_WECHAT, CHANNEL_ZNS, CHANNEL_SMS]


@dataclass(frozen=True)
class Recipient:
    """What is known about one person in the account (all optional)."""

    phone: str = ""  # E.164
    follows_inapp: bool = False  # a web-page follower of the account with this phone
    # channel -> when the person last wrote on it, and how many messages the account sent since then
    last_inbound: dict[str, dt.datetime] = field(default_factory=dict)
    sent_in_window: dict[str, int] = field(default_factory=dict)


def can_reach(reach: ChannelReach, recipient: Recipient, *, now: dt.datetime) -> bool:
    if reach.reaches == REACH_FOLLOWERS:
        return recipient.follows_inapp
    if reach.reaches == REACH_FOLLOWERS_IN_WINDOW:
        last = recipient.last_inbound.get(reach.channel)
        if last is None or now - last > dt.timedelta(hours=reach.window_hours):
            return False
        return recipient.sent_in_window.get(reach.channel, 0) < reach.per_window
    if reach.reaches == REACH_VN_PHONE:
        return recipient.phone.startswith("+84")
    if reach.reaches == REACH_ANY_PHONE:
        return bool(recipient.phone)
    return False


def daily_limit(reach: ChannelReach, caps: dict[str, int], quotas: dict[str, int] | None = None) -> int | None:
    """The smaller of the channel's quota in force and the account's cap (None: unlimited). The quota in force
    is the account's own where its channel configuration sets one (``quotas``: channel -> the provider raised or
    lowered it for this account, ``ChannelConfig.daily_quota``), else the one the channel type declares."""
    quota = (quotas or {}).get(reach.channel) or reach.daily_quota
    limits = [n for n in (quota, caps.get(reach.channel)) if n is not None]
    return min(limits) if limits else None


@dataclass(frozen=True)
class Choice:
    channel: str | None
    cost: int = 0
    reason: str = ""  # why no channel was found


def choose(
    recipient: Recipient,
    *,
    order: list[str],
    available: set[str],
    used_today: dict[str, int],
    caps: dict[str, int] | None = None,
    segments: int = 1,
    exclude: tuple[str, ...] = (),
    now: dt.datetime,
    channels: dict[str, ChannelReach] = CHANNELS,
    quotas: dict[str, int] | None = None,
) -> Choice:
    """The first channel of ``order`` that is ``available`` (configured for the account), not excluded (tried
    already), can reach the recipient and is within its daily limit. ``used_today`` is what was planned or sent
    on each channel today; the caller adds the choice to it when planning a list. ``quotas``: the account's
    own daily quota per channel where its configuration overrides the channel type's (selectors.channel_quotas).
    """
    caps = caps or {}
    reasons = []
    for name in order or DEFAULT_ORDER:
        reach = channels.get(name)
        if reach is None or name in exclude or name not in available:
            continue
        if not can_reach(reach, recipient, now=now):
            continue
        limit = daily_limit(reach, caps, quotas)
        if limit is not None and used_today.get(name, 0) >= limit:
            reasons.append(f"{name}: daily limit {limit} reached")
            continue
        return Choice(name, reach.cost(segments))
    return Choice(None, 0, "; ".join(reasons) or "no configured channel reaches this person")
