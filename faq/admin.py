"""FAQ admin: entries with inline variants, synonyms, the unanswered-question review, a "try a question" box,
and import/export. Everything is scoped to the staff member's accounts where they are editor or manager
(``oa_platform.admin_scoping``); the extra views look the account up among those accounts only."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from faq import interchange, services
from faq.intents import detect_intent
from faq.models import FaqEntry, FaqVariant, Synonym, UnansweredQuestion
from oa_platform.admin_scoping import EDITORS, TenantScopedAdmin, TenantScopedInline, staff_accounts
from oa_platform.errors import DomainError

FAQ_ROLES = {"view": EDITORS, "add": EDITORS, "change": EDITORS, "delete": EDITORS}
# The try box accepts what the chat accepts and more, so an operator can paste a long complaint and see.
TRY_MAX_CHARS = 10_000


def editor_accounts(request):
    return staff_accounts(request, EDITORS).order_by("name")


def _account_or_404(request, slug: str):
    """The account ``slug`` if the signed-in user is its editor or manager; 404 otherwise (never 403: the
    other agency's accounts are not even confirmed to exist)."""
    return get_object_or_404(editor_accounts(request), slug=slug)


# --- entries ------------------------------------------------------------------------------------------------------
class FaqVariantInline(TenantScopedInline):
    model = FaqVariant
    tenant_path = "entry__account"
    required_roles = FAQ_ROLES
    extra = 1
    fields = ["text"]


class FaqEntryForm(forms.ModelForm):
    tags = forms.CharField(
        label=_("tags"), required=False, help_text=_("Comma-separated."), widget=forms.TextInput(attrs={"size": 60})
    )

    class Meta:
        model = FaqEntry
        fields = ["account", "key", *services.ENTRY_FIELDS]  # what the services may write, in the same order

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.instance.tags, list):
            self.initial["tags"] = ", ".join(self.instance.tags)

    def clean_tags(self):
        return [t.strip()[:60] for t in (self.cleaned_data.get("tags") or "").split(",") if t.strip()]


