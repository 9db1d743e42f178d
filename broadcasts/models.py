"""Notices, their deliveries and the fan-out bookkeeping (chunks with leases), per-account broadcast settings."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oa_platform.models import ApiToken, ChannelConfig, Citizen, OfficialAccount
from oa_platform.url_policy import validate_web_url


class Notice(models.Model):
    SEVERITY_EXTREME = "extreme"  # CAP Extreme: extraordinary threat to life or property
    SEVERITY_SEVERE = "severe"  # CAP Severe: significant threat to life or property
    SEVERITY_MODERATE = "moderate"  # CAP Moderate: possible threat
    SEVERITY_MINOR = "minor"  # CAP Minor: minimal to no known threat
    SEVERITY_CHOICES = [
        (SEVERITY_EXTREME, _("extreme")),
        (SEVERITY_SEVERE, _("severe")),
        (SEVERITY_MODERATE, _("moderate")),
        (SEVERITY_MINOR, _("minor")),
    ]
    URGENT_SEVERITIES = (SEVERITY_EXTREME, SEVERITY_SEVERE)

    STATUS_DRAFT = "draft"  # being written; the only editable status
    STATUS_PENDING = "pending_approval"  # submitted; waits for an approver who is not the author
    STATUS_SCHEDULED = "scheduled"  # approved (or needs no approval); the dispatcher sends it at dispatch_at
    STATUS_SENDING = "sending"  # claimed by the dispatcher; deliveries exist, chunks are being sent
    STATUS_SENT = "sent"  # every delivery reached a final status
    STATUS_CANCELLED = "cancelled"  # stopped by staff; queued deliveries were skipped
    STATUS_EXPIRED = "expired"  # expires_at passed before everything was sent; the rest was skipped
    STATUS_CHOICES = [
        (STATUS_DRAFT, _("draft")),
        (STATUS_PENDING, _("pending approval")),
        (STATUS_SCHEDULED, _("scheduled")),
        (STATUS_SENDING, _("sending")),
        (STATUS_SENT, _("sent")),
        (STATUS_CANCELLED, _("cancelled")),
        (STATUS_EXPIRED, _("expired")),
    ]
    FINAL_STATUSES = (STATUS_SENT, STATUS_CANCELLED, STATUS_EXPIRED)

    MODE_LIVE = "live"  # to the real audience
    MODE_TEST = "test"  # only to the test citizens of the account's staff test group
    MODE_CHOICES = [(MODE_LIVE, _("live")), (MODE_TEST, _("test"))]

    KIND_ALERT = "alert"  # an original notice (CAP msgType Alert)
    KIND_UPDATE = "update"  # corrects an earlier notice, to exactly its recipients (CAP Update)
    KIND_CANCEL = "cancel"  # withdraws an earlier notice, to exactly its recipients (CAP Cancel)
    KIND_CHOICES = [(KIND_ALERT, _("alert")), (KIND_UPDATE, _("update")), (KIND_CANCEL, _("cancel"))]

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="notices", verbose_name=_("account")
    )
    category = models.SlugField(_("category (topic key)"), max_length=40)
    severity = models.CharField(_("severity"), max_length=10, choices=SEVERITY_CHOICES, default=SEVERITY_MODERATE)
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=200)
    body_vi = models.TextField(_("body (Vietnamese)"))
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    body_zh = models.TextField(_("body (Chinese)"), blank=True)
    link = models.URLField(_("link"), blank=True, validators=[validate_web_url])
    # Audience: topics (empty: the category's topic; audience_all: every topic, and then no topics may be named),
    # area codes (a province includes everything under it) and languages (empty: all) all have to match.
    audience_all = models.BooleanField(_("all followers"), default=False)
    audience_topics = models.JSONField(_("topics"), default=list, blank=True)
    audience_areas = models.JSONField(_("area codes"), default=list, blank=True)
    audience_languages = models.JSONField(_("languages"), default=list, blank=True)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True, help_text=_("empty: as soon as approved"))
    # When the dispatcher may send it: send_at moved past the quiet hours for moderate and minor notices.
    dispatch_at = models.DateTimeField(_("dispatch at"), null=True, blank=True, db_index=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    mode = models.CharField(_("mode"), max_length=5, choices=MODE_CHOICES, default=MODE_LIVE)
    kind = models.CharField(_("kind"), max_length=6, choices=KIND_CHOICES, default=KIND_ALERT)
    references = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("refers to")
    )
    status = models.CharField(_("status"), max_length=20, choices=STATUS_CHOICES, default=STATUS_DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    author_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author token")
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approver"),
    )
    approver_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("approver token")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    started_at = models.DateTimeField(_("sending started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    recipients_count = models.PositiveIntegerField(_("recipients count"), default=0)
    # Final counts per status, filled when the notice leaves "sending" (live progress is counted on demand).
    counts = models.JSONField(_("final counts"), default=dict, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "dispatch_at"], name="notice_status_dispatch")]

    def __str__(self) -> str:
        return self.title_vi[:80]

    def text_for(self, language: str) -> tuple[str, str]:
        """Title and body in ``language``, else Vietnamese."""
        if language == "en" and self.title_en and self.body_en:
            return self.title_en, self.body_en
        if language.startswith("zh") and self.title_zh and self.body_zh:
            return self.title_zh, self.body_zh
        return self.title_vi, self.body_vi

    @property
    def cap_identifier(self) -> str:
        return f"oa-{self.account.slug}-notice-{self.pk}"


class BroadcastSettings(models.Model):
    """One row per account: quiet hours, approval policy and how phone-holders are reached."""

    APPROVAL_ALL = "all"  # every notice needs a second person
    APPROVAL_URGENT = "urgent"  # only severe and extreme notices need a second person
    APPROVAL_CHOICES = [(APPROVAL_ALL, _("every notice")), (APPROVAL_URGENT, _("severe and extreme only"))]
    PHONE_NONE = ""  # phone numbers are not used; in-app only
    PHONE_SMS = "sms"  # web-chat citizens with a phone get the notice by SMS
    PHONE_ZNS = "zns"  # web-chat citizens with a phone get the notice by Zalo ZNS
    PHONE_CHOICES = [(PHONE_NONE, _("none")), (PHONE_SMS, "SMS"), (PHONE_ZNS, "Zalo ZNS")]

    account = models.OneToOneField(
        OfficialAccount, on_delete=models.CASCADE, related_name="broadcast_settings", verbose_name=_("account")
    )
    quiet_start = models.TimeField(_("quiet hours start"), default=dt.time(21, 0))
    quiet_end = models.TimeField(_("quiet hours end"), default=dt.time(6, 0))
    approval_policy = models.CharField(
        _("approval needed for"), max_length=10, choices=APPROVAL_CHOICES, default=APPROVAL_ALL
    )
    phone_channel = models.CharField(
        _("phone channel"), max_length=5, choices=PHONE_CHOICES, default=PHONE_NONE, blank=True
    )

    class Meta:
        verbose_name = _("broadcast settings")
        verbose_name_plural = _("broadcast settings")

    def __str__(self) -> str:
        return f"{self.account}"


class Delivery(models.Model):
    CHANNEL_INAPP = "inapp"  # the citizen's inbox on the chat page, pushed live
    CHANNEL_CHOICES = [
        (CHANNEL_INAPP, _("in-app")),
        (Citizen.CHANNEL_ZALO, "Zalo OA"),
        (Citizen.CHANNEL_WECHAT, "WeChat"),
        (ChannelConfig.KIND_ZNS, "Zalo ZNS"),
        (ChannelConfig.KIND_SMS, "SMS"),
        (ChannelConfig.KIND_WEBHOOK, _("webhook")),
    ]
    STATUS_QUEUED = "queued"  # waiting to be sent
    STATUS_SENDING = "sending"  # being posted to the provider right now (written and committed before the post)
    STATUS_SENT = "sent"  # handed to the channel (in-app: in the inbox)
    STATUS_DELIVERED = "delivered"  # the provider reported delivery
    STATUS_READ = "read"  # the citizen opened it
    STATUS_FAILED = "failed"  # refused for good; last_error says why
    STATUS_SKIPPED = "skipped"  # never sent: notice cancelled or expired first
    # Found "sending" after a crash: maybe posted, result lost; not re-posted to a provider that does not
    # deduplicate on the Idempotency-Key (see ChannelConfig.honours_idempotency_key). Check with the provider.
    STATUS_UNKNOWN = "unknown"
    UNKNOWN_ERROR = "worker stopped after the post, before writing its result: not re-sent, check with the provider"
    STATUS_CHOICES = [
        (STATUS_QUEUED, _("queued")),
        (STATUS_SENDING, _("sending")),
        (STATUS_UNKNOWN, _("unknown")),
        (STATUS_SENT, _("sent")),
        (STATUS_DELIVERED, _("delivered")),
        (STATUS_READ, _("read")),
        (STATUS_FAILED, _("failed")),
        (STATUS_SKIPPED, _("skipped")),
    ]
    RECEIVED_STATUSES = (STATUS_SENT, STATUS_DELIVERED, STATUS_READ)
    # Not final yet: progress counts the rest as done.
    OPEN_STATUSES = (STATUS_QUEUED, STATUS_SENDING)

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("notice"))
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+", verbose_name=_("citizen"))
    channel = models.CharField(_("channel"), max_length=10, choices=CHANNEL_CHOICES)
    language = models.CharField(_("language"), max_length=8, default="vi")
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES, default=STATUS_QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True, default="")
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True, default="")
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["notice", "citizen"], name="delivery_unique_notice_citizen")]
        indexes = [models.Index(fields=["citizen", "status"], name="delivery_citizen_status")]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.citizen_id} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and workers: one (notice, citizen) pair is one delivery (unique constraint)."""
        return idempotency_key(self.notice_id, self.citizen_id)


