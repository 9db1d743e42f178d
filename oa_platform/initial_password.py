"""A staff member created with a generated password must choose their own before using the admin or the
staff console. Set when a manager creates the user (``initial_password_set``); checked at login and then on
staff pages only, so citizens' pages and the APIs pay nothing."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from oa_platform.models import InitialPassword

SESSION_KEY = "oa_initial_password"
STAFF_PREFIXES = ("/admin/", "/staff/")
# Pages a person with a generated password may still open: the change form itself, and leaving.
ALLOWED_URL_NAMES = ("admin:password_change", "admin:password_change_done", "admin:logout", "admin:jsi18n")


def initial_password_set(*, user) -> None:
    """Remember ``user``'s current (generated) password: until it changes, staff pages ask for a new one."""
    InitialPassword.objects.update_or_create(user=user, defaults={"password_hash": user.password})


def initial_password_pending(user) -> bool:
    """True while ``user`` still has the generated password; forgets it once they chose their own."""
    pending = InitialPassword.objects.filter(user=user).values_list("password_hash", flat=True).first()
    if pending is None:
        return False
    if pending != user.password:
        InitialPassword.objects.filter(user=user).delete()
        return False
    return True


@receiver(user_logged_in, dispatch_uid="oa_initial_password_login")
def _flag_at_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session") and initial_password_pending(user):
        request.session[SESSION_KEY] = True


def _must_change(request):
    """A redirect to the password change form, or None. Reads the database only for a flagged session."""
    if not request.path_info.startswith(STAFF_PREFIXES) or not request.session.get(SESSION_KEY):
        return None
    if not request.user.is_authenticated or not initial_password_pending(request.user):
        request.session.pop(SESSION_KEY, None)
        return None
    if request.path_info in {reverse(name) for name in ALLOWED_URL_NAMES}:
        return None
    messages.warning(request, _("Please choose your own password before you continue."))
    return redirect("admin:password_change")


class InitialPasswordMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware. Other paths pass straight through (no thread hop
    under ASGI)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self._async:
            return self._acall(request)
        return _must_change(request) or self.get_response(request)

    async def _acall(self, request):
        if request.path_info.startswith(STAFF_PREFIXES):
            response = await sync_to_async(_must_change)(request)
            if response is not None:
                return response
        return await self.get_response(request)
