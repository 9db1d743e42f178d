"""The admin as the civil servants' workplace: every page scoped to the staff member's accounts (admin_scoping)."""

from __future__ import annotations

import json
import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from oa_platform import erasure, services
from oa_platform.admin_scoping import (
    ALL_ROLES,
    EDITORS,
    MANAGER_ONLY,
    SUPERUSER_ONLY,
    SharedReferenceAdmin,
    SuperuserOnlyAdmin,
    TenantScopedAdmin,
    TenantScopedInline,
    staff_account_ids,
)
from oa_platform.admin_secrets import WriteOnlySecretsForm, mask_secret
from oa_platform.errors import DomainError
from oa_platform.initial_password import initial_password_set
from oa_platform.models import (
    Agency,
    ApiToken,
    Area,
    AuditLog,
    ChannelConfig,
    Citizen,
    Conversation,
    Follow,
    Membership,
    Message,
    OfficialAccount,
    Topic,
    TopicSubscription,
    WebhookEvent,
)
from oa_platform.phones import mask_phones_in, mask_phones_in_text

User = get_user_model()

admin.site.site_header = _("Official Account — khu làm việc của cán bộ")
admin.site.site_title = _("Official Account")
admin.site.index_title = _("Quản trị tài khoản")

READ_ONLY = {"view": ALL_ROLES, "add": SUPERUSER_ONLY, "change": SUPERUSER_ONLY, "delete": SUPERUSER_ONLY}
MANAGER_READ_ONLY = {"view": MANAGER_ONLY, "add": SUPERUSER_ONLY, "change": SUPERUSER_ONLY, "delete": SUPERUSER_ONLY}


