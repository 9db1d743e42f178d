"""FAQ content of an account (entries, variants, synonyms), the questions it could not answer, and the
version stamp that tells every process when the account's cached matcher index is stale."""

from __future__ import annotations

import datetime

from django.core.validators import MinLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oa_platform.models import LANGUAGE_CHOICES, OfficialAccount

# Longest canonical question / variant / synonym a staff member may enter; a question is one sentence or two.
MAX_QUESTION = 500
MAX_KEY = 100


class FaqEntry(models.Model):
    """One routine question of an account and its official answer."""

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="faq_entries", verbose_name=_("account")
    )
    key = models.SlugField(
        _("key"), max_length=MAX_KEY, help_text=_("Stable id within the account (kebab-case), used by import.")
    )
    question = models.CharField(_("question"), max_length=MAX_QUESTION, validators=[MinLengthValidator(2)])
    answer = models.TextField(_("answer"), help_text=_("Plain text; links and line breaks are kept."))
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, default="vi")
    category = models.CharField(_("category"), max_length=100, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Both dates are inclusive and read in the account's time zone: the entry answers from valid_from through
    # the whole day of valid_until (an answer with old fees gets valid_until = the day before the new fees).
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Last day it is answered."))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["account_id", "category", "key"]
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="faq_entry_key_unique_per_account"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="faq_entry_validity_ordered",
            ),
        ]
        indexes = [models.Index(fields=["account", "is_active"], name="faq_entry_account_active")]

    def __str__(self) -> str:
        return f"{self.key}: {self.question[:80]}"

    def is_valid_on(self, day: datetime.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class FaqVariant(models.Model):
    """Another phrasing of an entry's question (typed by staff or taken from an unanswered question)."""

    entry = models.ForeignKey(FaqEntry, on_delete=models.CASCADE, related_name="variants", verbose_name=_("FAQ entry"))
    text = models.CharField(_("text"), max_length=MAX_QUESTION)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text[:80]


class Synonym(models.Model):
    """An account's own abbreviation or synonym, on top of the built-in dictionaries (faq/dictionaries/)."""

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="faq_synonyms", verbose_name=_("account")
    )
    term = models.CharField(_("term"), max_length=100, help_text=_("What citizens type, e.g. 'gpkd'."))
    expansion = models.CharField(
        _("expansion"), max_length=200, help_text=_("What it means, e.g. 'giấy phép kinh doanh'.")
    )
    # Blank: every language of the account.
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("synonym")
        verbose_name_plural = _("synonyms")
        ordering = ["account_id", "term"]
        constraints = [
            models.UniqueConstraint(fields=["account", "term", "language"], name="faq_synonym_unique_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.expansion}"


class UnansweredQuestion(models.Model):
    """A question the bot could not answer outright, deduplicated by its normalised text."""

    DECISION_FALLBACK = "fallback"  # no FAQ came close; the citizen got the polite fallback
    DECISION_SUGGEST = "suggest"  # the bot only offered "did you mean ..." quick replies
    DECISION_NOT_HELPFUL = "not_helpful"  # the bot answered and the citizen rated the answer not helpful
    # out of this account's scope: another account of the platform answers it (referred_to), the bot pointed there
    DECISION_OTHER_AGENCY = "other_agency"
    DECISION_CHOICES = [
        (DECISION_FALLBACK, _("fallback")),
        (DECISION_SUGGEST, _("suggest")),
        (DECISION_NOT_HELPFUL, _("not helpful")),
        (DECISION_OTHER_AGENCY, _("belongs to another agency")),
    ]
    STATUS_OPEN = "open"  # waiting for an editor
    STATUS_IGNORED = "ignored"  # an editor decided it needs no FAQ; later repeats only count
    STATUS_RESOLVED = "resolved"  # made a variant of an entry or a new entry; a repeat reopens it
    STATUS_CHOICES = [(STATUS_OPEN, _("open")), (STATUS_IGNORED, _("ignored")), (STATUS_RESOLVED, _("resolved"))]

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="unanswered_questions", verbose_name=_("account")
    )
    normalized = models.TextField(_("normalised text"))
    # SHA-256 of ``normalized``: the dedup key (a unique index on long text would exceed btree limits).
    normalized_hash = models.CharField(_("normalised text hash"), max_length=64, editable=False)
    sample_text = models.TextField(_("latest text"))
    decision = models.CharField(_("decision"), max_length=12, choices=DECISION_CHOICES)
    faq_key = models.CharField(_("closest FAQ"), max_length=MAX_KEY, blank=True)
    count = models.PositiveIntegerField(_("count"), default=1)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES, default=STATUS_OPEN)
    resolved_entry = models.ForeignKey(
        FaqEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("resolved by")
    )
    # The account the bot referred the citizen to (decision other_agency), as of the latest occurrence.
    referred_to = models.ForeignKey(
        OfficialAccount,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("belongs to (another agency)"),
    )

    class Meta:
        verbose_name = _("unanswered question")
        verbose_name_plural = _("unanswered questions")
        ordering = ["-count", "-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["account", "normalized_hash"], name="faq_unanswered_unique_per_account")
        ]
        indexes = [models.Index(fields=["account", "status", "-count"], name="faq_unanswered_by_count")]

    def __str__(self) -> str:
        return self.sample_text[:80]


class FaqIndexVersion(models.Model):
    """Bumped in the same transaction as any change to an account's entries, variants or synonyms.

    Every process compares (version, changed_at) with the stamp of its cached index and rebuilds on a
    difference; ``changed_at`` guards against a version number reused after a rolled-back bump."""

    account = models.OneToOneField(
        OfficialAccount, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("account")
    )
    version = models.BigIntegerField(_("version"), default=0)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("FAQ index version")
        verbose_name_plural = _("FAQ index versions")

    def __str__(self) -> str:
        return f"{self.account_id}@{self.version}"
