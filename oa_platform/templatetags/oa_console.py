"""Template tags of the staff console (templates/staff/base.html)."""

from django import template

from oa_platform.console.nav import nav_items
from oa_platform.selectors import accounts_for_user, user_role

register = template.Library()


@register.simple_tag(takes_context=True)
def console_nav(context, account):
    request = context["request"]
    role = getattr(request, "role", None) or user_role(request.user, account)
    return nav_items(request=request, account=account, role=role)


@register.simple_tag(takes_context=True)
def console_accounts(context):
    """The accounts the signed-in person works in, for the account switcher."""
    return list(accounts_for_user(context["request"].user).order_by("name"))