class ReadOnlyMixin:
    """No add, change or delete for anybody, superusers included (history must not be rewritten)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- platform operators only  ---
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class PlatformUserAdmin(SuperuserOnlyAdmin, UserAdmin):
    """Only superusers manage users; managers add staff through Membership (see MembershipAdmin)."""


@admin.register(Group)
class PlatformGroupAdmin(SuperuserOnlyAdmin, GroupAdmin):
    pass


# --- agencies and accounts  ---
@admin.register(Agency)
class AgencyAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = {"view": ALL_ROLES, "add": SUPERUSER_ONLY, "change": MANAGER_ONLY, "delete": SUPERUSER_ONLY}
    list_display = ["name", "code", "created_at"]
    search_fields = ["name", "code"]

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["code"]


@admin.register(OfficialAccount)
class OfficialAccountAdmin(TenantScopedAdmin):
    tenant_path = ""
    required_roles = {"view": ALL_ROLES, "add": SUPERUSER_ONLY, "change": MANAGER_ONLY, "delete": SUPERUSER_ONLY}
    list_display = ["name", "slug", "default_language", "timezone", "is_active"]
    list_filter = ["is_active", "default_language"]
    search_fields = ["name", "slug"]

    def get_exclude(self, request, obj=None):
        return ["agency"] if obj is None else []

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["agency", "slug"] if not request.user.is_superuser else ["agency"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        if not request.user.is_superuser:
            raise PermissionDenied
        # A new account goes through the service: its agency and default topics come with it.
        account = services.account_create(
            slug=obj.slug,
            name=obj.name,
            default_language=obj.default_language,
            timezone_name=obj.timezone,
            description=obj.description,
            welcome_message=obj.welcome_message,
            actor=request.user,
        )
        obj.pk, obj.agency, obj.created_at = account.pk, account.agency, account.created_at
        obj._state.adding = False
        obj.save()


# --- staff  ---
class MembershipAddForm(forms.ModelForm):
    """Invite a staff member by user name: an existing user is attached, a missing one is created.

    No list of users is ever shown, so a manager cannot browse other agencies' staff."""

    username = forms.CharField(label=_("user name"), max_length=150)
    email = forms.EmailField(label=_("email (for a new user)"), required=False)

    class Meta:
        model = Membership
        fields = ["account", "username", "email", "role", "in_test_group", "test_citizen"]

    def clean(self):
        cleaned = super().clean()
        username = (cleaned.get("username") or "").strip()
        account = cleaned.get("account")
        if username and account is not None:
            user = User.objects.filter(username=username).first()
            if user is not None and Membership.objects.filter(user=user, account=account).exists():
                self.add_error("username", _("This person already works in this account."))
            self.existing_user = user
        return cleaned


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = {"view": MANAGER_ONLY, "add": MANAGER_ONLY, "change": MANAGER_ONLY, "delete": MANAGER_ONLY}
    list_display = ["user", "account", "role", "in_test_group", "created_at"]
    list_filter = ["role", "in_test_group", "account"]
    search_fields = ["user__username", "user__email"]
    readonly_fields_on_change = ["user", "account"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MembershipAddForm
            kwargs["fields"] = MembershipAddForm.Meta.fields
        else:
            kwargs["fields"] = ["role", "in_test_group", "test_citizen"]
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return MembershipAddForm.Meta.fields
        return ["user", "account", "role", "in_test_group", "test_citizen"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields_on_change if obj is not None else []

    def _is_own(self, request, obj) -> bool:
        return obj is not None and obj.user_id == request.user.pk and not request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        # A manager cannot demote or remove themselves (nobody would be left to undo it).
        return super().has_change_permission(request, obj) and not self._is_own(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._is_own(request, obj)

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if not change:
            user = getattr(form, "existing_user", None)
            if user is None:
                password = secrets.token_urlsafe(12)
                user = User.objects.create_user(
                    username=form.cleaned_data["username"].strip(),
                    email=form.cleaned_data.get("email") or "",
                    password=password,
                    is_staff=True,
                )
                initial_password_set(user=user)
                request._oa_new_password = (user.get_username(), password)
            elif not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            obj.user = user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        created = getattr(request, "_oa_new_password", None)
        if created is None:
            return super().response_add(request, obj, post_url_continue)
        # The first password is shown once, in this response only: never stored in a message or the session.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("New staff member"),
            "username": created[0],
            "password": created[1],
            "membership": obj,
        }
        return TemplateResponse(request, "admin/oa_platform/membership/user_created.html", context)


# --- API tokens  ---
class ApiTokenAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=[(s, s) for s in ApiToken.ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiToken.SCOPE_CHAT, ApiToken.SCOPE_READ],
    )

    class Meta:
        model = ApiToken
        fields = ["account", "name", "scopes"]


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = {"view": MANAGER_ONLY, "add": MANAGER_ONLY, "change": MANAGER_ONLY, "delete": SUPERUSER_ONLY}
    list_display = ["name", "account", "prefix_display", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["account"]
    search_fields = ["name", "prefix"]
    actions = ["revoke_tokens"]

    @admin.display(description=_("prefix"))
    def prefix_display(self, obj):
        return f"{obj.prefix}…"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "name", "scopes"]
        return ["account", "name", "prefix_display", "scopes", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["account", "prefix_display", "scopes", "created_by", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        self.check_tenant(request, obj, "add")
        try:
            token, raw = services.token_issue(
                account=obj.account, name=obj.name, scopes=form.cleaned_data["scopes"], created_by=request.user
            )
        except DomainError as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.__dict__.update({k: v for k, v in token.__dict__.items() if k != "_state"})
        obj._state.adding = False
        request._oa_raw_token = raw

    def log_addition(self, request, obj, message):
        # token_issue wrote the audit entry already; keep only Django's own history row.
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(request, "_oa_raw_token", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        # Shown once, in this response only; only its SHA-256 hash is stored.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("New API token"),
            "token": obj,
            "raw_token": raw,
        }
        return TemplateResponse(request, "admin/oa_platform/apitoken/token_created.html", context)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            self.check_tenant(request, token, "change")
            services.token_revoke(token=token, actor=request.user)
            count += 1
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", count) % count)


# --- audit log  ---
@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyMixin, TenantScopedAdmin):
    tenant_path = "account"
    required_roles = MANAGER_READ_ONLY
    list_display = ["created_at", "actor_label", "action", "object_type", "object_repr", "account"]
    list_filter = ["action", "object_type", "account"]
    search_fields = ["actor_label", "object_repr", "object_id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "created_at",
        "account",
        "actor",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
    ]


# --- reference data  ---
@admin.register(Area)
class AreaAdmin(SharedReferenceAdmin):
    list_display = ["name", "code", "level", "parent", "path"]
    list_filter = ["level"]
    search_fields = ["name", "name_ascii", "code"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]


# --- citizens  ---
@admin.register(Citizen)
class CitizenAdmin(TenantScopedAdmin):
    """Citizens who follow or wrote to the staff member's accounts. The phone is never shown unmasked."""

    tenant_path = ("account", "follows__account", "conversations__account")
    required_roles = {**READ_ONLY, "erase": MANAGER_ONLY}
    list_display = ["__str__", "channel", "masked_phone_display", "language", "home_area", "created_at"]
    list_filter = ["channel", "language"]
    search_fields = ["display_name", "external_id"]
    ordering = ["-created_at", "-id"]
    exclude = ["phone"]
    autocomplete_fields = ["home_area"]
    actions = ["erase_data"]

    @admin.display(description=_("phone"))
    def masked_phone_display(self, obj):
        return obj.masked_phone

    def get_readonly_fields(self, request, obj=None):
        return ["masked_phone_display", "created_at"]

    def get_fields(self, request, obj=None):
        return ["channel", "external_id", "display_name", "masked_phone_display", "language", "home_area", "created_at"]

    def get_actions(self, request, *args, **kwargs):  # Django 6.1 adds action_location; 5.2 does not
        actions = super().get_actions(request, *args, **kwargs)
        actions.pop("delete_selected", None)  # erase_data removes what an account holds, for that account only
        return actions

    @admin.action(description=_("Erase this citizen's data (for my account)"), permissions=["erase"])
    def erase_data(self, request, queryset):
        manager_of = staff_account_ids(request, MANAGER_ONLY)
        accounts = (
            OfficialAccount.objects.all() if manager_of is None else OfficialAccount.objects.filter(pk__in=manager_of)
        )
        plan = []
        for citizen in queryset:
            related = (
                accounts.filter(pk=citizen.account_id)
                | accounts.filter(pk__in=Follow.objects.filter(citizen=citizen).values("account_id"))
                | accounts.filter(pk__in=Conversation.objects.filter(citizen=citizen).values("account_id"))
            )
            plan.append((citizen, list(related.distinct())))
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Erase citizens' data"),
                "plan": plan,
                "queryset": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/oa_platform/citizen/erase_confirmation.html", context)
        erased = 0
        for citizen, citizen_accounts in plan:
            for account in citizen_accounts:
                erasure.citizen_erase(account=account, citizen=citizen, actor=request.user)
                erased += 1
        self.message_user(request, _("Erased the data of %(n)d citizen(s).") % {"n": len(plan)}, messages.SUCCESS)
        return None


# --- topics and follows  ---
@admin.register(Topic)
class TopicAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = {"view": ALL_ROLES, "add": MANAGER_ONLY, "change": MANAGER_ONLY, "delete": MANAGER_ONLY}
    list_display = ["name", "key", "account", "subscribed_by_default", "position"]
    list_filter = ["account", "subscribed_by_default"]
    search_fields = ["name", "name_en", "key"]


class TopicSubscriptionInline(TenantScopedInline):
    model = TopicSubscription
    tenant_path = "follow__account"
    required_roles = READ_ONLY
    fields = ["topic", "created_at"]
    readonly_fields = ["topic", "created_at"]
    extra = 0


@admin.register(Follow)
class FollowAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = READ_ONLY
    list_display = ["citizen", "account", "is_active", "followed_at", "unfollowed_at"]
    list_filter = ["is_active", "account"]
    search_fields = ["citizen__display_name", "citizen__external_id"]
    readonly_fields = ["account", "citizen", "is_active", "followed_at", "unfollowed_at", "areas"]
    fields = readonly_fields
    inlines = [TopicSubscriptionInline]
    list_select_related = ["citizen", "account"]


# --- conversations  ---
class MessageInline(TenantScopedInline):
    model = Message
    tenant_path = "conversation__account"
    required_roles = READ_ONLY
    fields = ["created_at", "direction", "sender", "text", "decision", "faq_key", "score", "delivery_status"]
    readonly_fields = fields
    extra = 0
    ordering = ["-created_at"]


@admin.register(Conversation)
class ConversationAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = {"view": ALL_ROLES, "add": SUPERUSER_ONLY, "change": EDITORS, "delete": SUPERUSER_ONLY}
    list_display = ["citizen", "account", "status", "assigned_to", "last_message_at"]
    list_filter = ["status", "account"]
    search_fields = ["citizen__display_name", "citizen__external_id"]
    fields = ["account", "citizen", "status", "assigned_to", "handoff_requested_at", "last_message_at"]
    readonly_fields = ["account", "citizen", "handoff_requested_at", "last_message_at"]
    inlines = [MessageInline]
    list_select_related = ["citizen", "account", "assigned_to"]


@admin.register(Message)
class MessageAdmin(ReadOnlyMixin, TenantScopedAdmin):
    tenant_path = "conversation__account"
    required_roles = READ_ONLY
    list_display = ["created_at", "conversation", "direction", "sender", "short_text", "decision", "faq_key", "score"]
    list_filter = ["direction", "sender", "decision"]
    search_fields = ["text", "faq_key"]
    date_hierarchy = "created_at"
    list_select_related = ["conversation__citizen", "conversation__account"]

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return Truncator(obj.text).chars(80)


# --- channels and webhooks  ---
SECRET_FIELDS = ["secret", "app_secret", "access_token", "refresh_token", "token", "encoding_aes_key"]


# The HTTP policy of a channel (channel_types.http): left blank, each takes the model's default.
POLICY_FIELDS = ("timeout_s", "rate_per_s", "burst", "max_attempts", "backoff_s")


class ChannelConfigForm(WriteOnlySecretsForm):
    """One form for every channel type (chat channels and notice providers). Secrets are write-only: the form
    never renders them; a blank field keeps the stored value. A blank policy field keeps its value too (or
    takes the default on a new configuration)."""

    secret_fields = tuple(SECRET_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in POLICY_FIELDS:
            self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        for name in POLICY_FIELDS:
            if cleaned.get(name) is None and name not in self.errors:
                stored = getattr(self.instance, name) if self.instance.pk else None
                cleaned[name] = stored if stored is not None else ChannelConfig._meta.get_field(name).get_default()
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        for name in POLICY_FIELDS:  # left blank: kept, so not a change (the audit log lists real changes)
            if name in self.changed_data and not self.data.get(self.add_prefix(name)):
                self.changed_data.remove(name)

    class Meta:
        model = ChannelConfig
        fields = [
            "account",
            "kind",
            "is_enabled",
            "app_id",
            *SECRET_FIELDS,
            "api_base",
            "callback_url",
            "template_id",
            "timeout_s",
            "rate_per_s",
            "burst",
            "max_attempts",
            "backoff_s",
            "honours_idempotency_key",
        ]


@admin.register(ChannelConfig)
class ChannelConfigAdmin(TenantScopedAdmin):
    tenant_path = "account"
    required_roles = {"view": MANAGER_ONLY, "add": MANAGER_ONLY, "change": MANAGER_ONLY, "delete": MANAGER_ONLY}
    form = ChannelConfigForm
    list_display = ["account", "kind", "is_enabled", "app_id", "api_base", "secret_display", "updated_at"]
    list_filter = ["kind", "is_enabled", "account"]
    search_fields = ["app_id"]

    @admin.display(description=_("secret"))
    def secret_display(self, obj):
        return mask_secret(obj.secret)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMixin, TenantScopedAdmin):
    """The provider's raw events, for tracing a delivery. Phone numbers in them are shown masked, as everywhere
    else in the admin (a generic gateway's citizen id is often the phone itself)."""

    tenant_path = "account"
    required_roles = MANAGER_READ_ONLY
    list_display = ["received_at", "account", "channel", "event_type", "short_key", "processed_at"]
    list_filter = ["channel", "event_type"]
    search_fields = ["dedup_key", "event_type"]
    date_hierarchy = "received_at"
    fields = ["received_at", "account", "channel", "event_type", "masked_key", "masked_payload", "processed_at"]
    readonly_fields = fields

    @admin.display(description=_("dedup key"))
    def short_key(self, obj):
        return format_html("<code>{}</code>", mask_phones_in_text(obj.dedup_key[:24]))

    @admin.display(description=_("dedup key"))
    def masked_key(self, obj):
        return mask_phones_in_text(obj.dedup_key)

    @admin.display(description=_("payload"))
    def masked_payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(mask_phones_in(obj.payload), ensure_ascii=False, indent=2))
