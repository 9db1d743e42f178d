"""Account API tokens: ``Authorization: Token <token>``; stored hashed, revocable."""

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from oa_platform.compiled_queries import CompiledQuery
from oa_platform.models import ApiToken, OfficialAccount

# Touch last_used_at at most this often per token: a write per request would double the chat's DB load.
LAST_USED_RESOLUTION_S = 60

_TOKEN_COLUMNS = [f.attname for f in ApiToken._meta.concrete_fields]
_ACCOUNT_COLUMNS = [f.attname for f in OfficialAccount._meta.concrete_fields]
# A live token with its active account, in one query compiled once per process (every API call runs it).
_live_token = CompiledQuery(
    lambda key_hash: (
        ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True, account__is_active=True)
        .order_by("pk")
        .values_list(*_TOKEN_COLUMNS, *(f"account__{name}" for name in _ACCOUNT_COLUMNS))[:1]
    ),
    key_hash="\x00key_hash",
)


def live_token(raw: str) -> ApiToken | None:
    """The unrevoked token of an active account whose raw value is ``raw``, its account loaded with it."""
    row = _live_token.first(key_hash=ApiToken.hash(raw))
    if row is None:
        return None
    token = ApiToken.from_db("default", _TOKEN_COLUMNS, row[: len(_TOKEN_COLUMNS)])
    token.account = OfficialAccount.from_db("default", _ACCOUNT_COLUMNS, row[len(_TOKEN_COLUMNS) :])
    return token


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
        token = live_token(raw)
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
