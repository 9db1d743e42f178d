"""Admin template helpers: the signed-in staff member's accounts and roles, shown in the admin header."""

from django import template

from oa_platform.admin_scoping import staff_account_ids
from oa_platform.models import Membership, OfficialAccount

register = template.Library()


@register.simple_tag(takes_context=True)
def oa_staff_accounts(context) -> list[tuple[OfficialAccount, str]]:
    """[(account, role label)] of the user; superusers get an empty list (they see every account)."""
    request = context.get("request")
    if request is None or not getattr(request.user, "is_authenticated", False) or request.user.is_superuser:
        return []
    ids = staff_account_ids(request)
    roles = dict(Membership.ROLE_CHOICES)
    memberships = Membership.objects.filter(user=request.user, account_id__in=ids).select_related("account")
    return [(m.account, roles.get(m.role, m.role)) for m in memberships.order_by("account__name")]
