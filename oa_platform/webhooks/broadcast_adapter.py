"""Notices to Zalo and WeChat followers: the broadcasts app's channel adapter for those citizen channels.

Registered at start-up (oa_platform.apps) with ``broadcasts.providers.registry.register_adapter``; the fan-out
then delivers to Zalo/WeChat citizens through the same send APIs as chat replies, instead of only the
in-app inbox.
"""

from __future__ import annotations

from oa_platform.models import ChannelConfig, Citizen
from oa_platform.webhooks import senders

# A provider that failed for a whole batch is asked again after this long (the fan-out defers the chunk).
RETRY_AFTER_S = 60.0
CHANNELS = (Citizen.CHANNEL_ZALO, Citizen.CHANNEL_WECHAT)


def notice_text(message) -> str:
    parts = [message.title.strip(), message.body.strip(), (message.link or "").strip()]
    return "\n\n".join(p for p in parts if p)


class ChatChannelAdapter:
    """Sends each notice as a text message to the citizen on Zalo OA or WeChat OA."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, messages: list) -> list:
        # Inside the functions: the core does not import the broadcasts app at module level (this bridge goes
        # when both send through one channel layer, issue 13).
        from broadcasts.models import Delivery
        from broadcasts.providers.base import SendResult

        configs: dict[int, ChannelConfig | None] = {}
        results = []
        for message in messages:
            if message.account_id not in configs:
                configs[message.account_id] = ChannelConfig.objects.filter(
                    account_id=message.account_id, kind=self.channel, is_enabled=True
                ).first()
            config = configs[message.account_id]
            if config is None:
                results.append(SendResult(message.delivery_id, Delivery.STATUS_FAILED, error="channel not configured"))
                continue
            citizen = Citizen(channel=self.channel, external_id=message.external_id)
            outcome = senders.send_text(config=config, citizen=citizen, text=notice_text(message))
            if outcome.status == senders.RESULT_SENT:
                results.append(
                    SendResult(message.delivery_id, Delivery.STATUS_SENT, provider_message_id=outcome.provider_id)
                )
            elif outcome.status == senders.RESULT_RETRY:
                results.append(SendResult(message.delivery_id, "retry", error=outcome.error, retry_after=RETRY_AFTER_S))
            else:
                results.append(SendResult(message.delivery_id, Delivery.STATUS_FAILED, error=outcome.error))
        return results


def register() -> None:
    from broadcasts.providers.registry import register_adapter  # inside: see send()

    for channel in CHANNELS:
        register_adapter(channel, ChatChannelAdapter(channel))
