"""Console URL builder of the staff member's chat link page (found by the console isolation test)."""

from __future__ import annotations

from tests.oa_platform.console.isolation_builders import url_builder


@url_builder("staff:chat-link")
def chat_link_page(account):
    return {"slug": account.slug}
