"""Personal notices: templates with ((placeholders)) and their approved versions, one notification per
recipient with its status history, per-account channel preferences, and the callback URL of an API token."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Concat, Replace, Right
from django.db.models.lookups import StartsWith
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from broadcasts.models import Notice
from broadcasts.personal import rowstore
from broadcasts.personal.rendering import MAX_PLACEHOLDERS
from oa_platform.models import ApiToken, Citizen, OfficialAccount
from oa_platform.url_policy import validate_provider_url, validate_web_url

# The channels a personal notice can go out on (the same names as broadcasts.models.Delivery.channel).
CHANNEL_INAPP = "inapp"  # the citizen's conversation on the account's web page
CHANNEL_ZALO = "zalo"  # a Zalo OA consultation message to a follower who wrote recently
CHANNEL_ZNS = "zns"  # a Zalo ZNS template message to a Vietnamese phone
CHANNEL_WECHAT = "wechat"  # a WeChat customer-service message to a follower within its window
CHANNEL_SMS = "sms"  # an SMS to any phone
CHANNEL_CHOICES = [
    (CHANNEL_INAPP, _("in-app")),
    (CHANNEL_ZALO, "Zalo OA"),
    (CHANNEL_ZNS, "Zalo ZNS"),
    (CHANNEL_WECHAT, "WeChat"),
    (CHANNEL_SMS, "SMS"),
]


class Template(models.Model):
    """A personal notice template of an account, known to API clients by ``key``. Its texts live in versions."""

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="personal_templates", verbose_name=_("account")
    )
    key = models.SlugField(_("key"), max_length=60)
    name = models.CharField(_("name"), max_length=120)
    category = models.SlugField(_("category (topic key)"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("personal notice template")
        verbose_name_plural = _("personal notice templates")
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="personal_template_unique_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.name})"


class TwoPersonApproval(models.Model):
    """Who wrote a row and who approved it, each a staff member or an API token (a token speaks for the user who
    created it). The services refuse an approval by the author (broadcasts.services.is_own_notice); the author
    and the approver are also the only staff who see its phones in full (selectors.sees_full_phones)."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approver_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        abstract = True


class TemplateVersion(TwoPersonApproval):
    """One edit of a template: usable only once a second person approved it; a notification records it."""

    STATUS_PENDING = "pending_approval"  # written; waits for a person who is not its author
    STATUS_APPROVED = "approved"  # approved; the newest approved version is the one sent
    STATUS_CHOICES = [(STATUS_PENDING, _("pending approval")), (STATUS_APPROVED, _("approved"))]

    template = models.ForeignKey(
        Template, on_delete=models.CASCADE, related_name="versions", verbose_name=_("template")
    )
    number = models.PositiveIntegerField(_("version"))
    body_vi = models.TextField(_("body (Vietnamese)"))
    body_en = models.TextField(_("body (English)"), blank=True)
    body_zh = models.TextField(_("body (Chinese)"), blank=True)
    link = models.URLField(_("link"), blank=True, validators=[validate_web_url])
    zns_template_id = models.CharField(_("ZNS template id"), max_length=64, blank=True)
    # ZNS parameter name -> placeholder name (the ZNS template's own parameters are fixed by Zalo).
    zns_params = models.JSONField(_("ZNS parameters"), default=dict, blank=True)
    sms_text = models.TextField(_("SMS text"), blank=True, help_text=_("empty: the Vietnamese body"))
    status = models.CharField(_("status"), max_length=20, choices=STATUS_CHOICES, default=STATUS_PENDING)

    class Meta:
        verbose_name = _("template version")
        verbose_name_plural = _("template versions")
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="personal_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.template.key} v{self.number}"

    def body_for(self, language: str) -> str:
        if language == "en" and self.body_en:
            return self.body_en
        if language.startswith("zh") and self.body_zh:
            return self.body_zh
        return self.body_vi


