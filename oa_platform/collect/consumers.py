"""Live results at /ws/staff/<slug>/forms/<id>/: tells the console page that answers arrived to the form's
current round; the page then fetches the results block over HTTP (scoped like the page). Only editors and
managers of the account may connect, checked again before every push (as the staff inbox socket does)."""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

from oa_platform.collect.models import Form
from oa_platform.collect.services import current_round, live_group
from oa_platform.console.access import EDITORS, role_allows
from oa_platform.initial_password import initial_password_pending
from oa_platform.selectors import accounts_for_user, user_role

CLOSE_FORBIDDEN = 4403
# At most one push per this many seconds, however fast answers arrive (a burst of thousands a second would
# otherwise make every open page re-read its results thousands of times); the last push of a burst is sent.
PUSH_EVERY_S = 0.5


@database_sync_to_async
def _allowed_round(user, slug: str, form_id: int) -> int | None:
    """The current round of the form when ``user`` may see its results (editor or manager of its account)."""
    if user is None or not getattr(user, "is_authenticated", False) or initial_password_pending(user):
        return None
    account = accounts_for_user(user).filter(slug=slug).first()
    if account is None or not role_allows(user_role(user, account), EDITORS):
        return None
    form = Form.objects.filter(account=account, pk=form_id).first()
    round_ = current_round(form) if form is not None else None
    return round_.pk if round_ is not None else None


@database_sync_to_async
def _still_allowed(user_id: int, slug: str) -> bool:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return False
    account = accounts_for_user(user).filter(slug=slug).first()
    return account is not None and role_allows(user_role(user, account), EDITORS)


class FormResultsConsumer(AsyncJsonWebsocketConsumer):
    user_id: int | None = None
    slug: str = ""
    _pending: asyncio.Task | None = None

    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        user = self.scope.get("user")
        round_id = await _allowed_round(user, kwargs["slug"], kwargs["pk"])
        if round_id is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user_id, self.slug = user.pk, kwargs["slug"]
        self.groups = [live_group(round_id)]  # left again by Channels' websocket_disconnect
        await self.channel_layer.group_add(self.groups[0], self.channel_name)
        await self.accept()

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping" and await self._allowed():
            await self.send_json({"type": "pong"})

    async def _allowed(self) -> bool:
        if self.user_id is not None and await _still_allowed(self.user_id, self.slug):
            return True
        self.user_id = None
        await self.close(code=CLOSE_FORBIDDEN)
        return False

    async def collect_changed(self, event):
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(self._push_soon())

    async def _push_soon(self):
        await asyncio.sleep(PUSH_EVERY_S)
        if await self._allowed():
            await self.send_json({"type": "results.changed"})

    async def disconnect(self, code):
        if self._pending is not None:
            self._pending.cancel()
