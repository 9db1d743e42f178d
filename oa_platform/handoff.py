"""Hand-off of a conversation from the bot to a person."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from oa_platform.models import Citizen, Conversation, OfficialAccount


def handoff_request(*, account: OfficialAccount, citizen: Citizen) -> str:
    """Put the conversation in the staff queue; return the text that tells the citizen what happens next."""
    Conversation.objects.filter(account=account, citizen=citizen, status=Conversation.STATUS_BOT).update(
        status=Conversation.STATUS_WAITING, handoff_requested_at=timezone.now()
    )
    return _("Đã chuyển cuộc trò chuyện tới cán bộ. Cán bộ sẽ trả lời bạn tại đây.")
