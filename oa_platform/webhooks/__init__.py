"""Inbound provider webhooks: one view (views.webhook) for every channel type that receives.

The channel type verifies the signature before anything else is read and parses the event; the view stores it
once (WebhookEvent's unique dedup key makes a provider's retry a no-op) and enqueues it for
``oa_platform.conversations.inbound``.
"""