class PersonalSettings(models.Model):
    """One row per account: the order in which channels are tried, daily caps, who may be reached."""

    account = models.OneToOneField(
        OfficialAccount, on_delete=models.CASCADE, related_name="personal_settings", verbose_name=_("account")
    )
    # Channel names in order of preference (broadcasts.personal.plan.DEFAULT_ORDER when empty).
    channel_order = models.JSONField(_("channel order"), default=list, blank=True)
    # Channel -> at most this many messages per day for the account (on top of the channel's own quota).
    daily_caps = models.JSONField(_("daily caps"), default=dict, blank=True)
    vietnam_only = models.BooleanField(_("Vietnamese phone numbers only"), default=True)

    class Meta:
        verbose_name = _("personal notice settings")
        verbose_name_plural = _("personal notice settings")

    def __str__(self) -> str:
        return str(self.account)


class TokenCallback(models.Model):
    """Where the status changes of the notifications created with a token are POSTed, signed with ``secret``
    (X-OA-Timestamp / X-OA-Signature, the one signing helper: oa_platform.channel_types.signing)."""

    token = models.OneToOneField(ApiToken, on_delete=models.CASCADE, related_name="personal_callback")
    url = models.URLField(_("callback URL"), validators=[validate_provider_url])
    secret = models.CharField(_("secret (HMAC)"), max_length=256)

    class Meta:
        verbose_name = _("status callback")
        verbose_name_plural = _("status callbacks")

    def __str__(self) -> str:
        return self.url


class Notification(models.Model):
    """One personal message to one person: the version it was rendered from, the text, its channel and status."""

    STATUS_QUEUED = "queued"  # accepted; waits for a worker (or for scheduled_for)
    STATUS_SENDING = "sending"  # being posted right now (written before the post)
    STATUS_SENT = "sent"  # handed to the channel
    STATUS_DELIVERED = "delivered"  # the provider confirmed delivery (a signed receipt)
    STATUS_FAILED = "failed"  # refused for good on every channel tried; reason says why
    STATUS_CANCELLED = "cancelled"  # its list was cancelled before it was sent
    STATUS_EXPIRED = "expired"  # its list's "do not send after" time passed before it was sent
    STATUS_CHOICES = [
        (STATUS_QUEUED, _("queued")),
        (STATUS_SENDING, _("sending")),
        (STATUS_SENT, _("sent")),
        (STATUS_DELIVERED, _("delivered")),
        (STATUS_FAILED, _("failed")),
        (STATUS_CANCELLED, _("cancelled")),
        (STATUS_EXPIRED, _("expired")),
    ]

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="personal_notifications", verbose_name=_("account")
    )
    version = models.ForeignKey(TemplateVersion, on_delete=models.RESTRICT, related_name="+", verbose_name=_("version"))
    citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("citizen")
    )
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient_list = models.ForeignKey(
        "RecipientList", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    citizen_ref = models.CharField(_("citizen id"), max_length=128, blank=True)
    language = models.CharField(_("language"), max_length=8, default="vi")
    personalisation = models.JSONField(_("personalisation"), default=dict, blank=True)
    body = models.TextField(_("rendered text"), blank=True)
    reference = models.CharField(_("client reference"), max_length=100, blank=True)
    # sha256 of what the client asked for: the same reference with other content is a conflict.
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=CHANNEL_CHOICES, blank=True)
    tried_channels = models.JSONField(_("channels tried"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES, default=STATUS_QUEUED)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True)
    segments = models.PositiveSmallIntegerField(_("SMS segments"), default=0)
    cost = models.PositiveIntegerField(_("cost (VND)"), default=0)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # When the personalisation and text were deleted (PERSONAL_RETENTION_DAYS after sending).
    purged_at = models.DateTimeField(_("personal data deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal notification")
        verbose_name_plural = _("personal notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "reference"], condition=~Q(reference=""), name="personal_unique_reference"
            )
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="personal_status_due"),
            models.Index(fields=["account", "provider_message_id"], name="personal_provider_id"),
            # a channel's daily quota: what the account sent on it today (selectors.used_today)
            models.Index(fields=["account", "channel", "sent_at"], name="personal_channel_day"),
            # a list's open notifications by id range (a chunk's, dispatch.send_list_chunk) and whether any is
            # left (dispatch.list_finish, after every chunk): only open ones are in it, so both stay index probes
            models.Index(
                fields=["recipient_list", "id"],
                condition=Q(status__in=["queued", "sending"]),
                name="personal_list_open",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status}"


