"""Issue 14: the console's Today and Inbox pages in Vietnamese show none of Django's English strings (the list
and the checker of test_admin_vi_strings), nor the raw codes or English labels of statuses and channels."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from broadcasts.models import Delivery, Notice
from oa_platform.models import Conversation, Message
from tests import factories
from tests.oa_platform.test_admin_vi_strings import VisibleText, english_on, vietnamese_client

pytestmark = pytest.mark.django_db

# Our own words that must not reach a Vietnamese page: English labels and raw codes shown as labels.
OWN_ENGLISH = ("waiting for staff", "with staff", "web chat", "Citizen via", "Waiting", "answer rate", "min")


def own_english(response) -> list[str]:
    parser = VisibleText()
    parser.feed(response.content.decode())
    text = " | ".join(parser.chunks)
    found = [w for w in OWN_ENGLISH if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.IGNORECASE)]
    # a status pill that shows its code
    found += re.findall(r'class="pill (?:waiting|open|bot)">(?:waiting|open|bot)<', response.content.decode())
    return found


def test_today_and_inbox_pages_in_vietnamese(tenant_a):
    account = tenant_a.account
    # given work in every block: conversations in each state, notices to approve and sending
    states = []
    for status, assigned in (("waiting", None), ("open", tenant_a.manager), ("bot", None)):
        citizen = factories.make_follower(account)
        c = Conversation.objects.create(account=account, citizen=citizen, status=status, assigned_to=assigned)
        Message.objects.create(conversation=c, direction="in", text="Xin hỏi")
        Message.objects.create(conversation=c, direction="out", sender="staff", text="Chào", author=tenant_a.manager)
        states.append(c)
    Notice.objects.create(
        account=account, category="general", title_vi="Chờ duyệt", body_vi="…", status="pending_approval"
    )
    sending = Notice.objects.create(
        account=account, category="general", title_vi="Đang gửi", body_vi="…", status="sending"
    )
    Delivery.objects.create(notice=sending, citizen=states[0].citizen, channel="inapp", created_at=sending.created_at)
    client = vietnamese_client(tenant_a.manager)
    urls = [reverse("staff:today", args=[account.slug])]
    urls += [
        reverse("staff:inbox", args=[account.slug]) + f"?f={f}" for f in ("all", "waiting", "mine", "open", "closed")
    ]
    urls += [reverse("staff:conversation", args=[account.slug, c.pk]) for c in states]
    pages = {url: client.get(url) for url in urls}
    assert all(r.status_code == 200 for r in pages.values()), {u: r.status_code for u, r in pages.items()}
    # the pages really show the work (so the check reads real content)
    assert "Chờ duyệt" in pages[urls[0]].content.decode() and "<progress" in pages[urls[0]].content.decode()
    found = {url: english_on(r) + own_english(r) for url, r in pages.items()}
    assert not {url: f for url, f in found.items() if f}


def test_the_check_sees_english_labels():
    class Page:
        content = b'<span class="pill waiting">waiting</span><p>Citizen via Web</p><button>Delete</button>'

    assert own_english(Page) == ["Citizen via", "Waiting", 'class="pill waiting">waiting<']
    assert english_on(Page) == ["'Delete' in 'Delete'"]
