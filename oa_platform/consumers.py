"""The citizen's live chat socket at /ws/oa/<slug>/.

Protocol (JSON text frames):
  client -> server  {"type": "message", "text": "...", "ref"?: any}
                    {"type": "sync", "after_message": id|null, "after_notice": id|null}
  server -> client  {"type": "reply", "message": {...inbound...}, "reply": {contract incl. message_id}|null, "ref"?}
                    {"type": "messages", "messages": [...], "more": bool}
                    {"type": "notices", "notices": [...]}           (answer to a sync)
                    {"type": "notice", "notice": {...}}              (live, in the citizen's language)
                    {"type": "error", "code": "...", "message": "...", "retry_after"?: seconds}
Close codes: 4401 no or bad ``oa_cid`` cookie (load the page first), 4404 unknown account, 1009 frame over
settings.WS_MAX_FRAME, 1003 binary frame. The Origin is checked by AllowedHostsOriginValidator in asgi.py.
"""

from __future__ import annotations

import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation

from oa_platform import live, web_identity, web_state
from oa_platform.conversations.engine import chat_rate_check, chat_receive
from oa_platform.conversations.text import clean_text, supported_language
from oa_platform.errors import DomainError, RateLimited
from oa_platform.models import Citizen
from oa_platform.selectors import account_by_slug
from oa_platform.services import citizen_get_or_create

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_BIG = 1009
CLOSE_UNSUPPORTED = 1003


def _broadcasts_live():
    """broadcasts.live (citizen_snapshot, notice_for), or None until the broadcasts app provides it."""
    try:
        from broadcasts import live as broadcasts_live
    except ImportError:
        return None
    if not hasattr(broadcasts_live, "citizen_snapshot") or not hasattr(broadcasts_live, "notice_for"):
        return None
    return broadcasts_live


