"""Inbound provider webhooks (Zalo OA, WeChat OA, generic JSON) and outbound senders for those channels.

Every webhook verifies its signature before it reads anything else, stores the event once (WebhookEvent's
unique dedup key makes a provider's retry a no-op) and hands the citizen's text to ``oa_platform.chat``.
"""