def idempotency_key(notice_id: int, citizen_id: int) -> str:
    return f"oa-n{notice_id}-c{citizen_id}"


class Chunk(models.Model):
    """A slice of a notice's deliveries (an id range) sent by one task. The lease lets a sweeper hand a chunk
    whose worker died to another worker; status guards on deliveries make a re-run harmless."""

    STATUS_PENDING = "pending"  # created, task enqueued (or to be re-enqueued by the sweeper)
    STATUS_RUNNING = "running"  # a worker holds the lease until lease_until
    STATUS_DONE = "done"  # every delivery in the range reached a final status
    STATUS_CHOICES = [(STATUS_PENDING, _("pending")), (STATUS_RUNNING, _("running")), (STATUS_DONE, _("done"))]

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("notice"))
    channel = models.CharField(_("channel"), max_length=10)
    first_id = models.BigIntegerField(_("first delivery id"))
    last_id = models.BigIntegerField(_("last delivery id"))
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES, default=STATUS_PENDING)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    not_before = models.DateTimeField(
        _("not before"), null=True, blank=True, help_text=_("provider asked to wait (429)")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("delivery chunk")
        verbose_name_plural = _("delivery chunks")
        constraints = [models.UniqueConstraint(fields=["notice", "first_id"], name="chunk_unique_start")]
        indexes = [
            models.Index(fields=["status", "lease_until"], name="chunk_status_lease"),
            models.Index(fields=["notice", "status"], name="chunk_notice_status", condition=~Q(status="done")),
        ]

    def __str__(self) -> str:
        return f"notice {self.notice_id} [{self.first_id}..{self.last_id}] {self.status}"
