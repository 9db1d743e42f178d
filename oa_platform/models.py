"""Core data: agencies and their Official Accounts, staff roles, citizens, follows, conversations."""

import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oa_platform.phones import mask_phone, mask_phones_in_text
from oa_platform.url_policy import validate_provider_url, validate_web_url

LANGUAGE_CHOICES = [("vi", "Tiếng Việt"), ("en", "English"), ("zh-hans", "简体中文")]


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value}) from exc


class Agency(models.Model):
    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=60, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OfficialAccount(models.Model):
    agency = models.OneToOneField(Agency, on_delete=models.PROTECT, related_name="account", verbose_name=_("agency"))
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("display name"), max_length=200)
    avatar_url = models.URLField(_("avatar URL"), blank=True, validators=[validate_web_url])
    description = models.TextField(_("description"), blank=True)
    welcome_message = models.TextField(_("welcome message"), blank=True)
    default_language = models.CharField(_("default language"), max_length=8, default="vi", choices=LANGUAGE_CHOICES)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Ho_Chi_Minh", validators=[validate_timezone]
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Staff working hours for hand-off to a person, local time; outside them the citizen is told when staff answer.
    working_hours_start = models.TimeField(_("staff hours start"), default="07:30")
    working_hours_end = models.TimeField(_("staff hours end"), default="17:00")
    working_days = models.CharField(
        _("staff working days"), max_length=20, default="0,1,2,3,4", help_text=_("0 = Monday … 6 = Sunday")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("official account")
        verbose_name_plural = _("official accounts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def language(self) -> str:
        """The matcher's language family: vi, en or zh."""
        return "zh" if self.default_language.startswith("zh") else self.default_language


class Membership(models.Model):
    """A staff member's role in one account."""

    ROLE_EDITOR = "editor"  # edits FAQs and reviews unanswered questions
    ROLE_BROADCASTER = "broadcaster"  # drafts notices
    ROLE_APPROVER = "approver"  # approves (and may draft) notices; never their own
    ROLE_MANAGER = "manager"  # everything of the account, staff included
    ROLE_CHOICES = [
        (ROLE_EDITOR, _("editor")),
        (ROLE_BROADCASTER, _("broadcaster")),
        (ROLE_APPROVER, _("approver")),
        (ROLE_MANAGER, _("manager")),
    ]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("account")
    )
    role = models.CharField(_("role"), max_length=20, choices=ROLE_CHOICES)
    in_test_group = models.BooleanField(
        _("in test group"), default=False, help_text=_("Receives notices sent in test mode.")
    )
    test_citizen = models.ForeignKey(
        "Citizen",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The citizen identity (e.g. own phone on the web chat) that receives test notices."),
        verbose_name=_("test citizen"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="membership_one_role_per_account")]

    def __str__(self) -> str:
        return f"{self.user} · {self.account} · {self.role}"


class StaffLinkCode(models.Model):
    """A one-time code a staff member shows in the console and sends to the account in chat, to make that chat
    identity their Membership.test_citizen (oa_platform.conversations.staff_link). Stored as an HMAC of the
    code with the account's id, never the code; one per membership (a new code replaces the old one)."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="+", verbose_name=_("membership")
    )
    # The membership's account again: a code is looked up inside the account whose chat received it.
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+", verbose_name=_("account"))
    code_hash = models.CharField(_("code (HMAC-SHA256)"), max_length=64)
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff link code")
        verbose_name_plural = _("staff link codes")
        constraints = [models.UniqueConstraint(fields=["account", "code_hash"], name="stafflinkcode_unique_code")]

    def __str__(self) -> str:
        return f"link code of membership {self.membership_id}"


class InitialPassword(models.Model):
    """A staff user whose password a manager's creation generated (and saw, once). Until they save a password
    of their own in the admin's change form, staff pages send them there (oa_platform.initial_password)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("initial password")
        verbose_name_plural = _("initial passwords")

    def __str__(self) -> str:
        return str(self.user)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """An account's API token for channel integrations. Only a SHA-256 hash is stored."""

    SCOPE_CHAT = "chat"  # post citizen messages, read replies
    SCOPE_BROADCAST_WRITE = "broadcasts:write"  # create, schedule, cancel notices
    SCOPE_BROADCAST_APPROVE = "broadcasts:approve"  # approve notices (never the token's own)
    SCOPE_NOTIFICATIONS_WRITE = "notifications:write"  # personal notices: templates, send, read their status
    SCOPE_NOTIFICATIONS_APPROVE = "notifications:approve"  # approve personal notice templates (never one's own)
    SCOPE_READ = "read"  # read notices and their status, forms' results
    SCOPE_FORMS_WRITE = "forms:write"  # create forms
    SCOPE_FORMS_RESPOND = "forms:respond"  # submit citizens' answers to forms
    ALL_SCOPES = [
        SCOPE_CHAT,
        SCOPE_BROADCAST_WRITE,
        SCOPE_BROADCAST_APPROVE,
        SCOPE_READ,
        SCOPE_NOTIFICATIONS_WRITE,
        SCOPE_NOTIFICATIONS_APPROVE,
        SCOPE_FORMS_WRITE,
        SCOPE_FORMS_RESPOND,
    ]

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return "oa_" + secrets.token_urlsafe(32)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class AuditLog(models.Model):
    """Who did what to which object, when. Written by services; read-only everywhere."""

    account = models.ForeignKey(
        OfficialAccount,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
        verbose_name=_("account"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(
        _("actor name"), max_length=150, blank=True, help_text=_("user name or API token name")
    )
    action = models.CharField(_("action"), max_length=40, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}"


class Area(models.Model):
    """An administrative area. ``path`` is the chain of codes from the province down, so a filter on a
    province includes everything under it with one indexed prefix match."""

    LEVEL_PROVINCE = "province"
    LEVEL_DISTRICT = "district"
    LEVEL_WARD = "ward"
    LEVEL_CHOICES = [
        (LEVEL_PROVINCE, _("province")),
        (LEVEL_DISTRICT, _("district")),
        (LEVEL_WARD, _("ward")),
    ]

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_ascii = models.CharField(_("name without diacritics"), max_length=120, db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=LEVEL_CHOICES)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children", verbose_name=_("parent area")
    )
    path = models.CharField(_("path"), max_length=100, db_index=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name


class Citizen(models.Model):
    """One person, reached on the channel they wrote from (and by SMS where a phone is known).

    An external id means something only inside the account that received it (an agency's own app or API
    integration, a Zalo or WeChat Official Account's per-OA user id): such a citizen belongs to that
    ``account``, and another agency sending the same id gets a citizen of its own. Only the web page's browser
    identity (``account`` empty) is one person across every account they follow; its profile is written by
    the person on the page, never by an agency."""

    CHANNEL_WEB = "web"  # the project's own chat page and HTTP chat API
    CHANNEL_ZALO = "zalo"  # Zalo OA
    CHANNEL_WECHAT = "wechat"  # WeChat Official Account
    CHANNEL_GENERIC = "generic"  # an agency's own app or SMS gateway through the generic webhook
    CHANNEL_CHOICES = [
        (CHANNEL_WEB, _("web chat")),
        (CHANNEL_ZALO, "Zalo"),
        (CHANNEL_WECHAT, "WeChat"),
        (CHANNEL_GENERIC, _("generic")),
    ]

    # Empty only for the web page's browser identity (web_identity): one person across accounts.
    account = models.ForeignKey(
        OfficialAccount,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citizens",
        verbose_name=_("account"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=CHANNEL_CHOICES, default=CHANNEL_WEB)
    external_id = models.CharField(_("external id"), max_length=128)
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    language = models.CharField(_("preferred language"), max_length=8, choices=LANGUAGE_CHOICES, default="vi")
    home_area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("home area")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(account__isnull=True),
                name="citizen_unique_shared_external_id",
            ),
            models.UniqueConstraint(
                fields=["account", "channel", "external_id"],
                condition=Q(account__isnull=False),
                name="citizen_unique_account_external_id",
            ),
        ]
        # Personal notices match a recipient by phone across channels (broadcasts.personal.selectors).
        indexes = [models.Index(fields=["phone"], condition=~Q(phone=""), name="citizen_phone")]

    def __str__(self) -> str:
        return self.display_name or f"{self.channel}:{self.external_id[:8]}…"

    @property
    def masked_phone(self) -> str:

        return mask_phone(self.phone)


class Topic(models.Model):
    """A kind of notice an account sends; citizens subscribe per topic."""

    DEFAULT_TOPICS = [
        ("storm-flood", "Bão, lũ", "Storms and floods", "台风与洪水"),
        ("health", "Y tế", "Health", "卫生健康"),
        ("vaccination", "Tiêm chủng", "Vaccination", "疫苗接种"),
        ("traffic", "Giao thông", "Traffic", "交通"),
        ("general", "Thông báo chung", "General notices", "综合通知"),
    ]

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="topics", verbose_name=_("account")
    )
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name (Vietnamese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    subscribed_by_default = models.BooleanField(_("subscribed by default"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["account", "position", "key"]
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="topic_unique_key_per_account")]

    def __str__(self) -> str:
        return self.name

    def label(self, language: str) -> str:
        if language == "en" and self.name_en:
            return self.name_en
        if language.startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name


class Follow(models.Model):
    """A citizen following an account. Unfollowing keeps the row (and the history) with is_active off."""

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="follows", verbose_name=_("account")
    )
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="follows", verbose_name=_("citizen"))
    is_active = models.BooleanField(_("following"), default=True)
    followed_at = models.DateTimeField(_("followed at"), default=timezone.now)
    unfollowed_at = models.DateTimeField(_("unfollowed at"), null=True, blank=True)
    topics = models.ManyToManyField(
        Topic, through="TopicSubscription", related_name="follows", blank=True, verbose_name=_("topics")
    )
    areas = models.ManyToManyField(
        Area,
        related_name="+",
        blank=True,
        help_text=_("Areas the citizen wants notices for; none: home area."),
        verbose_name=_("areas"),
    )

    class Meta:
        verbose_name = _("follow")
        verbose_name_plural = _("follows")
        constraints = [models.UniqueConstraint(fields=["account", "citizen"], name="follow_unique_account_citizen")]
        indexes = [models.Index(fields=["account", "is_active"], name="follow_account_active")]

    def __str__(self) -> str:
        return f"{self.citizen} → {self.account}"