@admin.register(FaqEntry)
class FaqEntryAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = FAQ_ROLES
    form = FaqEntryForm
    inlines = [FaqVariantInline]
    list_display = ["key", "short_question", "account", "category", "is_active", "valid_until", "last_reviewed"]
    list_filter = ["account", "is_active", "category", "language"]
    search_fields = ["key", "question", "answer", "variants__text"]
    list_select_related = ["account"]
    ordering = ["account__name", "category", "key"]
    actions = ["export_json", "export_csv"]
    change_list_template = "admin/faq/faqentry/change_list.html"
    fieldsets = [
        (None, {"fields": ["account", "key", "question", "answer"]}),
        (_("Classification"), {"fields": ["language", "category", "tags", "is_active"]}),
        (_("Validity and review"), {"fields": ["valid_from", "valid_until", "legal_basis", "last_reviewed"]}),
    ]

    @admin.display(description=_("question"))
    def short_question(self, obj):
        return Truncator(obj.question).chars(90)

    def get_readonly_fields(self, request, obj=None):
        # The key is what import matches on; renaming it would orphan the entry in the next import.
        return ["account", "key"] if obj is not None else []

    # -- actions (selected entries, grouped by account)
    @admin.action(description=_("Export selected entries (JSON)"), permissions=["view"])
    def export_json(self, request, queryset):
        accounts = sorted({e.account for e in queryset.select_related("account")}, key=lambda a: a.slug)
        document = interchange.faq_export(accounts=accounts, entry_ids=list(queryset.values_list("pk", flat=True)))
        return _download(json.dumps(document, ensure_ascii=False, indent=2), "faq.json", "application/json")

    @admin.action(description=_("Export selected entries (CSV, one account)"), permissions=["view"])
    def export_csv(self, request, queryset):
        accounts = {e.account for e in queryset.select_related("account")}
        if len(accounts) != 1:
            self.message_user(
                request, _("A CSV file holds one account: select entries of one account."), messages.ERROR
            )
            return None
        account = accounts.pop()
        text = interchange.faq_export_csv(account=account, entry_ids=list(queryset.values_list("pk", flat=True)))
        return _download(text, f"faq-{account.slug}.csv", "text/csv")

    # -- extra pages
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("tools/", view(self.tools_view), name="faq_faqentry_tools"),
            path("<slug:slug>/try/", view(self.try_view), name="faq_faqentry_try"),
            path("<slug:slug>/import/", view(self.import_view), name="faq_faqentry_import"),
            path("<slug:slug>/export.<str:fmt>", view(self.export_view), name="faq_faqentry_export"),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def tools_view(self, request):
        accounts = list(editor_accounts(request))
        if not accounts:
            raise PermissionDenied
        return TemplateResponse(
            request, "admin/faq/tools.html", self._context(request, _("FAQ tools"), accounts=accounts)
        )

    def try_view(self, request, slug):
        account = _account_or_404(request, slug)
        form = TryForm(request.POST or None)
        result = intent = None
        if request.method == "POST" and form.is_valid():
            text = form.cleaned_data["text"]
            intent = detect_intent(text, language=account.language)
            result = services.faq_match(account=account, text=text)
        context = self._context(
            request,
            _("Try a question — %(name)s") % {"name": account.name},
            account=account,
            form=form,
            result=result,
            intent=intent,
        )
        return TemplateResponse(request, "admin/faq/try.html", context, status=400 if form.errors else 200)

    def import_view(self, request, slug):
        account = _account_or_404(request, slug)
        form = ImportForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    data = upload.read(interchange.MAX_FILE_BYTES + 1)
                    if upload.name.lower().endswith(".csv"):
                        report = interchange.faq_import_csv(account=account, data=data, actor=request.user)
                    else:
                        report = interchange.faq_import(
                            document=interchange.parse_json(data), actor=request.user, allowed_accounts=[account]
                        )
                except DomainError as exc:
                    messages.error(request, _("Nothing was imported: %(error)s") % {"error": exc.message})
                    status = 400
                else:
                    messages.success(request, report.as_text())
                    return redirect(f"{reverse('admin:faq_faqentry_changelist')}?account__id__exact={account.pk}")
            else:
                status = 400
        context = self._context(
            request,
            _("Import FAQs into %(name)s") % {"name": account.name},
            account=account,
            form=form,
            variant_separator=_("one variant per line inside the cell"),
            columns=", ".join(interchange.CSV_COLUMNS),
        )
        return TemplateResponse(request, "admin/faq/import.html", context, status=status)

    def export_view(self, request, slug, fmt):
        account = _account_or_404(request, slug)
        if fmt == "json":
            text = json.dumps(interchange.faq_export(accounts=[account]), ensure_ascii=False, indent=2)
            return _download(text, f"faq-{account.slug}.json", "application/json")
        if fmt == "csv":
            return _download(interchange.faq_export_csv(account=account), f"faq-{account.slug}.csv", "text/csv")
        return HttpResponse(status=404)


