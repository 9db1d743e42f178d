"""Issue 14: the console's notice pages in Vietnamese show none of Django's untranslated English strings (the
list of tests/oa_platform/test_admin_vi_strings.py), no English form errors, and no raw codes (statuses,
severities, channels, topic keys) where a translated label belongs. Every page is checked, error states too."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from broadcasts import services
from broadcasts.fanout import notice_dispatch_one
from tests import factories
from tests.oa_platform.test_admin_vi_strings import VisibleText, english_on, vietnamese_client

pytestmark = pytest.mark.django_db

# Django's form and model messages, and the codes the console must show as labels.
RAW = (
    "This field is required",
    "Enter a valid",
    "Select a valid choice",
    "Ensure this value",
    "pending_approval",
    "pending approval",
    "draft",
    "scheduled",
    "sending",
    "cancelled",
    "inapp",
    "in-app",
    "queued",
    "storm-flood",
    "extreme",
    "severe",
    "moderate",
    "minor",
)
RAW_PATTERNS = {phrase: re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])") for phrase in RAW}


def raw_on(response) -> list[str]:
    parser = VisibleText()
    parser.feed(response.content.decode())
    return sorted({f"{p!r} in {c!r}" for c in parser.chunks for p, rx in RAW_PATTERNS.items() if rx.search(c)})


def test_every_notice_page_in_vietnamese(tenant_a):
    account, slug = tenant_a.account, tenant_a.account.slug
    factories.make_follower(account, language="en")
    by = services.Actor(user=tenant_a.broadcaster)
    draft = services.notice_create(
        account=account, actor=by, category="storm-flood", title_vi="Nháp", body_vi="x", severity="extreme"
    ).notice
    pending = services.notice_create(account=account, actor=by, category="health", title_vi="Chờ", body_vi="x").notice
    services.notice_submit(notice=pending, actor=by)
    sent = services.notice_create(
        account=account, actor=by, category="health", title_vi="Gửi", body_vi="x", audience_all=True
    ).notice
    services.notice_submit(notice=sent, actor=by)
    services.notice_approve(notice=sent, actor=services.Actor(user=tenant_a.approver))
    notice_dispatch_one()
    broadcaster, approver = vietnamese_client(tenant_a.broadcaster), vietnamese_client(tenant_a.approver)

    def url(name, notice=None):
        return reverse(f"staff:{name}", args=[slug] if notice is None else [slug, notice.pk])

    pages = {
        "list": broadcaster.get(url("notices")),
        "list pending": broadcaster.get(url("notices") + "?state=pending"),
        "new": broadcaster.get(url("notice-new")),
        "new posted empty": broadcaster.post(url("notice-new"), {}),
        "content": broadcaster.get(url("notice-content", draft)),
        "audience": broadcaster.get(url("notice-audience", draft) + "?q=ho+chi+minh&province=79"),
        "audience refused": broadcaster.post(url("notice-audience", draft), {"action": "continue"}),
        "schedule": broadcaster.get(url("notice-schedule", draft)),
        "schedule refused": broadcaster.post(
            url("notice-schedule", draft), {"when": "later", "send_date": "12/31/2026", "send_time": "8pm"}
        ),
        "check": broadcaster.get(url("notice-check", draft)),
        "pending, own": broadcaster.get(url("notice", pending)),
        "pending, approver": approver.get(url("notice", pending)),
        "progress": broadcaster.get(url("notice", sent)),
        "cancel": broadcaster.get(url("notice-cancel", pending)),
    }
    for name, response in pages.items():
        assert response.status_code in (200, 400), name
    found = {name: english_on(r) + raw_on(r) for name, r in pages.items() if english_on(r) or raw_on(r)}
    assert not found, "\n".join(f"{name}: {items}" for name, items in found.items())
    # the progress JSON's panel too
    data = broadcaster.get(url("notice-progress", sent)).json()

    class Panel:
        content = data["html"].encode()

    assert english_on(Panel) == [] and raw_on(Panel) == []
    assert data["status_label"] in ("Đang gửi", "Đã gửi")


def test_the_raw_code_checker_sees_codes():
    class Page:
        content = b'<p class="sev-extreme">pending_approval</p><td>inapp</td><p>This field is required.</p>'

    assert raw_on(Page) == [
        "'This field is required' in 'This field is required.'",
        "'inapp' in 'inapp'",
        "'pending_approval' in 'pending_approval'",
    ]