class TopicSubscription(models.Model):
    follow = models.ForeignKey(Follow, on_delete=models.CASCADE, related_name="subscriptions", verbose_name=_("follow"))
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="subscriptions", verbose_name=_("topic"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("topic subscription")
        verbose_name_plural = _("topic subscriptions")
        constraints = [models.UniqueConstraint(fields=["follow", "topic"], name="subscription_unique_follow_topic")]
        indexes = [models.Index(fields=["topic", "follow"], name="subscription_topic_follow")]

    def __str__(self) -> str:
        return f"{self.follow_id} · {self.topic_id}"


class FollowEvent(models.Model):
    """History of follow and unfollow, kept when a citizen unfollows."""

    KIND_FOLLOW = "follow"
    KIND_UNFOLLOW = "unfollow"
    follow = models.ForeignKey(Follow, on_delete=models.CASCADE, related_name="events", verbose_name=_("follow"))
    kind = models.CharField(
        _("event"), max_length=10, choices=[(KIND_FOLLOW, _("follow")), (KIND_UNFOLLOW, _("unfollow"))]
    )
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("follow event")
        verbose_name_plural = _("follow events")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class ChannelConfig(models.Model):
    """The one configuration of one channel type of an account (oa_platform.channel_types): Zalo OA, WeChat OA,
    the generic JSON channel, and the notice providers (Zalo ZNS, SMS gateway, the agency's notice webhook).
    Each type uses the fields it names in its ``config_fields``."""

    KIND_ZNS = "zns"
    KIND_SMS = "sms"
    KIND_WEBHOOK = "webhook"
    # Kinds that only send notices (configured by the agency for broadcasts; no inbound webhook).
    PROVIDER_KINDS = (KIND_ZNS, KIND_SMS, KIND_WEBHOOK)
    KIND_CHOICES = [
        (Citizen.CHANNEL_ZALO, "Zalo OA"),
        (Citizen.CHANNEL_WECHAT, "WeChat OA"),
        (Citizen.CHANNEL_GENERIC, _("generic")),
        (KIND_ZNS, "Zalo ZNS"),
        (KIND_SMS, _("SMS gateway")),
        (KIND_WEBHOOK, _("generic webhook")),
    ]

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="channel_configs", verbose_name=_("account")
    )
    kind = models.CharField(_("channel"), max_length=20, choices=KIND_CHOICES)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    app_id = models.CharField(_("app id / AppID"), max_length=128, blank=True)
    secret = models.CharField(_("OA secret key / HMAC secret"), max_length=256, blank=True)
    # Zalo / WeChat access token; the API key of an SMS gateway, ZNS or notice webhook.
    access_token = models.TextField(_("access token"), blank=True)
    token = models.CharField(_("WeChat token"), max_length=128, blank=True)
    encoding_aes_key = models.CharField(_("WeChat EncodingAESKey"), max_length=64, blank=True)
    # The provider's API (Zalo, WeChat), or the base URL of an SMS gateway, ZNS or the notice webhook.
    api_base = models.URLField(_("API base URL"), blank=True, validators=[validate_provider_url])
    # Zalo access tokens last about a day; the platform renews them with the app secret and a refresh token
    # (single use: each renewal stores the new one).
    app_secret = models.CharField(_("Zalo app secret key (token renewal)"), max_length=256, blank=True)
    refresh_token = models.TextField(_("Zalo refresh token"), blank=True)
    callback_url = models.URLField(_("callback URL (generic channel)"), blank=True, validators=[validate_provider_url])
    template_id = models.CharField(_("template id (ZNS)"), max_length=64, blank=True)
    # The HTTP policy of the type's sends (channel_types.http.policy_for). Chat replies make one attempt (the
    # outbox retries them later); notices up to max_attempts in the worker.
    timeout_s = models.FloatField(_("timeout (s)"), default=5.0, validators=[MinValueValidator(0.1)])
    rate_per_s = models.FloatField(
        _("rate limit (messages/s)"), default=20.0, validators=[MinValueValidator(0.1), MaxValueValidator(10000)]
    )
    burst = models.PositiveIntegerField(_("burst"), default=5)
    max_attempts = models.PositiveSmallIntegerField(_("attempts"), default=4)
    backoff_s = models.FloatField(_("first retry after (s)"), default=0.5)
    # Empty: the channel type's own daily quota (channel_types.<kind>.daily_quota); set it when the provider
    # raised this account's quota (Zalo raises a ZNS quota on request).
    daily_quota = models.PositiveIntegerField(
        _("daily quota (messages)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Messages per day of the account's time zone; empty for the channel type's default."),
    )
    # After a worker died between posting a message and writing its result, the message is posted again only
    # to a provider that deduplicates on the Idempotency-Key header; to any other it is marked "unknown".
    honours_idempotency_key = models.BooleanField(
        _("deduplicates on Idempotency-Key"),
        default=False,
        help_text=_(
            "Tick only if the provider sends a message once per Idempotency-Key. Then a message whose result was "
            "lost in a crash is posted again with the same key; otherwise it is marked unknown, never re-sent."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("channel configuration")
        verbose_name_plural = _("channel configurations")
        constraints = [models.UniqueConstraint(fields=["account", "kind"], name="channel_config_unique_kind")]

    def __str__(self) -> str:
        return f"{self.account} · {self.kind}"

    @property
    def signing_field(self) -> str:
        """The field holding the key this channel's inbound webhooks are signed with ("" : it receives nothing)."""
        return SIGNING_FIELDS.get(self.kind, "")

    @property
    def signing_key(self) -> str:
        return (getattr(self, self.signing_field) or "") if self.signing_field else ""

    def clean(self):
        # An enabled channel without its key would check signatures against an empty one, which anybody can
        # compute: refuse it here (the admin form and set_channel both validate through this).
        if self.is_enabled and self.signing_field and not self.signing_key.strip():
            raise ValidationError(
                {self.signing_field: _("Required to enable the channel: its webhooks are signed with it.")}
            )
        if self.kind in self.PROVIDER_KINDS and not self.api_base:
            # Django's own (translated) message: a notice provider is nothing without its URL.
            raise ValidationError({"api_base": self._meta.get_field("api_base").error_messages["blank"]})


# Which credential signs each channel's inbound webhooks: Zalo's OA secret key, WeChat's token, the generic
# channel's HMAC secret.
SIGNING_FIELDS = {Citizen.CHANNEL_ZALO: "secret", Citizen.CHANNEL_WECHAT: "token", Citizen.CHANNEL_GENERIC: "secret"}


class WebhookEvent(models.Model):
    """An inbound provider event, kept once per dedup key so a retried delivery does nothing twice."""

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="webhook_events", verbose_name=_("account")
    )
    channel = models.CharField(_("channel"), max_length=20)
    dedup_key = models.CharField(
        _("dedup key"), max_length=128, help_text=_("provider message id, or a hash of the body")
    )
    event_type = models.CharField(_("event type"), max_length=60)
    payload = models.JSONField(_("payload"), default=dict)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [
            models.UniqueConstraint(fields=["account", "channel", "dedup_key"], name="webhook_event_unique_dedup")
        ]

    def __str__(self) -> str:
        # shown as the admin page's title: a generic channel's message id may be the sender's phone
        return mask_phones_in_text(f"{self.channel} {self.event_type} {self.dedup_key[:12]}")


class Conversation(models.Model):
    STATUS_BOT = "bot"  # the FAQ bot answers
    STATUS_WAITING = "waiting"  # the citizen asked for a person; the bot stays quiet until staff close it
    STATUS_OPEN = "open"  # a staff member has taken it over
    STATUS_CHOICES = [
        (STATUS_BOT, _("bot")),
        (STATUS_WAITING, _("waiting for staff")),
        (STATUS_OPEN, _("with staff")),
    ]

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("account")
    )
    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("citizen")
    )
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES, default=STATUS_BOT)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    handoff_requested_at = models.DateTimeField(_("hand-off requested at"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message at"), default=timezone.now, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(fields=["account", "citizen"], name="conversation_unique_account_citizen")
        ]

    def __str__(self) -> str:
        return f"{self.account} · {self.citizen}"


class Message(models.Model):
    DIRECTION_IN = "in"  # from the citizen
    DIRECTION_OUT = "out"  # to the citizen
    SENDER_CITIZEN = "citizen"
    SENDER_BOT = "bot"
    SENDER_STAFF = "staff"
    SENDER_SYSTEM = "system"
    DECISION_ANSWER = "answer"
    DECISION_SUGGEST = "suggest"
    DECISION_FALLBACK = "fallback"
    DECISION_CHOICES = [
        (DECISION_ANSWER, _("answer")),
        (DECISION_SUGGEST, _("suggest")),
        (DECISION_FALLBACK, _("fallback")),
    ]
    # Delivery of an outbound message on an external channel (Zalo, WeChat, generic).
    DELIVERY_NONE = ""  # web chat: delivered over the socket or fetched by the page
    DELIVERY_QUEUED = "queued"  # waiting for (another) send attempt
    DELIVERY_SENT = "sent"  # the provider accepted it
    DELIVERY_FAILED = "failed"  # the provider refused it for good; staff can see why

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation")
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=[(DIRECTION_IN, _("in")), (DIRECTION_OUT, _("out"))]
    )
    sender = models.CharField(_("sender"), max_length=10, default=SENDER_CITIZEN)
    channel = models.CharField(_("channel"), max_length=20, default=Citizen.CHANNEL_WEB)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("staff author"),
    )
    # Bot replies: which FAQ entry answered, with what score and decision.
    faq_key = models.CharField(_("FAQ key"), max_length=100, blank=True)
    score = models.FloatField(_("match score"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=10, blank=True, choices=DECISION_CHOICES)
    suggestions = models.JSONField(_("suggestions"), default=list, blank=True)
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("in reply to")
    )
    # Inbound dedup: the provider's message id (or a content hash) for events that arrive more than once.
    external_id = models.CharField(_("external id"), max_length=128, null=True, blank=True)
    delivery_status = models.CharField(_("delivery status"), max_length=10, blank=True, default=DELIVERY_NONE)
    delivery_attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    delivery_error = models.CharField(_("delivery error"), max_length=300, blank=True)
    helpful = models.BooleanField(_("helpful"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_external_id",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_conversation_time"),
            # The outbound retry beat looks only at queued messages: a small partial index, whatever the history.
            models.Index(fields=["created_at"], condition=Q(delivery_status="queued"), name="message_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.text[:40]}"


class SavedReply(models.Model):
    """A canned reply staff insert in the inbox (besides the account's FAQ answers)."""

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="saved_replies", verbose_name=_("account")
    )
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        ordering = ["account", "position", "title"]

    def __str__(self) -> str:
        return self.title
