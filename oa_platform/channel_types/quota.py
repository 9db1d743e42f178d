"""A channel type's daily quota, enforced: a counter per (account, kind, day of the account's time zone) in the
one limiter (oa_platform.ratelimit: Redis, or process-local without Redis), reset at the account's midnight.

``registry.send`` counts every send against it before posting and gives the count back when the provider did
not take the message (only messages the provider accepted use the quota). A send past the quota is not posted:
it is RETRY with ``retry_after`` = the seconds until the account's next midnight (a notice's chunk waits until
then, or until the notice expires; a chat reply stays in the outbox)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from oa_platform import ratelimit
from oa_platform.channel_types.base import RETRY, ChannelType, SendResult

QUOTA_REACHED = "daily quota reached"


def daily_quota(channel_type: ChannelType, config) -> int | None:
    """The quota in force: the configuration's own (a provider raised it for this account), else the type's."""
    return getattr(config, "daily_quota", None) or channel_type.daily_quota


def next_local_midnight(tzinfo, now: dt.datetime) -> dt.datetime:
    local = now.astimezone(tzinfo)
    return dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=tzinfo)


@dataclass(frozen=True)
class Counted:
    key: str  # the counter a send was counted in ("" when the kind has no quota)

    def give_back(self, result: SendResult) -> None:
        """Give the count back unless the provider took the message."""
        if self.key and not result.sent:
            ratelimit.count_down(self.key)


def quota_take(channel_type: ChannelType, config, account) -> Counted | SendResult:
    """Count one send of ``account`` on ``channel_type``; a RETRY SendResult when today's quota is spent."""
    limit = daily_quota(channel_type, config)
    if not limit:
        return Counted("")
    if account is None:
        account = config.account
    now = timezone.now()
    tzinfo = account.tzinfo
    midnight = next_local_midnight(tzinfo, now)
    key = f"quota:{account.pk}:{channel_type.kind}:{now.astimezone(tzinfo).date().isoformat()}"
    if not ratelimit.count_up(key, limit=limit, resets_at=midnight.timestamp()):
        wait = max(1.0, (midnight - now).total_seconds())
        return SendResult(RETRY, QUOTA_REACHED, attempts=0, retry_after=wait)
    return Counted(key)
