"""One builder per console URL (``staff:<name>``): ``URL_BUILDERS[name](account)`` creates what the URL points
at inside ``account`` and returns the URL's keyword arguments. test_isolation.py discovers every ``staff:`` URL
from the resolver and fails loudly for one without a builder here.

When you add a console URL, add its builder (in this file, or in a module of your section that registers with
``@url_builder``, imported at the bottom of this file). Build rows the page really shows, so the test also
proves the owner's page works."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
from collections.abc import Callable
from pathlib import Path

from oa_platform.models import Conversation, Message, OfficialAccount, SavedReply
from tests import factories

_seq = itertools.count(1)

UrlBuilder = Callable[[OfficialAccount], dict]
URL_BUILDERS: dict[str, UrlBuilder] = {}
# URLs that name no account: they list only the person's own accounts (tested in test_shell.py).
ACCOUNTLESS = {"staff:home"}


def url_builder(*names: str):
    def register(func: UrlBuilder) -> UrlBuilder:
        for name in names:
            URL_BUILDERS[name] = func
        return func

    return register


def conversation_of(account: OfficialAccount) -> Conversation:
    citizen = factories.make_follower(account, display_name=f"Công dân {account.slug} {next(_seq)}", phone="0912345678")
    conversation = Conversation.objects.create(
        account=account, citizen=citizen, status=Conversation.STATUS_WAITING, assigned_to=None
    )
    Message.objects.create(conversation=conversation, direction=Message.DIRECTION_IN, text=f"hỏi {account.slug}")
    return conversation


@url_builder("staff:inbox", "staff:conversations-json", "staff:saved-reply-add")
def account_only(account):
    return {"slug": account.slug}


@url_builder("staff:conversation", "staff:messages-json", "staff:assign", "staff:reply", "staff:close")
def a_conversation(account):
    return {"slug": account.slug, "pk": conversation_of(account).pk}


@url_builder("staff:retry")
def an_outbound_message(account):
    conversation = conversation_of(account)
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.DIRECTION_OUT,
        sender=Message.SENDER_STAFF,
        text="trả lời",
        delivery_status=Message.DELIVERY_FAILED,
        delivery_attempts=1,
    )
    return {"slug": account.slug, "pk": message.pk}


@url_builder("staff:saved-reply-delete")
def a_saved_reply(account):
    reply = SavedReply.objects.create(account=account, title=f"mẫu {next(_seq)}", text="Xin chào")
    return {"slug": account.slug, "pk": reply.pk}


# Every section's builders register themselves: import each builders_<section>.py of this folder.
for _module in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if _module.name.startswith("builders_"):
        importlib.import_module(f"{__package__}.{_module.name}")
