"""Which adapter sends a delivery of a given channel.

Two kinds of entries, both filled by the adapters themselves, so this module imports none of them:
- ``register_adapter("zalo", adapter)``: a ready adapter for a citizen channel (the Zalo OA / WeChat adapters of
  the webhooks app, registered at start-up by oa_platform.apps). Deliveries to citizens of those channels use
  them when registered, otherwise the in-app inbox.
- ``register_provider("sms", SmsAdapter)``: the adapter class of an HTTP provider kind (ProviderConfig.kind),
  built per account from its enabled ProviderConfig. The provider modules register at import;
  broadcasts.apps imports them at start-up.
"""

from __future__ import annotations

from broadcasts.models import ProviderConfig
from broadcasts.providers.base import ChannelAdapter

_REGISTRY: dict[str, ChannelAdapter] = {}
_PROVIDERS: dict[str, type] = {}


def register_adapter(channel: str, adapter: ChannelAdapter) -> None:
    """Register the adapter for a citizen channel (e.g. "zalo", "wechat")."""
    _REGISTRY[channel] = adapter


def unregister_adapter(channel: str) -> None:
    _REGISTRY.pop(channel, None)


def registered_channels() -> set[str]:
    return set(_REGISTRY)


def register_provider(kind: str, adapter_class: type) -> None:
    """Register the adapter class of a ProviderConfig kind; it is built with ``adapter_class(config)``."""
    if kind not in dict(ProviderConfig.KIND_CHOICES):
        raise ValueError(f"{kind!r} is not a ProviderConfig kind")
    _PROVIDERS[kind] = adapter_class


def adapter_for(channel: str, *, account) -> ChannelAdapter | None:
    """The adapter of a delivery channel: a registered one, or the account's HTTP provider of that kind
    (None when the account has no enabled configuration of that kind)."""
    if channel in _REGISTRY:
        return _REGISTRY[channel]
    if channel in dict(ProviderConfig.KIND_CHOICES):
        config = ProviderConfig.objects.filter(account=account, kind=channel, is_enabled=True).first()
        if config is None:
            return None
        if channel not in _PROVIDERS:
            # A configured provider whose module was never imported: fail loudly rather than not send.
            raise LookupError(f"no adapter registered for provider kind {channel!r} (see broadcasts.apps)")
        return _PROVIDERS[channel](config)
    return None
