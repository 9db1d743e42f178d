"""The citizen's web chat page (and its in-app inbox for notices). Nothing leaves over HTTP: a chat reply is
stored and pushed to the open page (oa_platform.live), a notice is in the inbox once its delivery is marked
sent (broadcasts marks a whole chunk with one UPDATE). ``send`` therefore only reports SENT."""

from __future__ import annotations

from oa_platform.channel_types.base import REACH_FOLLOWERS, SENT, ChannelType, Message, Recipient, SendResult


class WebType(ChannelType):
    kind = "web"
    label = "web chat / in-app"
    max_length = 4000  # the chat API's limit on a message
    max_tps = 10_000.0  # no provider: bounded by the database
    config_fields = ()
    reaches = REACH_FOLLOWERS

    def send(self, config, recipient: Recipient, message: Message, *, once: bool = True) -> SendResult:
        return SendResult(SENT, attempts=0)


TYPE = WebType()
