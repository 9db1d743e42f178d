"""Live staff inbox at /ws/staff/<slug>/: tells the page which conversation changed; the page then fetches
it over HTTP (scoped by the same checks as the inbox views). Only staff of the account may connect."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from oa_platform import live
from oa_platform.initial_password import initial_password_pending
from oa_platform.selectors import accounts_for_user

CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _account_id(user, slug: str) -> int | None:
    if initial_password_pending(user):  # must choose their own password first (as on the staff pages)
        return None
    account = accounts_for_user(user).filter(slug=slug).only("pk").first()
    return account.pk if account else None


class StaffInboxConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        slug = self.scope["url_route"]["kwargs"]["slug"]
        account_id = await _account_id(user, slug) if user is not None else None
        if account_id is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = live.staff_group(account_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The inbox socket only pushes; staff actions go through the HTTP views (CSRF-protected, audited).
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def conversation_changed(self, event):
        await self.send_json({"type": "conversation.changed", "conversation_id": event["conversation_id"]})
