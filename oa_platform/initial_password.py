"""A staff member created with a generated password must choose their own before using the admin or the
staff inbox. Set when a manager creates the user (``initial_password_set``); cleared when that person saves
the admin's password change form. Checked at login and then on staff pages only (a flag in the session), so
citizens' pages and the APIs pay nothing; the staff inbox socket checks it when it connects."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from oa_platform.hybrid_middleware import HybridMiddleware
from oa_platform.models import InitialPassword

SESSION_KEY = "oa_initial_password"
STAFF_PREFIXES = ("/admin/", "/staff/")
CHANGE_URL_NAME = "admin:password_change"
# Pages a person with a generated password may still open besides the change form: leaving, and its scripts.
ALLOWED_URL_NAMES = frozenset({"admin:password_change_done", "admin:logout", "admin:jsi18n"})


def initial_password_set(*, user) -> None:
    """``user`` has a password someone else generated: staff pages ask them for their own first."""
    InitialPassword.objects.get_or_create(user=user)


def initial_password_pending(user) -> bool:
    return user.is_authenticated and InitialPassword.objects.filter(user=user).exists()


def initial_password_clear(*, user) -> None:
    InitialPassword.objects.filter(user=user).delete()


@receiver(user_logged_in, dispatch_uid="oa_initial_password_login")
def _flag_at_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session") and initial_password_pending(user):
        request.session[SESSION_KEY] = True


def _gate(request):
    """(a redirect to the change form or None, whether this request is the change form itself). Reads the
    database only for a flagged session."""
    if not request.path_info.startswith(STAFF_PREFIXES) or not request.session.get(SESSION_KEY):
        return None, False
    if not initial_password_pending(request.user):
        request.session.pop(SESSION_KEY, None)
        return None, False
    try:
        name = resolve(request.path_info).view_name
    except Resolver404:
        name = ""
    if name == CHANGE_URL_NAME:
        return None, True
    if name in ALLOWED_URL_NAMES:
        return None, False
    messages.warning(request, _("Please choose your own password before you continue."))
    return redirect(CHANGE_URL_NAME), False


def _after_change_form(request, response) -> None:
    # The form redirects (to "password changed") only once it saved the new password; errors re-render it.
    if request.method == "POST" and response.status_code == 302:
        initial_password_clear(user=request.user)
        request.session.pop(SESSION_KEY, None)


class InitialPasswordMiddleware(HybridMiddleware):
    """After AuthenticationMiddleware and MessageMiddleware. Other paths pass straight through (no thread hop
    under ASGI)."""

    def __init__(self, get_response):
        self._set_mode(get_response)

    def _call(self, request):
        gate, change_form = _gate(request)
        if gate is not None:
            return gate
        response = self.get_response(request)
        if change_form:
            _after_change_form(request, response)
        return response

    async def _acall(self, request):
        change_form = False
        if request.path_info.startswith(STAFF_PREFIXES):
            gate, change_form = await sync_to_async(_gate)(request)
            if gate is not None:
                return gate
        response = await self.get_response(request)
        if change_form:
            await sync_to_async(_after_change_form)(request, response)
        return response
