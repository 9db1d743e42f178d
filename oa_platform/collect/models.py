"""Information collection: forms (questions in three languages), rounds (once or recurring), one response per
person per round, and the running counts the results page reads (kept as answers arrive, never a re-scan)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oa_platform.models import Area, Citizen, OfficialAccount


class Form(models.Model):
    LATE_ACCEPT = "accept"  # an answer after the round closed is stored, marked late
    LATE_REFUSE = "refuse"  # an answer after the round closed is refused (409)
    LATE_CHOICES = [(LATE_ACCEPT, _("accept, marked late")), (LATE_REFUSE, _("refuse"))]

    REPEAT_NONE = "none"  # one round, opened by hand or by the API
    REPEAT_DAILY = "daily"  # a round every day at open_time
    REPEAT_WEEKDAYS = "weekdays"  # a round on the chosen weekdays at open_time
    REPEAT_CHOICES = [(REPEAT_NONE, _("once")), (REPEAT_DAILY, _("daily")), (REPEAT_WEEKDAYS, _("on weekdays"))]

    AUDIENCE_FOLLOWERS = "followers"  # the account's active followers (optionally of one topic and one area)
    AUDIENCE_STAFF = "staff"  # the account's staff (their test identities)
    AUDIENCE_LIST = "list"  # the people of a list of phones (typed, or copied from an uploaded recipient list)
    AUDIENCE_CHOICES = [
        (AUDIENCE_FOLLOWERS, _("followers")),
        (AUDIENCE_STAFF, _("staff")),
        (AUDIENCE_LIST, _("a list of phones")),
    ]
    # Phones one form's list may hold: the audience query binds each one (PostgreSQL takes 65,535 parameters).
    AUDIENCE_PHONES_MAX = 20_000

    account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, related_name="forms", verbose_name=_("account")
    )
    key = models.SlugField(_("key"), max_length=60)
    title_vi = models.CharField(_("title (Vietnamese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    late_policy = models.CharField(_("late answers"), max_length=10, choices=LATE_CHOICES, default=LATE_ACCEPT)
    # Responses older than this many days are deleted by the daily purge; empty: kept until erased.
    retention_days = models.PositiveIntegerField(_("keep responses (days)"), null=True, blank=True)
    audience = models.CharField(_("audience"), max_length=10, choices=AUDIENCE_CHOICES, default=AUDIENCE_FOLLOWERS)
    audience_topic = models.SlugField(_("audience topic"), max_length=40, blank=True)
    # Followers whose chosen areas (or, choosing none, whose home area) lie in this area; empty: every area.
    audience_area = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("audience area"),
    )
    # AUDIENCE_LIST: E.164 phones; the audience is the account's citizens with one of them.
    audience_phones = models.JSONField(_("audience phones"), default=list, blank=True)
    # Where the list came from (an uploaded recipient list's file name), shown to staff.
    audience_list_name = models.CharField(_("audience list"), max_length=200, blank=True)
    # Recurrence (local time of the account): a round opens at open_time for window_minutes, reminder at remind_time.
    repeat = models.CharField(_("repeat"), max_length=10, choices=REPEAT_CHOICES, default=REPEAT_NONE)
    repeat_weekdays = models.CharField(_("weekdays"), max_length=20, blank=True, help_text=_("0 = Monday … 6 = Sunday"))
    open_time = models.TimeField(_("opens at"), null=True, blank=True)
    window_minutes = models.PositiveIntegerField(_("open for (minutes)"), default=24 * 60)
    remind_time = models.TimeField(_("reminder at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("form")
        verbose_name_plural = _("forms")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="collect_form_unique_key")]

    def __str__(self) -> str:
        return self.title_vi

    def title(self, language: str) -> str:
        if language == "en" and self.title_en:
            return self.title_en
        if language.startswith("zh") and self.title_zh:
            return self.title_zh
        return self.title_vi


class Question(models.Model):
    TYPE_SHORT_TEXT = "short_text"
    TYPE_LONG_TEXT = "long_text"
    TYPE_NUMBER = "number"
    TYPE_CHOICE = "choice"  # one of the options
    TYPE_MULTIPLE = "multiple"  # any of the options
    TYPE_DATE = "date"
    TYPE_PHONE = "phone"
    TYPE_AREA = "area"  # an administrative area code (province -> ward)
    TYPE_YES_NO = "yes_no"
    TYPES = [
        TYPE_SHORT_TEXT,
        TYPE_LONG_TEXT,
        TYPE_NUMBER,
        TYPE_CHOICE,
        TYPE_MULTIPLE,
        TYPE_DATE,
        TYPE_PHONE,
        TYPE_AREA,
        TYPE_YES_NO,
    ]
    TYPE_CHOICES = [
        (TYPE_SHORT_TEXT, _("short text")),
        (TYPE_LONG_TEXT, _("long text")),
        (TYPE_NUMBER, _("number")),
        (TYPE_CHOICE, _("one choice")),
        (TYPE_MULTIPLE, _("several choices")),
        (TYPE_DATE, _("date")),
        (TYPE_PHONE, _("phone")),
        (TYPE_AREA, _("area")),
        (TYPE_YES_NO, _("yes / no")),
    ]

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="questions", verbose_name=_("form"))
    key = models.SlugField(_("key"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    type = models.CharField(_("type"), max_length=12, choices=TYPE_CHOICES)
    required = models.BooleanField(_("required"), default=False)
    label_vi = models.CharField(_("label (Vietnamese)"), max_length=300)
    label_en = models.CharField(_("label (English)"), max_length=300, blank=True)
    label_zh = models.CharField(_("label (Chinese)"), max_length=300, blank=True)
    help_vi = models.CharField(_("help (Vietnamese)"), max_length=300, blank=True)
    help_en = models.CharField(_("help (English)"), max_length=300, blank=True)
    help_zh = models.CharField(_("help (Chinese)"), max_length=300, blank=True)
    # [{"key": "...", "label_vi": "...", "label_en": "...", "label_zh": "..."}]: choice and multiple only.
    options = models.JSONField(_("options"), default=list, blank=True)
    min_value = models.FloatField(_("minimum"), null=True, blank=True)
    max_value = models.FloatField(_("maximum"), null=True, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["form", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["form", "key"], name="collect_question_unique_key")]

    def __str__(self) -> str:
        return self.label_vi

    def label(self, language: str) -> str:
        if language == "en" and self.label_en:
            return self.label_en
        if language.startswith("zh") and self.label_zh:
            return self.label_zh
        return self.label_vi

    def help(self, language: str) -> str:
        if language == "en" and self.help_en:
            return self.help_en
        if language.startswith("zh") and self.help_zh:
            return self.help_zh
        return self.help_vi


def option_label(option: dict, language: str) -> str:
    if language == "en" and option.get("label_en"):
        return option["label_en"]
    if language.startswith("zh") and option.get("label_zh"):
        return option["label_zh"]
    return option.get("label_vi") or option["key"]


class Round(models.Model):
    """One collection window of a form. Its audience size is fixed when it opens; ``responded`` counts as
    responses arrive (one F() update per new response)."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="rounds", verbose_name=_("form"))
    opens_at = models.DateTimeField(_("opens at"), default=timezone.now)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    remind_at = models.DateTimeField(_("reminder at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    # Telling the audience that the round opened (and reminding it) goes in chunks of citizens by id: the last
    # id told so far, so that a beat tick carries on where the previous one stopped. announced_at: all told.
    announce_cursor = models.BigIntegerField(_("announced up to citizen"), default=0)
    announced_at = models.DateTimeField(_("audience told at"), null=True, blank=True)
    remind_cursor = models.BigIntegerField(_("reminded up to citizen"), default=0)
    # "Remind them now" pressed by staff: when, how far it got, when it finished (the scheduled reminder apart).
    nudge_requested_at = models.DateTimeField(_("reminder asked at"), null=True, blank=True)
    nudge_cursor = models.BigIntegerField(_("reminded now up to citizen"), default=0)
    nudged_at = models.DateTimeField(_("reminded now at"), null=True, blank=True)
    audience_count = models.PositiveIntegerField(_("audience"), default=0)
    responded = models.PositiveIntegerField(_("responded"), default=0)
    # Of ``responded``, those who were in the audience when they first answered (Response.in_audience); the rest
    # answered from outside it (a shared link, a follower of another topic) and never count towards the progress.
    responded_in_audience = models.PositiveIntegerField(_("responded in the audience"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["-opens_at", "-id"]
        # A recurring form's beat may run twice for the same slot: the second insert fails and does nothing.
        constraints = [models.UniqueConstraint(fields=["form", "opens_at"], name="collect_round_unique_start")]

    def __str__(self) -> str:
        return f"{self.form_id} @ {self.opens_at:%Y-%m-%d %H:%M}"

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now and (self.closes_at is None or now < self.closes_at)


class Response(models.Model):
    """One person's answers in one round: editable (a new submission replaces the answers) until it closes."""

    CHANNEL_API = "api"
    CHANNEL_WEB = "web"  # the web form page
    CHANNEL_CHAT = "chat"  # the chat dialogue (web chat, Zalo, WeChat, generic)

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="responses", verbose_name=_("form"))
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="responses", verbose_name=_("round"))
    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="form_responses", verbose_name=_("citizen")
    )
    answers = models.JSONField(_("answers"), default=dict)
    channel = models.CharField(_("channel"), max_length=10, default=CHANNEL_API)
    is_late = models.BooleanField(_("late"), default=False)
    # The person was in the form's audience when they first answered (audience.audience_has); recomputed for
    # open rounds when staff change the audience. Round.responded_in_audience counts these.
    in_audience = models.BooleanField(_("in the audience"), default=False)
    created_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["round", "citizen"], name="collect_response_one_per_round")]

    def __str__(self) -> str:
        return f"response #{self.pk}"


