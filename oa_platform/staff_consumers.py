"""Live staff inbox at /ws/staff/<slug>/: tells the page which conversation changed; the page then fetches
it over HTTP (scoped by the same checks as the inbox views). Only staff of the account may connect, and only
while they stay so: access is checked again before every push and frame, and at once when it is taken away
(staff_access)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

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


@database_sync_to_async
def _still_member(user_id: int, account_id: int) -> bool:
    """Whether the user, as stored now (not as the socket's scope remembers them), still works in the account."""
    user = get_user_model().objects.filter(pk=user_id).first()
    return user is not None and accounts_for_user(user).filter(pk=account_id).exists()


class StaffInboxConsumer(AsyncJsonWebsocketConsumer):
    account_id: int | None = None
    user_id: int | None = None

    async def connect(self):
        user = self.scope.get("user")
        slug = self.scope["url_route"]["kwargs"]["slug"]
        account_id = await _account_id(user, slug) if user is not None else None
        if account_id is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.account_id, self.user_id = account_id, user.pk
        # left again by Channels' websocket_disconnect, which discards self.groups
        self.groups = [live.staff_group(account_id), live.staff_user_group(user.pk)]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def _allowed(self) -> bool:
        """Still staff of the account; otherwise the socket is closed (4403) and False returned."""
        if self.account_id is not None and await _still_member(self.user_id, self.account_id):
            return True
        self.account_id = None
        await self.close(code=CLOSE_FORBIDDEN)
        return False

    async def receive_json(self, content, **kwargs):
        # The inbox socket only pushes; staff actions go through the HTTP views (CSRF-protected, audited).
        if not await self._allowed():
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def conversation_changed(self, event):
        if await self._allowed():
            await self.send_json({"type": "conversation.changed", "conversation_id": event["conversation_id"]})

    async def staff_recheck(self, event):
        """The user lost staff rights or a membership (staff_access): close if this account went with it."""
        await self._allowed()
