"""Conversations: what every channel shares about a citizen's conversation with an account.

- ``text``: cleaning a citizen's text, the reply language, the conversation row;
- ``inbound``: a stored inbound event (verified and parsed by its channel type) -> follow / unfollow / the chat
  engine; WeChat's inline passive reply;
- ``outbox``: outbound messages (chat, staff and hand-off replies) queued after commit and sent through their
  channel type (oa_platform.channel_types), retried with back-off.
"""
