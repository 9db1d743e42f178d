"""Reads of the core app, scoped to a tenant where a tenant applies."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from oa_platform.models import Membership, OfficialAccount


def accounts_public() -> QuerySet[OfficialAccount]:
    return OfficialAccount.objects.filter(is_active=True).order_by("name")


def accounts_for_user(user: AbstractBaseUser, *, roles: list[str] | None = None) -> QuerySet[OfficialAccount]:
    """The accounts a staff member works in (all for a superuser), optionally only those where they hold a role.

    Nothing for a user who is not (or no longer) staff: ``is_staff`` and the memberships are read as they are
    now, so a staff member removed while signed in loses access at their next request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return OfficialAccount.objects.none()
    if user.is_superuser:
        return OfficialAccount.objects.all()
    memberships = Membership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=[*roles, Membership.ROLE_MANAGER])
    return OfficialAccount.objects.filter(pk__in=memberships.values("account_id"))


def user_role(user: AbstractBaseUser, account: OfficialAccount) -> str | None:
    if getattr(user, "is_superuser", False):
        return Membership.ROLE_MANAGER
    membership = Membership.objects.filter(user=user, account=account).only("role").first()
    return membership.role if membership else None


def account_by_slug(slug: str) -> OfficialAccount | None:
    return OfficialAccount.objects.filter(slug=slug, is_active=True).first()
