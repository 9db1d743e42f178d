"""Isolation builders for the console's notice pages (registered into isolation_builders.URL_BUILDERS)."""

from __future__ import annotations

from broadcasts import services
from broadcasts.models import Notice
from tests.oa_platform.console.isolation_builders import url_builder


def a_notice(account, *, submit: bool = False) -> Notice:
    notice = services.notice_create(
        account=account,
        actor=services.SYSTEM,
        category="general",
        title_vi=f"Thông báo của {account.slug}",
        body_vi="Nội dung",
    ).notice
    if submit:
        services.notice_submit(notice=notice, actor=services.SYSTEM)
    return notice


@url_builder("staff:notices", "staff:notice-new")
def notices_of_account(account):
    a_notice(account)
    return {"slug": account.slug}


@url_builder(
    "staff:notice-content",
    "staff:notice-audience",
    "staff:notice-audience-count",
    "staff:notice-schedule",
    "staff:notice-check",
)
def a_draft(account):
    return {"slug": account.slug, "pk": a_notice(account).pk}


@url_builder(
    "staff:notice",
    "staff:notice-progress",
    "staff:notice-approve",
    "staff:notice-reject",
    "staff:notice-cancel",
    "staff:notice-follow-up",
    "staff:notice-cap",
)
def a_submitted_notice(account):
    return {"slug": account.slug, "pk": a_notice(account, submit=True).pk}