class RecipientList(TwoPersonApproval):
    """An uploaded list of recipients for one template version: checked row by row, then submitted, approved
    by another person, and sent as one notification per valid row."""

    STATUS_CHECKED = "checked"  # uploaded and checked; the sender reads the report
    STATUS_PENDING = "pending_approval"  # submitted; waits for a person who is not its author
    STATUS_SENDING = "sending"  # approved; its notifications exist and are being sent
    STATUS_SENT = "sent"  # every notification reached a final status
    STATUS_CANCELLED = "cancelled"  # stopped; queued notifications were not sent
    STATUS_EXPIRED = "expired"  # expires_at passed before everything was sent; the rest was not sent
    STATUS_CHOICES = [
        (STATUS_CHECKED, _("checked")),
        (STATUS_PENDING, _("pending approval")),
        (STATUS_SENDING, _("sending")),
        (STATUS_SENT, _("sent")),
        (STATUS_CANCELLED, _("cancelled")),
        (STATUS_EXPIRED, _("expired")),
    ]
    FINAL_STATUSES = (STATUS_SENT, STATUS_CANCELLED, STATUS_EXPIRED)

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="recipient_lists", verbose_name=_("account")
    )
    version = models.ForeignKey(TemplateVersion, on_delete=models.RESTRICT, related_name="+", verbose_name=_("version"))
    file_name = models.CharField(_("file name"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=STATUS_CHOICES, default=STATUS_CHECKED)
    skip_invalid = models.BooleanField(_("skip invalid rows"), default=False)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_invalid = models.PositiveIntegerField(_("invalid rows"), default=0)
    # channel -> planned messages; problem code -> rows; estimated cost in VND
    planned = models.JSONField(_("planned per channel"), default=dict, blank=True)
    problems = models.JSONField(_("problems"), default=dict, blank=True)
    estimated_cost = models.PositiveIntegerField(_("estimated cost (VND)"), default=0)
    # The placeholders whose values the rows hold in their columns v0, v1, ... (in this order).
    columns = models.JSONField(_("placeholder columns"), default=list, blank=True)
    # Chosen by the sender on submitting, approved as shown: the notice severities and their quiet-hours rules
    # (broadcasts.services.quiet_hours_dispatch_at: severe and extreme go during quiet hours, the others wait).
    severity = models.CharField(
        _("severity"), max_length=10, choices=Notice.SEVERITY_CHOICES, default=Notice.SEVERITY_MODERATE
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True, help_text=_("empty: as soon as approved"))
    # Not sent after this: what is still queued then ends "expired", and the list stops like a cancel.
    expires_at = models.DateTimeField(_("do not send after"), null=True, blank=True)

    class Meta:
        verbose_name = _("recipient list")
        verbose_name_plural = _("recipient lists")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    def save(self, *args, **kwargs):
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            rowstore.create(self.pk)  # the table of its rows (PostgreSQL)


# The columns of a list row holding placeholder values, v0 ... (RecipientList.columns names them).
VALUE_COLUMNS = tuple(f"v{i}" for i in range(MAX_PLACEHOLDERS))


class ListRow(models.Model):
    """One row of an uploaded list as checked, in the file's own shape: who (a phone or a citizen id), the
    placeholder values in columns v0, v1, ... (``RecipientList.columns`` names them), and what is wrong with the
    row (None: nothing, a valid row).

    ``phone`` is the E.164 number, or a plain Vietnamese mobile number as the file wrote it (0912345678,
    84912345678, +84912345678, 912345678, 0912 345 678, 0912.345.678): a large list is COPYed into its table as
    it is (``copy_check``), and its plain rows are never rewritten; ``e164()`` (and ``E164_SQL`` in raw SQL)
    reads either as E.164.

    On PostgreSQL the table is partitioned by list (``rowstore``): each list's rows are a table of their own,
    created with the list, without an index while the file is stored, dropped by the purge."""

    pk = models.CompositePrimaryKey("recipient_list", "number")
    recipient_list = models.ForeignKey(
        RecipientList, on_delete=models.CASCADE, related_name="rows", db_constraint=False, db_index=False
    )
    number = models.PositiveIntegerField(_("row"))  # the spreadsheet's row number (the header is row 1)
    phone = models.TextField(_("phone"), blank=True, default="")
    citizen_ref = models.TextField(_("citizen id"), blank=True, default="")
    # None: a valid row (no default to compute per row while a file is COPYed); else its problems
    problems = models.JSONField(_("problems"), null=True, blank=True)
    channel = models.CharField(_("planned channel"), max_length=10, blank=True, default="")
    cost = models.PositiveIntegerField(_("estimated cost (VND)"), default=0)
    # v0 ... v29: the placeholder values, NULL where the row has none (one field per column of VALUE_COLUMNS)
    locals().update({name: models.TextField(null=True, blank=True) for name in VALUE_COLUMNS})

    class Meta:
        verbose_name = _("list row")
        verbose_name_plural = _("list rows")
        ordering = ["recipient_list", "number"]

    def __str__(self) -> str:
        return f"{self.recipient_list_id}:{self.number}"

    def values(self, columns: list[str]) -> dict[str, str]:
        """The placeholder values of this row (``columns``: its list's), without the missing ones."""
        return {
            name: value
            for name, column in zip(columns, VALUE_COLUMNS, strict=False)
            if (value := getattr(self, column))
        }

    @property
    def personalisation(self) -> dict[str, str]:
        return self.values(self.recipient_list.columns)

    @property
    def e164_phone(self) -> str:
        return to_e164(self.phone)


# What a plain phone may have between its digits (a space, a dot, a hyphen): readers drop them.
PHONE_SEPARATORS = " .-"
DROP_SEPARATORS = str.maketrans("", "", PHONE_SEPARATORS)


def to_e164(phone: str) -> str:
    """A row's phone as E.164 (see ListRow): in Python, as ``e164()`` in SQL."""
    digits = phone.translate(DROP_SEPARATORS)
    return digits if not digits or digits.startswith("+") else "+84" + digits[-9:]


def e164() -> Case:
    """A row's phone as E.164, as an ORM expression (``to_e164`` in SQL)."""
    digits = F("phone")
    for separator in PHONE_SEPARATORS:
        digits = Replace(digits, Value(separator), Value(""), output_field=models.TextField())
    return Case(
        When(Q(phone=""), then=Value("")),
        When(StartsWith(digits, Value("+")), then=digits),
        default=Concat(Value("+84"), Right(digits, 9), output_field=models.TextField()),
        output_field=models.TextField(),
    )


# The same in raw SQL over a row aliased r (materialize).
E164_SQL = (
    f"(SELECT CASE WHEN d = '' OR d LIKE '+%%' THEN d ELSE '+84' || right(d, 9) END"
    f" FROM (SELECT translate(r.phone, '{PHONE_SEPARATORS}', '') AS d) AS e164)"
)


class StatusEvent(models.Model):
    """One step of a notification's history (queued, sending, sent, delivered, failed), oldest first."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=10, choices=Notification.STATUS_CHOICES)
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.notification_id}: {self.status}"
