"""Account API tokens: ``Authorization: Token <token>``; stored hashed, revocable."""

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from oa_platform.models import ApiToken

# Touch last_used_at at most this often per token: a write per request would double the chat's DB load.
LAST_USED_RESOLUTION_S = 60


class AccountTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token header.") from exc
        token = (
            ApiToken.objects.select_related("account")
            .filter(key_hash=ApiToken.hash(raw), revoked_at__isnull=True, account__is_active=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return (None, token)

    def authenticate_header(self, request):
        return self.keyword


class HasAccountToken(permissions.BasePermission):
    """A valid token whose account is the one in the URL (``slug``) and which holds the view's scope."""

    message = "This token does not give access to this account."

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated()
        slug = view.kwargs.get("slug")
        if slug is not None and token.account.slug != slug:
            return False
        scope = getattr(view, "required_scope", None)
        if scope and not token.has_scope(scope):
            self.message = f"This token lacks the scope {scope!r}."
            return False
        return True
