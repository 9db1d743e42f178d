"""A staff member links their chat identity (web page, Zalo, WeChat, generic) to their place in an account by
themselves: the console gives them a one-time code, they send it to the account in chat ("liên kết 12345678",
"link 12345678", "绑定 12345678", or the code alone), and that chat identity becomes their
Membership.test_citizen, the identity through which staff audiences (oa_platform.collect.audience) and test
notices reach them.

Limits: a code has CODE_DIGITS digits, lives CODE_TTL, works once and only in the account it was made for
(looked up by the account whose chat received it; the HMAC also covers the account). Attempts are rate-limited
through the one limiter (oa_platform.ratelimit), per chat identity and per account, so guessing a code of
someone else's is hopeless within its lifetime."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oa_platform import ratelimit
from oa_platform.errors import DomainError, RateLimited
from oa_platform.models import Citizen, Membership, OfficialAccount, StaffLinkCode
from oa_platform.services import audit_record

# Eight digits (typed on a phone as "1234 5678"): with the limits below an attacker gets at most
# ACCOUNT_ATTEMPTS guesses per window against 10^8 codes, so even a hundred codes waiting at once stay
# out of reach (about 1 chance in 30,000 per window).
CODE_DIGITS = 8
CODE_TTL = dt.timedelta(minutes=30)
# Per chat identity: a person who mistypes tries again a few times, then waits.
CITIZEN_ATTEMPTS, CITIZEN_WINDOW_S = 5, 10 * 60
# Per account: every attempt of every identity (new web identities cost nothing to make).
ACCOUNT_ATTEMPTS, ACCOUNT_WINDOW_S = 30, 10 * 60

# The keyword (any of the three languages) before the code, or nothing: the code as its own message.
_KEYWORDS = {
    "liên kết": "vi",
    "lien ket": "vi",
    "liên kết tài khoản": "vi",
    "kết nối": "vi",
    "ket noi": "vi",
    "link": "en",
    "link account": "en",
    "绑定": "zh-hans",
    "綁定": "zh-hans",
    "关联": "zh-hans",
}
_LINK_RE = re.compile(
    r"^\s*(?P<keyword>"
    + "|".join(sorted((re.escape(k) for k in _KEYWORDS), key=len, reverse=True))
    + r")?\s*[:：]?\s*(?P<code>\d{4}[\s.-]?\d{4})\s*[.!。]?\s*$",
    re.IGNORECASE,
)


class LinkRefused(DomainError):
    """The code is wrong, expired, or already used."""

    status = 400
    code = "link_code_invalid"


@dataclass(frozen=True)
class LinkAttempt:
    code: str  # the digits
    prefixed: bool  # "liên kết …" (always an attempt) or the code alone (an attempt when codes are waiting)
    language: str | None  # the keyword's language, None for the code alone


def link_attempt_parse(text: str) -> LinkAttempt | None:
    """The link code in a chat message, or None when the message is not one. Pure: no database."""
    match = _LINK_RE.match(text or "")
    if match is None:
        return None
    keyword = (match.group("keyword") or "").lower()
    return LinkAttempt(
        code=re.sub(r"\D", "", match.group("code")),
        prefixed=bool(keyword),
        language=_KEYWORDS.get(keyword),
    )


def _digest(account_id: int, code: str) -> str:
    message = f"staff-link:{account_id}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def staff_link_code_issue(*, membership: Membership, now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """A new one-time code for ``membership`` (replacing any earlier one): (the code, when it expires). The code
    is returned once and stored only as its HMAC."""
    now = now or timezone.now()
    expires_at = now + CODE_TTL
    for _attempt in range(5):  # two waiting codes of one account may not be equal: draw again
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        try:
            with transaction.atomic():
                StaffLinkCode.objects.filter(membership=membership).delete()
                StaffLinkCode.objects.create(
                    membership=membership,
                    account_id=membership.account_id,
                    code_hash=_digest(membership.account_id, code),
                    expires_at=expires_at,
                )
        except IntegrityError:
            continue
        return code, expires_at
    raise RuntimeError("Could not draw a free link code.")


def codes_waiting(account: OfficialAccount, now: dt.datetime | None = None) -> bool:
    return StaffLinkCode.objects.filter(account=account, expires_at__gt=now or timezone.now()).exists()


def staff_link_claim(
    *, account: OfficialAccount, citizen: Citizen, code: str, now: dt.datetime | None = None
) -> Membership:
    """Make ``citizen`` (the chat identity that sent ``code`` to ``account``) the chat identity of the staff
    member whose code it is, and spend the code. The identity stops being any other staff member's of this
    account (one person per identity). Raises RateLimited when this identity or the account tried too often,
    LinkRefused for a wrong or expired code (a code of another account is wrong here)."""
    now = now or timezone.now()
    wait = ratelimit.try_take(
        (f"stafflink:cz:{citizen.pk}", CITIZEN_ATTEMPTS / CITIZEN_WINDOW_S, CITIZEN_ATTEMPTS),
        (f"stafflink:acct:{account.pk}", ACCOUNT_ATTEMPTS / ACCOUNT_WINDOW_S, ACCOUNT_ATTEMPTS),
    )
    if wait > 0:
        raise RateLimited(_("Bạn đã thử quá nhiều lần."), retry_after=max(1, math.ceil(wait)))
    with transaction.atomic():
        found = (
            StaffLinkCode.objects.select_for_update()
            .select_related("membership__user")
            .filter(account=account, code_hash=_digest(account.pk, code))
            .first()
        )
        if found is None or found.expires_at <= now:
            raise LinkRefused(_("Mã liên kết không đúng hoặc đã hết hạn."))
        membership = found.membership
        found.delete()
        Membership.objects.filter(account=account, test_citizen=citizen).exclude(pk=membership.pk).update(
            test_citizen=None
        )
        membership.test_citizen = citizen
        membership.save(update_fields=["test_citizen"])
        audit_record(
            action="staff_chat_link",
            obj=membership,
            account=account,
            actor=membership.user,
            changes={"channel": citizen.channel},
        )
    return membership


def staff_link_answer(*, account: OfficialAccount, citizen: Citizen, attempt: LinkAttempt) -> str | None:
    """The bot's answer to a link attempt, in the active language: linked, refused (wrong or expired code) or
    wait (too many attempts). None for a code alone while the account has no code waiting: that number was
    not meant as a code, and the chat goes on as usual."""
    if not attempt.prefixed and not codes_waiting(account):
        return None
    try:
        membership = staff_link_claim(account=account, citizen=citizen, code=attempt.code)
    except RateLimited as exc:
        minutes = max(1, math.ceil(exc.retry_after / 60))
        return _("Bạn đã thử quá nhiều lần. Vui lòng thử lại sau %(n)s phút.") % {"n": minutes}
    except LinkRefused:
        return _(
            "Mã liên kết không đúng hoặc đã hết hạn. Hãy lấy mã mới ở mục “Liên kết tài khoản chat” trong bàn làm "
            "việc (mỗi mã dùng một lần, trong 30 phút)."
        )
    user = membership.user
    return _("Đã liên kết: từ nay %(name)s nhận biểu mẫu và thông báo dành cho cán bộ của %(account)s tại đây.") % {
        "name": user.get_full_name() or user.get_username(),
        "account": account.name,
    }
