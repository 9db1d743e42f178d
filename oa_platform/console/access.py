"""Who may open a console page: resolves ``<slug>`` to one of the user's accounts and checks the role.

Read again on every request (``accounts_for_user`` reads ``is_staff`` and the memberships as they are now),
so a person removed from an account loses the console at their next request."""

from __future__ import annotations

from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from oa_platform.models import Membership
from oa_platform.selectors import accounts_for_user, user_role

# Roles that may do what a page is for; a manager may do everything of the account (Membership).
EDITORS = (Membership.ROLE_EDITOR,)
SENDERS = (Membership.ROLE_BROADCASTER, Membership.ROLE_APPROVER)
APPROVERS = (Membership.ROLE_APPROVER,)
MANAGERS = ()


def role_allows(role: str | None, roles: tuple[str, ...] | None) -> bool:
    """Whether ``role`` may open a page for ``roles`` (None: every member of the account)."""
    if role is None:
        return False
    return roles is None or role == Membership.ROLE_MANAGER or role in roles


def console_view(roles: tuple[str, ...] | None = None):
    """Decorate a view ``(request, slug, ...)``: sets ``request.account`` and ``request.role`` or refuses.

    404 when the account is not one of the user's (nothing tells another agency's slug exists), 403 when the
    user's role does not cover the page."""

    def decorate(view):
        @staff_member_required
        @wraps(view)
        def wrapped(request, slug: str, *args, **kwargs):
            account = accounts_for_user(request.user).filter(slug=slug).first()
            if account is None:
                raise Http404("No such account.")
            role = user_role(request.user, account)
            if not role_allows(role, roles):
                raise PermissionDenied
            request.account = account
            request.role = role
            return view(request, slug, *args, **kwargs)

        wrapped.console_roles = roles
        return wrapped

    return decorate