class Submission(models.Model):
    """One submission by a client (its UUID): the same client id again is the same submission, stored once."""

    client_id = models.UUIDField(_("client id"), unique=True)
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="submissions", verbose_name=_("response")
    )
    # SHA-256 of the canonical JSON of the answers as submitted: a replay with other answers is told so.
    digest = models.CharField(_("digest"), max_length=64)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")

    def __str__(self) -> str:
        return str(self.client_id)


class Tally(models.Model):
    """A running count for one (round, question, bucket): an option key, "yes"/"no", a number's bin, a province
    code; the bucket "" counts the question's answers. Updated by an upsert per submission."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="tallies", verbose_name=_("round"))
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+", verbose_name=_("question"))
    bucket = models.CharField(_("bucket"), max_length=80, blank=True)
    count = models.IntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("tally")
        verbose_name_plural = _("tallies")
        constraints = [
            models.UniqueConstraint(fields=["round", "question", "bucket"], name="collect_tally_unique_bucket")
        ]

    def __str__(self) -> str:
        return f"{self.question_id}:{self.bucket}={self.count}"


class Dialogue(models.Model):
    """A form being answered in chat: which question is next and the answers so far. While one is active the
    chat engine hands the citizen's messages to oa_platform.collect.dialogue (the FAQ bot pauses)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+", verbose_name=_("account"))
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+", verbose_name=_("citizen"))
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+", verbose_name=_("round"))
    position = models.PositiveSmallIntegerField(_("question number"), default=0)
    answers = models.JSONField(_("answers"), default=dict)
    language = models.CharField(_("language"), max_length=8, default="vi")
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("form dialogue")
        verbose_name_plural = _("form dialogues")
        constraints = [
            models.UniqueConstraint(fields=["account", "citizen"], name="collect_dialogue_one_per_citizen"),
        ]

    def __str__(self) -> str:
        return f"dialogue {self.pk}"


class AnswerLink(models.Model):
    """A browser that opened a personal link from a form's message answers the account's forms as the person the
    message was sent to (their Zalo, WeChat, generic or staff identity), not as a new web identity: so the
    round's "not answered" list, its reminders and the count know that they answered. The latest link wins."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+", verbose_name=_("account"))
    web_citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="+", verbose_name=_("browser identity")
    )
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+", verbose_name=_("answers as"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("answer link")
        verbose_name_plural = _("answer links")
        constraints = [
            models.UniqueConstraint(fields=["account", "web_citizen"], name="collect_answerlink_one_per_browser")
        ]

    def __str__(self) -> str:
        return f"{self.web_citizen_id} -> {self.citizen_id}"