def _optional_id(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("not an id")
    return value


class CitizenChatConsumer(AsyncWebsocketConsumer):
    account = None
    citizen: Citizen | None = None
    cid: str | None = None
    language = "vi"  # the page's language (set on connect)
    snapshot: dict | None = None
    last_message_id = 0
    closed = False

    # --- lifecycle  ---
    async def connect(self):
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.account = await database_sync_to_async(account_by_slug)(slug)
        if self.account is None:
            return await self._refuse(CLOSE_NOT_FOUND)
        cookies = self.scope.get("cookies", {})
        self.cid = web_identity.cid_from_cookie_value(cookies.get(web_identity.COOKIE_NAME))
        if self.cid is None:
            return await self._refuse(CLOSE_UNAUTHORIZED)
        # The page's language, as locale_middleware chose it: the citizen's choice, else the account's.
        self.language = supported_language(cookies.get(settings.LANGUAGE_COOKIE_NAME)) or self.account.default_language
        await self._join(live.account_group(self.account.pk))
        # The citizen row may not exist yet (created on the first write); then it is looked up again later.
        await self._load_citizen()
        # Accept only once the groups and the notice filter are in place, so nothing sent after is missed.
        await self.accept()

    async def _refuse(self, code: int):
        # Accept, then close: a refused handshake reaches the browser only as 1006, a close keeps our code.
        await self.accept()
        await self._close(code)

    async def disconnect(self, code):
        self.closed = True

    async def _close(self, code: int):
        self.closed = True
        await self.close(code=code)

    async def _join(self, group: str):
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)

    async def _load_citizen(self, *, create: bool = False):
        if self.citizen is None:
            self.citizen = await database_sync_to_async(self._citizen_row)(create)
            if self.citizen is None:
                return
            await self._join(live.citizen_group(self.account.pk, self.citizen.pk))
            self.last_message_id = await database_sync_to_async(web_state.last_message_id)(
                account=self.account, citizen=self.citizen
            )
        await self._load_snapshot()

    def _citizen_row(self, create: bool) -> Citizen | None:
        if not create:
            return web_identity.citizen_lookup(self.cid)
        citizen, _created = citizen_get_or_create(
            account=None, channel=Citizen.CHANNEL_WEB, external_id=self.cid, language=self.language
        )
        return citizen

    async def _load_snapshot(self):
        module = _broadcasts_live()
        if module is None or self.citizen is None:
            self.snapshot = None
            return
        self.snapshot = await database_sync_to_async(module.citizen_snapshot)(
            account_id=self.account.pk, citizen_id=self.citizen.pk
        )

    # --- frames from the browser  ---
    async def receive(self, text_data=None, bytes_data=None):
        if self.closed:
            return
        if text_data is None:
            return await self._close(CLOSE_UNSUPPORTED)
        if len(text_data.encode("utf-8")) > settings.WS_MAX_FRAME:
            return await self._close(CLOSE_TOO_BIG)
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested too deep
            return await self._error("malformed_json", "Malformed JSON.")
        if not isinstance(content, dict):
            return await self._error("malformed_json", "A frame must be a JSON object.")
        kind = content.get("type")
        try:
            if kind == "message":
                await self._on_message(content)
            elif kind == "sync":
                await self._on_sync(content)
            else:
                await self._error("unknown_type", "Unknown frame type.")
        except DomainError as exc:
            extra = {"retry_after": exc.retry_after} if isinstance(exc, RateLimited) else {}
            await self._error(exc.code, str(exc.message), ref=content.get("ref"), **extra)

    async def _on_message(self, content: dict):
        ip = (self.scope.get("client") or ("", 0))[0] or ""
        await database_sync_to_async(self._rate_limit)(ip)
        if self.citizen is None:
            # Validate before creating the citizen so a bad first frame stores nothing.
            clean_text(content.get("text"))
            await self._load_citizen(create=True)
        outcome = await database_sync_to_async(self._chat)(content.get("text"))
        reply = outcome.payload
        ids = [outcome.inbound.pk] + ([outcome.reply.pk] if outcome.reply is not None else [])
        self.last_message_id = max(self.last_message_id, *ids)
        frame = {"type": "reply", "message": web_state.message_json(outcome.inbound), "reply": reply}
        if reply is None:
            frame["conversation"] = {"status": outcome.status}
        if content.get("ref") is not None:
            frame["ref"] = content["ref"]
        await self._send(frame)

    def _rate_limit(self, ip: str):
        chat_rate_check(ip=ip, citizen_key=f"{self.account.pk}:{self.cid}")

    def _chat(self, text):
        outcome = chat_receive(account=self.account, citizen=self.citizen, text=text, language=self.language)
        outcome.status = outcome.inbound.conversation.status
        return outcome

    async def _on_sync(self, content: dict):
        try:
            after_message = _optional_id(content.get("after_message"))
            after_notice = _optional_id(content.get("after_notice"))
        except ValueError:
            return await self._error("invalid", "after_message and after_notice must be ids or null.")
        # A sync also picks up a citizen created meanwhile by the page (follow, settings) and fresh settings.
        await self._load_citizen()
        messages = await database_sync_to_async(self._messages_after)(after_message)
        if messages:
            self.last_message_id = max(self.last_message_id, messages[-1]["id"])
        await self._send({"type": "messages", "messages": messages, "more": len(messages) >= web_state.SYNC_LIMIT})
        notices = await database_sync_to_async(self._inbox)(after_notice)
        await self._send({"type": "notices", "notices": notices})

    def _messages_after(self, after_id: int | None) -> list[dict]:
        limit = web_state.SYNC_LIMIT if after_id is not None else web_state.HISTORY_LIMIT
        rows = web_state.messages_for(account=self.account, citizen=self.citizen, after_id=after_id, limit=limit)
        return [web_state.message_json(m) for m in rows]

    def _inbox(self, after_id: int | None) -> list[dict]:
        language = self.citizen.language if self.citizen is not None else None
        with translation.override(language or self.account.default_language):
            return web_state.inbox(account=self.account, citizen=self.citizen, after_id=after_id)

    # --- events from the channel layer  ---
    async def conversation_changed(self, event):
        """New messages in this citizen's conversation (e.g. a staff reply): push what this socket lacks."""
        if self.closed or self.citizen is None:
            return
        messages = await database_sync_to_async(self._messages_after)(self.last_message_id)
        if messages:
            self.last_message_id = messages[-1]["id"]
            await self._send({"type": "messages", "messages": messages, "more": False})

    async def notice_push(self, event):
        """One event per broadcast for the whole account or topic group; forward it only if it targets us."""
        module = _broadcasts_live()
        if self.closed or module is None or self.snapshot is None:
            return
        notice = module.notice_for(self.snapshot, event)
        if notice is not None:
            await self._send({"type": "notice", "notice": notice})

    async def citizen_refresh(self, event):
        if not self.closed:
            await self._load_citizen()

    # --- sending  ---
    async def _send(self, frame: dict):
        await self.send(text_data=json.dumps(frame, default=str))

    async def _error(self, code: str, message: str, ref=None, **extra):
        frame = {"type": "error", "code": code, "message": message, **extra}
        if ref is not None:
            frame["ref"] = ref
        await self._send(frame)
