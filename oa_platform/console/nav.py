"""The console's navigation: one entry per section, shown when its URL exists and the user's role covers it.

A section adds itself with one line here; ``nav_items`` leaves out names that do not resolve, so a section is
listed only once its pages exist."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from oa_platform.console.access import EDITORS, SENDERS, role_allows


@dataclass(frozen=True)
class Section:
    url_name: str  # reversed with the account's slug
    label: str
    roles: tuple[str, ...] | None  # None: every member of the account
    exact: bool = False  # current only on its own address (Today's /staff/<slug>/ begins every other one)


SECTIONS = (
    Section("staff:today", _("Hôm nay"), None, exact=True),
    Section("staff:inbox", _("Hộp thư"), None),
    Section("staff:faq", _("Hỏi đáp"), EDITORS),
    Section("staff:notices", _("Thông báo"), SENDERS),
    Section("staff:personal", _("Thông báo cá nhân"), SENDERS),
    Section("staff:forms", _("Thu thập thông tin"), EDITORS),
)


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    current: bool


def nav_items(*, request, account, role: str | None) -> list[NavItem]:
    items = []
    for section in SECTIONS:
        if not role_allows(role, section.roles):
            continue
        try:
            url = reverse(section.url_name, args=[account.slug])
        except NoReverseMatch:
            continue
        current = request.path == url or (not section.exact and request.path.startswith(url))
        items.append(NavItem(url=url, label=str(section.label), current=current))
    # The longest matching prefix is the current section (/staff/x/ is a prefix of /staff/x/faq/).
    currents = [item for item in items if item.current]
    if len(currents) > 1:
        keep = max(currents, key=lambda item: len(item.url))
        items = [NavItem(i.url, i.label, i is keep) for i in items]
    return items
