"""Conversations: what every channel shares about a citizen's conversation with an account.

Issue 13 grows this package step by step (engine, hand-off, inbound events); for now it holds the lowest
layers, which the chat engine, the hand-off and the webhook processing all import and which import none of
them: ``text`` (cleaning, reply language, the conversation row) and ``outbox`` (sending outbound messages).
"""
