"""Isolation builder of the Today page: a waiting conversation and a notice waiting for approval."""

from __future__ import annotations

from broadcasts.models import Notice
from tests.oa_platform.console.isolation_builders import conversation_of, url_builder


@url_builder("staff:today")
def today_with_work(account):
    conversation_of(account)
    Notice.objects.create(
        account=account,
        category="general",
        title_vi=f"Chờ duyệt {account.slug}",
        body_vi="…",
        status="pending_approval",
    )
    return {"slug": account.slug}
