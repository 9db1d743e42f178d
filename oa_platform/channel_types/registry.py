"""kind -> channel type, and the one way to send: ``send(kind, account, recipient, message) -> SendResult``.

The registry imports every type module itself (a fixed table, nothing registers at start-up), so a Zalo notice
goes out through Zalo in any process that imports it: no ``apps.ready`` wiring to forget.
"""

from __future__ import annotations

from oa_platform.channel_types import generic, sms, web, wechat, zalo, zns
from oa_platform.channel_types.base import FAILED, ChannelType, Message, Recipient, SendResult
from oa_platform.models import ChannelConfig

TYPES: dict[str, ChannelType] = {
    t.kind: t for t in (web.TYPE, zalo.TYPE, zns.TYPE, wechat.TYPE, generic.TYPE, generic.WEBHOOK_TYPE, sms.TYPE)
}
# Other names of a kind: a notice's in-app delivery channel is the web type.
ALIASES = {"inapp": "web"}
# Kinds that need no configuration row to send.
UNCONFIGURED = {"web"}


def type_for(kind: str) -> ChannelType:
    """The channel type of ``kind``; LookupError for a kind nobody implements."""
    try:
        return TYPES[ALIASES.get(kind, kind)]
    except KeyError:
        raise LookupError(f"no channel type {kind!r}") from None


def receiving_kinds() -> list[str]:
    """Kinds with an inbound webhook."""
    return [kind for kind, t in TYPES.items() if hasattr(t, "receive")]


def config_for(account, kind: str, *, enabled_only: bool = True):
    """The account's configuration of ``kind`` (None when there is none, or it is disabled)."""
    kind = ALIASES.get(kind, kind)
    rows = ChannelConfig.objects.filter(account=account, kind=kind)
    if enabled_only:
        rows = rows.filter(is_enabled=True)
    return rows.first()


def configured_kinds(account_id: int) -> set[str]:
    """The kinds the account has an enabled configuration of."""
    return set(ChannelConfig.objects.filter(account_id=account_id, is_enabled=True).values_list("kind", flat=True))


def send(kind: str, account, recipient: Recipient, message: Message, *, config=None, once: bool | None = None):
    """Send ``message`` to ``recipient`` through the account's ``kind`` channel. Never raises for a provider's
    answer: every outcome is a SendResult (sent / retry after a delay / failed / unreachable).

    ``config``: an already loaded configuration (the account's enabled one is loaded otherwise).
    ``once``: one HTTP attempt (chat replies: the outbox retries later) instead of the configuration's
    ``max_attempts`` in the worker (notices); each type has its default."""
    channel_type = type_for(kind)
    if config is None and channel_type.kind not in UNCONFIGURED:
        config = config_for(account, channel_type.kind)
        if config is None:
            return SendResult(FAILED, f"{channel_type.kind} channel not configured", attempts=0)
    if once is None:
        return channel_type.send(config, recipient, message)
    return channel_type.send(config, recipient, message, once=once)
