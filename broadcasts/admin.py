"""Broadcast admin: compose, preview the audience, submit, approve (two-person rule), cancel or correct, watch
progress (a bar while sending, a chart per channel and status afterwards; plain HTML/CSS/inline SVG). Scoped
by account and role through TenantScopedAdmin: broadcasters draft, approvers approve, managers do all."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from broadcasts import selectors, services
from broadcasts.fanout import audience_preview
from broadcasts.models import BroadcastSettings, Chunk, Delivery, Notice
from oa_platform.admin_scoping import APPROVERS, BROADCASTERS, MANAGER_ONLY, TenantScopedAdmin
from oa_platform.errors import DomainError, ValidationFailed

NOTICE_ROLES = {"view": BROADCASTERS, "add": BROADCASTERS, "change": BROADCASTERS, "delete": MANAGER_ONLY}
NOTICE_ROLES["approve"] = APPROVERS
READ_ONLY_ROLES = {"view": BROADCASTERS, "add": (), "change": (), "delete": ()}
STATUS_COLORS = {
    "queued": "#9aa5b1",
    "sending": "#74c0fc",
    "unknown": "#862e9c",
    "sent": "#2f9e44",
    "delivered": "#1c7ed6",
    "read": "#7048e8",
    "failed": "#e03131",
    "skipped": "#f08c00",
}
LANG_CHOICES = [("vi", "Tiếng Việt"), ("en", "English"), ("zh-hans", "简体中文")]
READONLY_LISTS = {
    "audience_topics": "audience_topics_text",
    "audience_areas": "audience_areas_text",
    "audience_languages": "audience_languages_text",
}


def _split(value: str) -> list[str]:
    return [item.strip() for item in (value or "").replace(";", ",").split(",") if item.strip()]


class NoticeForm(forms.ModelForm):
    audience_topics = forms.CharField(
        label=_("topics"), required=False, help_text=_("Topic keys, comma-separated; empty: the category's topic.")
    )
    audience_areas = forms.CharField(
        label=_("area codes"), required=False, help_text=_("Comma-separated; a province includes its wards.")
    )
    audience_languages = forms.MultipleChoiceField(
        label=_("languages"), required=False, choices=LANG_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Notice
        fields = ["account", *services.EDITABLE_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["audience_topics"] = ", ".join(self.instance.audience_topics or [])
            self.initial["audience_areas"] = ", ".join(self.instance.audience_areas or [])
        for name in ("body_vi", "body_en", "body_zh"):
            if name in self.fields:
                self.fields[name].required = name == "body_vi"
                self.fields[name].widget.attrs.update(rows=4)

    def clean_audience_topics(self):
        return _split(self.cleaned_data.get("audience_topics"))

    def clean_audience_areas(self):
        return _split(self.cleaned_data.get("audience_areas"))

    def clean(self):
        cleaned = super().clean()
        account = cleaned.get("account") or getattr(self.instance, "account", None)
        if account is None or self.errors:
            return cleaned
        values = {k: cleaned.get(k) for k in services.EDITABLE_FIELDS if k in self.fields}
        values["audience_languages"] = list(values.get("audience_languages") or [])
        try:
            self.notes = services._clean(account, values, now=timezone.now())
        except ValidationFailed as exc:
            for field, message in exc.fields.items():
                self.add_error(field if field in self.fields else None, str(message))
        return cleaned


@admin.register(Notice)
class NoticeAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = NOTICE_ROLES
    form = NoticeForm
    list_display = ["title_vi", "account", "category", "severity", "kind", "mode", "status", "dispatch_at", "progress"]
    list_filter = ["status", "severity", "kind", "mode", "account"]
    search_fields = ["title_vi", "title_en", "category"]
    date_hierarchy = "created_at"
    change_form_template = "admin/broadcasts/notice/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.status != Notice.STATUS_DRAFT:
            return self.get_fields(request, obj)
        return ["account"]

    def get_fields(self, request, obj=None):
        fields = [*NoticeForm.Meta.fields]
        if obj is not None and obj.status != Notice.STATUS_DRAFT:
            # Read-only lists as plain text, not the JSON the model stores ('["storm-flood"]').
            fields = [READONLY_LISTS.get(name, name) for name in fields]
        return fields

    @admin.display(description=_("topics"))
    def audience_topics_text(self, obj):
        return ", ".join(obj.audience_topics or []) or "—"

    @admin.display(description=_("area codes"))
    def audience_areas_text(self, obj):
        return ", ".join(obj.audience_areas or []) or "—"

    @admin.display(description=_("languages"))
    def audience_languages_text(self, obj):
        names = dict(LANG_CHOICES)
        return ", ".join(str(names.get(code, code)) for code in obj.audience_languages or []) or "—"

    @admin.display(description=_("progress"))
    def progress(self, obj):
        if obj.status not in (
            Notice.STATUS_SENDING,
            Notice.STATUS_SENT,
            Notice.STATUS_CANCELLED,
            Notice.STATUS_EXPIRED,
        ):
            return "—"
        percent = selectors.notice_progress(notice=obj)["percent"]
        return format_html(
            '<progress class="oa-mini" max="100" value="{}"></progress> {}%',
            percent,
            percent,
        )

    # -- writes go through the services (validation, audit, two-person rule)
    def save_model(self, request, obj, form, change):
        self.check_tenant(request, obj, "change" if change else "add")
        values = {k: form.cleaned_data[k] for k in services.EDITABLE_FIELDS if k in form.cleaned_data}
        values["audience_languages"] = list(values.get("audience_languages") or [])
        actor = services.Actor(user=request.user)
        try:
            if change:
                outcome = services.notice_update(notice=obj, actor=actor, **values)
            else:
                outcome = services.notice_create(account=obj.account, actor=actor, **values)
        except DomainError as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = outcome.notice.pk
        obj._state.adding = False
        for note in outcome.notes:
            messages.info(request, note)

    def has_delete_permission(self, request, obj=None):
        # Only drafts can be deleted (delete_model refuses the rest): a notice past draft offers no Delete
        # link, and its delete address is the styled 403 page.
        if obj is not None and obj.status != Notice.STATUS_DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        if obj.status != Notice.STATUS_DRAFT:
            raise PermissionDenied(_("Only drafts can be deleted; cancel the notice instead."))
        super().delete_model(request, obj)

    # -- extra views
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/do/<slug:action>/", view(self.action_view), name="broadcasts_notice_do"),
            path("<int:pk>/progress.json", view(self.progress_view), name="broadcasts_notice_progress"),
            *super().get_urls(),
        ]

    def _notice(self, request, pk: int) -> Notice:
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def action_view(self, request, pk: int, action: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        notice = self._notice(request, pk)
        approving = action in ("approve", "reject")
        allowed = (
            self.has_approve_permission(request, notice) if approving else self.has_change_permission(request, notice)
        )
        if not allowed:
            raise PermissionDenied
        actor = services.Actor(user=request.user)
        target = notice
        try:
            if action == "submit":
                outcome = services.notice_submit(notice=notice, actor=actor)
            elif action == "approve":
                outcome = services.notice_approve(notice=notice, actor=actor)
            elif action == "reject":
                outcome = services.notice_reject(notice=notice, actor=actor)
            elif action == "cancel":
                outcome = services.notice_cancel(notice=notice, actor=actor)
            elif action in ("correct", "withdraw"):
                kind = Notice.KIND_UPDATE if action == "correct" else Notice.KIND_CANCEL
                outcome = services.notice_follow_up_create(notice=notice, kind=kind, actor=actor)
                target = outcome.notice
            else:
                raise ValidationFailed(_("Unknown action."))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Done: %(status)s") % {"status": outcome.notice.get_status_display()})
            for note in outcome.notes:
                messages.info(request, note)
        return redirect(reverse("admin:broadcasts_notice_change", args=[target.pk]))

    def progress_view(self, request, pk: int):
        return JsonResponse(selectors.notice_progress(notice=self._notice(request, pk)))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        notice = (
            self.get_queryset(request).filter(pk=object_id).first()
            if str(object_id).isascii() and str(object_id).isdigit()
            else None
        )
        if notice is not None:
            extra_context.update(self.notice_context(request, notice))
            if notice.status != Notice.STATUS_DRAFT:
                # Only drafts are edited; a Save button on the rest would only lead to a refusal.
                extra_context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, extra_context)

    def notice_context(self, request, notice: Notice) -> dict:
        may_change = self.has_change_permission(request, notice)
        may_approve = self.has_approve_permission(request, notice)
        own = services.is_own_notice(notice=notice, actor=services.Actor(user=request.user))
        actions = []
        if notice.status == Notice.STATUS_DRAFT and may_change:
            actions.append(("submit", _("Submit for sending")))
        if notice.status == Notice.STATUS_PENDING and may_approve and not own:
            actions += [("approve", _("Approve")), ("reject", _("Send back to draft"))]
        if notice.status not in Notice.FINAL_STATUSES and may_change:
            actions.append(("cancel", _("Cancel")))
        if notice.status in (Notice.STATUS_SENT, Notice.STATUS_SENDING, Notice.STATUS_EXPIRED) and may_change:
            actions += [("correct", _("Correct (update)")), ("withdraw", _("Cancel notice (send cancellation)"))]
        context = {
            "notice_actions": actions,
            "notice_obj": notice,
            "own_notice": own and notice.status == Notice.STATUS_PENDING,
        }
        if notice.status in (Notice.STATUS_DRAFT, Notice.STATUS_PENDING, Notice.STATUS_SCHEDULED):
            context["preview"] = audience_preview(notice)
        else:
            progress = selectors.notice_progress(notice=notice)
            context["progress"] = progress
            context["chart"] = chart_rows(progress)
        return context


def chart_rows(progress: dict) -> list[dict]:
    """Horizontal stacked bars (per channel, segments per status) as percentages for an inline SVG."""
    rows = []
    for index, (channel, counts) in enumerate(sorted(progress["by_channel"].items())):
        total = sum(counts.values()) or 1
        x = 0.0
        segments = []
        for status in STATUS_COLORS:
            count = counts.get(status, 0)
            if not count:
                continue
            width = 100.0 * count / total
            segments.append({"status": status, "count": count, "x": round(x, 2), "w": round(width, 2)})
            x += width
        for seg in segments:
            seg["color"] = STATUS_COLORS[seg["status"]]
        rows.append({"channel": channel, "total": sum(counts.values()), "y": index * 34, "segments": segments})
    return rows


@admin.register(BroadcastSettings)
class BroadcastSettingsAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = {"view": BROADCASTERS, "add": MANAGER_ONLY, "change": MANAGER_ONLY, "delete": MANAGER_ONLY}
    list_display = ["account", "quiet_start", "quiet_end", "approval_policy", "phone_channel"]


class ReadOnlyAdmin(TenantScopedAdmin):
    required_roles = READ_ONLY_ROLES

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    tenant_path = "notice__account"
    list_display = ["notice", "citizen_label", "channel", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["notice", "citizen"]
    raw_id_fields = ["notice", "citizen"]
    show_full_result_count = False  # a million-row notice: no COUNT(*) over the whole table per page

    @admin.display(description=_("citizen"))
    def citizen_label(self, obj):
        return f"{obj.citizen.channel}:{obj.citizen.masked_phone or obj.citizen_id}"


@admin.register(Chunk)
class ChunkAdmin(ReadOnlyAdmin):
    tenant_path = "notice__account"
    list_display = ["notice", "channel", "first_id", "last_id", "status", "attempts", "lease_until"]
    list_filter = ["status", "channel"]
    raw_id_fields = ["notice"]
