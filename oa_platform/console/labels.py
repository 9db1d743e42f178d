"""What staff read about a conversation: the citizen's name (never an opaque channel id), the channel, the
status, the time, and which buttons the conversation's state allows. One place for the page, the JSON the
live refresh reads and the Today page."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oa_platform.models import Citizen, Conversation, Message, OfficialAccount

STATUS_LABELS = {
    Conversation.STATUS_WAITING: gettext_lazy("Đang chờ cán bộ"),
    Conversation.STATUS_OPEN: gettext_lazy("Cán bộ đang xử lý"),
    Conversation.STATUS_BOT: gettext_lazy("Đã kết thúc"),
}
CHANNEL_LABELS = {
    Citizen.CHANNEL_WEB: gettext_lazy("Web"),
    Citizen.CHANNEL_ZALO: "Zalo",
    Citizen.CHANNEL_WECHAT: "WeChat",
    Citizen.CHANNEL_GENERIC: gettext_lazy("Ứng dụng riêng"),
}
DELIVERY_LABELS = {
    Message.DELIVERY_QUEUED: gettext_lazy("đang chờ gửi lại"),
    Message.DELIVERY_FAILED: gettext_lazy("gửi không được"),
}
# Characters of the last message shown in the list.
PREVIEW_CHARS = 90


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def citizen_label(citizen: Citizen) -> str:
    """The citizen's display name, else "Citizen via <channel> · <4 characters>": the characters come from a
    hash of the channel id, so two nameless citizens differ while the id itself is never shown."""
    if citizen.display_name.strip():
        return citizen.display_name.strip()
    code = hashlib.sha256(f"{citizen.channel}:{citizen.external_id}".encode()).hexdigest()[-4:]
    return _("Công dân qua %(channel)s · %(code)s") % {"channel": channel_label(citizen.channel), "code": code}


def sender_label(message: Message) -> str:
    if message.sender == Message.SENDER_STAFF:
        return message.author.get_username() if message.author else _("Cán bộ")
    return {
        Message.SENDER_CITIZEN: _("Công dân"),
        Message.SENDER_BOT: _("Trợ lý tự động"),
    }.get(message.sender, _("Hệ thống"))


def local_time(value: dt.datetime | None, account: OfficialAccount, *, now: dt.datetime | None = None) -> str:
    """Day-first 24-hour time in the account's zone: "16:30" today, "03/12 16:30" this year, else
    "03/12/2025 16:30" (Chinese: year first). The page names the zone once (``zone_name``)."""
    if value is None:
        return ""
    tz = account.tzinfo
    local = value.astimezone(tz)
    today = (now or timezone.now()).astimezone(tz).date()
    chinese = (translation.get_language() or "").startswith("zh")
    if local.date() == today:
        return f"{local:%H:%M}"
    if local.year == today.year:
        return f"{local:%m/%d %H:%M}" if chinese else f"{local:%d/%m %H:%M}"
    return f"{local:%Y/%m/%d %H:%M}" if chinese else f"{local:%d/%m/%Y %H:%M}"


def zone_name(account: OfficialAccount, *, now: dt.datetime | None = None) -> str:
    """The account's zone as staff read it: "Asia/Ho_Chi_Minh (UTC+07:00)"."""
    offset = (now or timezone.now()).astimezone(account.tzinfo).strftime("%z")
    return f"{account.timezone} (UTC{offset[:3]}:{offset[3:]})"


def waited(since: dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    """How long since ``since``, short: "dưới 1 phút", "45 phút", "3 giờ 5 phút", "2 ngày"."""
    if since is None:
        return ""
    minutes = max(int(((now or timezone.now()) - since).total_seconds() // 60), 0)
    if minutes < 1:
        return _("dưới 1 phút")
    if minutes < 60:
        return _("%(n)d phút") % {"n": minutes}
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d giờ %(m)d phút") % {"h": hours, "m": rest}
    return _("%(n)d ngày") % {"n": hours // 24}


def conversation_actions(conversation: Conversation, user) -> dict[str, bool]:
    """Which buttons the state allows: take it (not already mine), reply and close (while with staff),
    reopen (after it went back to the bot). The page and the live refresh both follow this."""
    with_staff = conversation.status in (Conversation.STATUS_WAITING, Conversation.STATUS_OPEN)
    mine = conversation.status == Conversation.STATUS_OPEN and conversation.assigned_to_id == user.pk
    return {
        "assign": with_staff and not mine,
        "reply": with_staff,
        "close": with_staff,
        "reopen": not with_staff,
    }