def _download(text: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class TryForm(forms.Form):
    text = forms.CharField(
        label=_("Question"), max_length=TRY_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (.json or .csv)"))


# --- synonyms -------------------------------------------------------------------------------------------------------
@admin.register(Synonym)
class SynonymAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = FAQ_ROLES
    list_display = ["term", "expansion", "language", "account"]
    list_filter = ["account", "language"]
    search_fields = ["term", "expansion"]
    fields = ["account", "term", "expansion", "language"]

    def save_model(self, request, obj, form, change):
        obj.term = obj.term.strip().casefold()
        super().save_model(request, obj, form, change)


# --- unanswered questions -----------------------------------------------------------------------------------------
class AddVariantForm(forms.Form):
    entry = forms.ModelChoiceField(label=_("FAQ entry"), queryset=FaqEntry.objects.none())

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entry"].queryset = FaqEntry.objects.filter(account=account).order_by("key")


class CreateFaqForm(forms.Form):
    key = forms.SlugField(
        label=_("key"),
        max_length=100,
        help_text=_("Short stable id, lowercase words joined by hyphens, e.g. ho-chieu-le-phi."),
    )
    question = forms.CharField(
        label=_("question"), max_length=500, widget=forms.TextInput(attrs={"size": 80, "class": "vTextField"})
    )
    answer = forms.CharField(label=_("answer"), widget=forms.Textarea(attrs={"rows": 6, "cols": 80}))
    category = forms.CharField(label=_("category"), max_length=100, required=False)
    tags = forms.CharField(label=_("tags"), required=False, help_text=_("Comma-separated."))


class UnansweredStatusFilter(admin.SimpleListFilter):
    """Open items by default (the review queue); the other statuses and "all" on request."""

    title = _("status")
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*UnansweredQuestion.STATUS_CHOICES, (self.ALL, _("All"))]

    def queryset(self, request, queryset):
        value = self.value() or UnansweredQuestion.STATUS_OPEN
        if value == self.ALL:
            return queryset
        if value not in dict(UnansweredQuestion.STATUS_CHOICES):
            return queryset.none()
        return queryset.filter(status=value)

    def choices(self, changelist):
        current = self.value() or UnansweredQuestion.STATUS_OPEN
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


@admin.register(UnansweredQuestion)
class UnansweredQuestionAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = FAQ_ROLES
    list_display = ["short_text", "count", "decision", "faq_key", "referred_to", "last_seen", "status", "account"]
    list_filter = [UnansweredStatusFilter, "decision", "account"]
    search_fields = ["sample_text", "normalized"]
    ordering = ["-count", "-last_seen"]
    list_select_related = ["account", "resolved_entry", "referred_to"]
    actions = ["add_as_variant", "create_faq", "ignore"]
    readonly_fields = [
        "account",
        "sample_text",
        "normalized",
        "decision",
        "faq_key",
        "referred_to",
        "count",
        "first_seen",
        "last_seen",
        "status",
        "resolved_entry",
    ]
    fields = readonly_fields

    @admin.display(description=_("question"), ordering="sample_text")
    def short_text(self, obj):
        return Truncator(obj.sample_text).chars(100)

    def has_add_permission(self, request):
        return False  # they come from citizens only

    def _one_account(self, request, queryset):
        accounts = {item.account_id for item in queryset}
        if len(accounts) != 1:
            self.message_user(request, _("Select questions of one account."), messages.ERROR)
            return None
        return queryset.first().account

    @admin.action(description=_("Add as a variant of an FAQ…"), permissions=["change"])
    def add_as_variant(self, request, queryset):
        account = self._one_account(request, queryset)
        if account is None:
            return None
        form = AddVariantForm(request.POST if "apply" in request.POST else None, account=account)
        if form.is_valid():
            entry = form.cleaned_data["entry"]
            done = 0
            for item in queryset:
                try:
                    services.unanswered_add_as_variant(item=item, entry=entry, actor=request.user)
                    done += 1
                except DomainError as exc:
                    self.message_user(
                        request, f"{Truncator(item.sample_text).chars(60)}: {exc.message}", messages.ERROR
                    )
            if done:
                self.message_user(request, _("%(n)d question(s) added to %(key)s.") % {"n": done, "key": entry.key})
            return None
        context = self._context(
            request,
            _("Add as a variant of an FAQ"),
            items=queryset,
            form=form,
            account=account,
            action="add_as_variant",
        )
        return TemplateResponse(request, "admin/faq/unanswered_add_variant.html", context)

    @admin.action(description=_("Create an FAQ from this…"), permissions=["change"])
    def create_faq(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one question to create an FAQ from."), messages.ERROR)
            return None
        return redirect("admin:faq_unansweredquestion_create_faq", queryset.get().pk)

    @admin.action(description=_("Ignore"), permissions=["change"])
    def ignore(self, request, queryset):
        for item in queryset:
            services.unanswered_ignore(item=item, actor=request.user)
        self.message_user(request, _("%(n)d question(s) ignored.") % {"n": len(queryset)})

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/create-faq/", view(self.create_faq_view), name="faq_unansweredquestion_create_faq"),
            *super().get_urls(),
        ]

    def create_faq_view(self, request, pk):
        item = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, item):
            raise PermissionDenied
        initial = {"question": item.sample_text[:500]}
        form = CreateFaqForm(request.POST or None, initial=initial)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                data = form.cleaned_data
                try:
                    entry = services.unanswered_create_faq(
                        item=item,
                        key=data["key"],
                        question=data["question"],
                        answer=data["answer"],
                        category=data["category"],
                        tags=data["tags"],
                        actor=request.user,
                    )
                except DomainError as exc:
                    field = next((f for f in exc.fields if f in form.fields), None)
                    form.add_error(field, exc.message)
                else:
                    messages.success(request, _("FAQ %(key)s created.") % {"key": entry.key})
                    return redirect("admin:faq_faqentry_change", entry.pk)
            status = 400
        context = self._context(request, _("Create an FAQ from a citizen's question"), item=item, form=form)
        return TemplateResponse(request, "admin/faq/unanswered_create_faq.html", context, status=status)
