"""The channel plan per person: what each channel offers personal notices (who it reaches, its price) and the
pure function that picks a channel for one recipient. No ORM here: callers pass what they know.

A channel's daily quota is its channel type's (``oa_platform.channel_types.type_for(kind).daily_quota``, per
account and day), declared once there; who a channel reaches and its price are declared here (CHANNELS).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from broadcasts.personal.models import CHANNEL_INAPP, CHANNEL_SMS, CHANNEL_WECHAT, CHANNEL_ZALO, CHANNEL_ZNS
from oa_platform import channel_types as ct

REACH_FOLLOWERS = "followers"  # people who follow the account on this channel
REACH_FOLLOWERS_IN_WINDOW = "followers_in_window"  # followers who wrote to the account within window_hours
REACH_VN_PHONE = "vn_phone"  # any Vietnamese mobile number (+84)
REACH_ANY_PHONE = "any_phone"  # any phone number


@dataclass(frozen=True)
class ChannelReach:
    """What one channel declares. Prices in VND (illustrative list prices; the account's contract decides)."""

    channel: str
    reaches: str
    price: int = 0  # per message, or per segment when per_segment
    per_segment: bool = False
    window_hours: int = 0  # REACH_FOLLOWERS_IN_WINDOW: how recent the person's last message must be
    per_window: int = 0  # REACH_FOLLOWERS_IN_WINDOW: messages the account may send in one window

    @property
    def daily_quota(self) -> int | None:
        """Messages per account and day the channel's provider allows (None: no fixed quota)."""
        return ct.type_for(self.channel).daily_quota

    def cost(self, segments: int) -> int:
        return self.price * max(segments, 1) if self.per_segment else self.price


CHANNELS: dict[str, ChannelReach] = {
    CHANNEL_INAPP: ChannelReach(CHANNEL_INAPP, REACH_FOLLOWERS),
    # Zalo OA consultation messages: free, within 7 days of the follower's last message, 8 per window.
    CHANNEL_ZALO: ChannelReach(CHANNEL_ZALO, REACH_FOLLOWERS_IN_WINDOW, window_hours=168, per_window=8),
    # ZNS: a template approved by Zalo to any Vietnamese phone with Zalo; priced per message.
    CHANNEL_ZNS: ChannelReach(CHANNEL_ZNS, REACH_VN_PHONE, price=300),
    # WeChat customer-service messages: within 48 hours of the follower's last message.
    CHANNEL_WECHAT: ChannelReach(CHANNEL_WECHAT, REACH_FOLLOWERS_IN_WINDOW, window_hours=48, per_window=5),
    CHANNEL_SMS: ChannelReach(CHANNEL_SMS, REACH_ANY_PHONE, price=800, per_segment=True),
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


def daily_limit(reach: ChannelReach, caps: dict[str, int]) -> int | None:
    """The smaller of the channel's own quota and the account's cap (None: unlimited)."""
    limits = [n for n in (reach.daily_quota, caps.get(reach.channel)) if n is not None]
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
) -> Choice:
    """The first channel of ``order`` that is ``available`` (configured for the account), not excluded (tried
    already), can reach the recipient and is within its daily limit. ``used_today`` is what was planned or sent
    on each channel today; the caller adds the choice to it when planning a list."""
    caps = caps or {}
    reasons = []
    for name in order or DEFAULT_ORDER:
        reach = channels.get(name)
        if reach is None or name in exclude or name not in available:
            continue
        if not can_reach(reach, recipient, now=now):
            continue
        limit = daily_limit(reach, caps)
        if limit is not None and used_today.get(name, 0) >= limit:
            reasons.append(f"{name}: daily limit {limit} reached")
            continue
        return Choice(name, reach.cost(segments))
    return Choice(None, 0, "; ".join(reasons) or "no configured channel reaches this person")
