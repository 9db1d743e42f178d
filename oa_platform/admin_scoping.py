"""Tenant scoping for the Django admin: staff of agency A never see or change anything of agency B.

Every ModelAdmin of the project subclasses :class:`TenantScopedAdmin` (inlines: :class:`TenantScopedInline`
or :class:`TenantScopedStackedInline`); reference data shared by all agencies uses :class:`SharedReferenceAdmin`
and platform-operator-only models :class:`SuperuserOnlyAdmin`. The generic isolation test
(tests/oa_platform/test_isolation_admin.py) fails for any registered admin that is none of these.

How to use it::

    from oa_platform.admin_scoping import ALL_ROLES, EDITORS, TenantScopedAdmin, TenantScopedInline

    class VariantInline(TenantScopedInline):
        model = FaqVariant
        tenant_path = "entry__account"
        required_roles = {"view": ALL_ROLES, "add": EDITORS, "change": EDITORS, "delete": EDITORS}

    @admin.register(FaqEntry)
    class FaqEntryAdmin(TenantScopedAdmin):
        tenant_path = "account"                      # lookup path from the model to its OfficialAccount
        required_roles = {"view": ALL_ROLES, "add": EDITORS, "change": EDITORS, "delete": EDITORS}
        inlines = [VariantInline]
        search_fields = ["key", "question"]          # search_fields makes it usable as an autocomplete target

Then also add a builder for the model to tests/oa_platform/admin_builders.py (the isolation test fails loudly
for a registered model without one).

What the base class does, so subclasses must not undo it:

- ``tenant_path``: a lookup from the model to ``OfficialAccount`` ("account", "conversation__account"; "" for
  OfficialAccount itself) or a tuple of such paths, any of which grants access (Citizen: follows or
  conversations). ``get_queryset`` keeps only rows of the user's accounts, so changelist, search, filters,
  change/delete/history URLs, raw-id popups (a changelist of the target admin) and actions (they get the
  scoped queryset) are scoped. Override ``get_queryset`` only by calling ``super()``.
- ``required_roles``: per permission ("view", "add", "change", "delete", or any extra action permission
  such as "approve" checked with ``has_approve_permission``), the Membership roles that grant it. A manager
  always has every permission of their account; ``SUPERUSER_ONLY`` (None) means platform operators only;
  superusers can do everything unless a subclass says otherwise. Django's per-model permissions are not
  used: the role in the account decides.
- Every ForeignKey / ManyToMany form field (dropdown, raw id, autocomplete, also in inlines) only offers and
  only accepts rows of the user's accounts (:func:`scoped_choices`): a posted id of another agency's row is
  a form error. OfficialAccount choices are the accounts where the user may add/change this model.
- Autocomplete (``admin/autocomplete/``) returns the target admin's scoped queryset, further limited to the
  accounts where the user may edit the *source* model when the target is OfficialAccount.
- Related-field list filters only list the user's rows (:class:`ScopedRelatedFieldListFilter`; plain field
  names in ``list_filter`` are wrapped automatically).
- ``save_model`` and inline saves re-check that the object's account is one of the user's accounts with the
  right role and raise PermissionDenied (403) otherwise, so nothing of another agency is ever saved.
- Every add / change / delete (also bulk delete) is written to the audit log through
  ``oa_platform.services.audit_record`` with the changed field *names* (never values: they may hold personal
  data or secrets).

For non-admin staff views use :func:`staff_accounts` (``staff_accounts(request, [ROLE_BROADCASTER])``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.filters import RelatedFieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import BadRequest, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from oa_platform.models import Agency, Membership, OfficialAccount
from oa_platform.services import audit_record

ROLE_EDITOR = Membership.ROLE_EDITOR
ROLE_BROADCASTER = Membership.ROLE_BROADCASTER
ROLE_APPROVER = Membership.ROLE_APPROVER
ROLE_MANAGER = Membership.ROLE_MANAGER

ALL_ROLES = (ROLE_EDITOR, ROLE_BROADCASTER, ROLE_APPROVER, ROLE_MANAGER)
EDITORS = (ROLE_EDITOR, ROLE_MANAGER)
BROADCASTERS = (ROLE_BROADCASTER, ROLE_APPROVER, ROLE_MANAGER)
APPROVERS = (ROLE_APPROVER, ROLE_MANAGER)
MANAGER_ONLY = (ROLE_MANAGER,)
SUPERUSER_ONLY = None  # only platform operators (superusers)

PERMISSIONS = ("view", "add", "change", "delete")

# Models every staff member may pick from (reference data), besides those with a SharedReferenceAdmin.
_SHARED_MODELS: set[type[models.Model]] = set()


def register_shared_model(model: type[models.Model]) -> None:
    """Declare ``model`` reference data shared by all agencies (e.g. areas): not scoped in dropdowns."""
    _SHARED_MODELS.add(model)


# --- who may do what  ---
def _is_superuser(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_active and user.is_superuser)


def _roles_by_account(request) -> dict[int, str]:
    """{account id: role} of the signed-in staff member; read once per request."""
    cached = getattr(request, "_oa_roles_by_account", None)
    if cached is None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
            cached = {}
        else:
            cached = dict(Membership.objects.filter(user=user).values_list("account_id", "role"))
        request._oa_roles_by_account = cached
    return cached


def staff_account_ids(request, roles: Iterable[str] | None = ALL_ROLES) -> set[int] | None:
    """Ids of the accounts where the user holds one of ``roles`` (a manager always qualifies).

    None means "every account" (superuser). ``roles=None`` (SUPERUSER_ONLY) gives an empty set to staff."""
    if _is_superuser(request):
        return None
    if roles is None:
        return set()
    wanted = {*roles, ROLE_MANAGER}
    return {account_id for account_id, role in _roles_by_account(request).items() if role in wanted}


def staff_accounts(request, roles: Iterable[str] | None = ALL_ROLES) -> QuerySet[OfficialAccount]:
    """The accounts a staff view may act on for ``roles`` (managers always; superusers: all accounts).

    Use it in every non-admin staff view: ``account = get_object_or_404(staff_accounts(request, EDITORS), slug=slug)``.
    """
    ids = staff_account_ids(request, roles)
    if ids is None:
        return OfficialAccount.objects.all()
    return OfficialAccount.objects.filter(pk__in=ids)


# --- which rows belong to which account  ---
def _normalize_paths(tenant_path) -> tuple[str, ...]:
    if tenant_path is None:
        return ()
    if isinstance(tenant_path, str):
        return (tenant_path,)
    return tuple(tenant_path)


def _path_is_forward(model: type[models.Model], path: str) -> bool:
    """True when ``path`` follows only forward FK / one-to-one fields (so it can be read from an instance)."""
    if path == "":
        return True
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if not (field.is_relation and (field.many_to_one or field.one_to_one) and field.concrete):
            return False
        model = field.related_model
    return model is OfficialAccount


def _discover_path(model: type[models.Model], depth: int = 3) -> str | None:
    """Breadth-first search over forward FKs for a path to OfficialAccount (non-null FKs first)."""
    frontier: list[tuple[type[models.Model], str]] = [(model, "")]
    for _level in range(depth):
        next_frontier = []
        for current, prefix in frontier:
            fks = [
                f
                for f in current._meta.get_fields()
                if f.is_relation and f.concrete and (f.many_to_one or f.one_to_one) and f.related_model is not None
            ]
            fks.sort(key=lambda f: f.null)
            for field in fks:
                path = f"{prefix}{field.name}"
                if field.related_model is OfficialAccount:
                    return path
                if field.related_model is not current:
                    next_frontier.append((field.related_model, f"{path}__"))
        frontier = next_frontier
    return None


def tenant_paths_for(model: type[models.Model], site: admin.AdminSite | None = None) -> tuple[str, ...] | None:
    """The lookup paths from ``model`` to its account, or None when the model is not tenant data."""
    if model is OfficialAccount:
        return ("",)
    site = site or admin.site
    model_admin = site._registry.get(model)
    if isinstance(model_admin, TenantScopingMixin) and model_admin.tenant_path is not None:
        return _normalize_paths(model_admin.tenant_path)
    if model is Agency:
        return ("account",)
    path = _discover_path(model)
    return (path,) if path is not None else None


def is_shared_model(model: type[models.Model], site: admin.AdminSite | None = None) -> bool:
    site = site or admin.site
    return model in _SHARED_MODELS or isinstance(site._registry.get(model), SharedReferenceAdmin)


def filter_by_accounts(qs: QuerySet, paths: tuple[str, ...], account_ids: set[int] | None) -> QuerySet:
    """Keep the rows of ``qs`` reachable from one of ``account_ids`` along one of ``paths``."""
    if account_ids is None:
        return qs
    if not paths or not account_ids:
        return qs.none()
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{path}__in" if path else "pk__in": account_ids})
    if len(paths) == 1 and _path_is_forward(qs.model, paths[0]):
        return qs.filter(condition)
    # Reverse or many-valued paths would repeat rows in a join: filter through a subquery instead.
    return qs.filter(pk__in=qs.model._base_manager.filter(condition).values("pk"))


def accounts_of(obj: models.Model, paths: tuple[str, ...]) -> set[int]:
    """Account ids ``obj`` belongs to. Forward paths are read from the (possibly unsaved) instance, so a
    changed FK is checked with its new value; other paths are read from the database."""
    found: set[int] = set()
    for path in paths:
        if _path_is_forward(type(obj), path):
            current = obj
            if path:
                parts = path.split("__")
                for part in parts[:-1]:
                    current = getattr(current, part, None)
                    if current is None:
                        break
                account_id = getattr(current, f"{parts[-1]}_id", None) if current is not None else None
            else:
                account_id = obj.pk
            if account_id is not None:
                found.add(account_id)
        elif obj.pk is not None:
            found.update(
                v
                for v in type(obj)._base_manager.filter(pk=obj.pk).values_list(path or "pk", flat=True)
                if v is not None
            )
    return found


def scoped_choices(
    request,
    model: type[models.Model],
    *,
    roles: Iterable[str] | None = ALL_ROLES,
    site: admin.AdminSite | None = None,
) -> QuerySet:
    """The rows of ``model`` a staff member may pick in a form or filter. Fails closed: a model with no known
    path to an account and not declared shared offers nothing to staff."""
    qs = model._default_manager.all()
    if _is_superuser(request):
        return qs
    ids = staff_account_ids(request, roles)
    if model is OfficialAccount:
        return qs.filter(pk__in=ids)
    if model is get_user_model():
        # Colleagues only: users holding a role in one of the staff member's accounts.
        return qs.filter(pk__in=Membership.objects.filter(account_id__in=ids).values("user_id"))
    if is_shared_model(model, site):
        return qs
    paths = tenant_paths_for(model, site)
    if not paths:
        return qs.none()
    return filter_by_accounts(qs, paths, staff_account_ids(request, ALL_ROLES))


# --- widgets and filters  ---
class ScopedForeignKeyRawIdWidget(admin_widgets.ForeignKeyRawIdWidget):
    """Raw-id widget that labels a value only when it is one of the allowed rows, so a posted foreign id
    re-rendered after a form error does not show another agency's object."""

    def __init__(self, rel, admin_site, *, allowed: QuerySet, **kwargs):
        self.allowed = allowed
        super().__init__(rel, admin_site, **kwargs)

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            if not self.allowed.filter(**{key: value}).exists():
                return "", ""
        except (ValueError, TypeError, ValidationError):  # a malformed id is simply not labelled
            return "", ""
        return super().label_and_url_for_value(value)


class ScopedRelatedFieldListFilter(RelatedFieldListFilter):
    """RelatedFieldListFilter listing only rows of the user's accounts."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model
        qs = scoped_choices(request, related, site=model_admin.admin_site)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        attname = (
            field.remote_field.get_related_field().attname
            if getattr(field, "remote_field", None) is not None and hasattr(field.remote_field, "get_related_field")
            else "pk"
        )
        limit = field.get_limit_choices_to() if hasattr(field, "get_limit_choices_to") else None
        if limit:
            qs = qs.complex_filter(limit)
        return [(getattr(obj, attname), str(obj)) for obj in qs]


# --- the admin classes  ---
class TenantScopingMixin:
    """Scoping shared by TenantScopedAdmin and the inlines. See the module docstring."""

    tenant_path: str | tuple[str, ...] | None = "account"
    required_roles: dict[str, tuple[str, ...] | None] = {
        "view": ALL_ROLES,
        "add": MANAGER_ONLY,
        "change": MANAGER_ONLY,
        "delete": MANAGER_ONLY,
    }

    # -- paths and roles
    def tenant_paths(self) -> tuple[str, ...]:
        return _normalize_paths(self.tenant_path)

    def roles_for(self, perm: str) -> tuple[str, ...] | None:
        return self.required_roles.get(perm, SUPERUSER_ONLY)

    def accounts_for(self, request, perm: str) -> set[int] | None:
        """Account ids where the user has ``perm`` on this model; None: all (superuser)."""
        return staff_account_ids(request, self.roles_for(perm))

    def _visible_account_ids(self, request) -> set[int] | None:
        ids: set[int] = set()
        for perm in PERMISSIONS:
            perm_ids = self.accounts_for(request, perm)
            if perm_ids is None:
                return None
            ids |= perm_ids
        return ids

    def _editable_account_ids(self, request) -> set[int] | None:
        add_ids, change_ids = self.accounts_for(request, "add"), self.accounts_for(request, "change")
        if add_ids is None or change_ids is None:
            return None
        return add_ids | change_ids

    def obj_accounts(self, obj) -> set[int]:
        return accounts_of(obj, self.tenant_paths())

    def _allowed_on(self, request, obj, perm: str, *, paths_of=None, unowned: bool = True) -> bool:
        """Whether the user's role ``perm`` covers ``obj`` (None: the model as a whole). ``paths_of(obj)``: the
        paths from obj to its account(s), this admin's own by default; ``unowned``: the answer for an object
        with no path to an account (shared reference data here; an inline's parent must have one)."""
        allowed = self.accounts_for(request, perm)
        if allowed is None:
            return True
        if not allowed:
            return False
        if obj is None:
            return True
        paths = paths_of(obj) if paths_of is not None else self.tenant_paths()
        if not paths:
            return unowned
        owned = accounts_of(obj, paths)
        if len(paths) > 1:  # several ways to an account (a citizen of several agencies): one is enough
            return bool(owned & allowed)
        return bool(owned) and owned <= allowed

    def check_tenant(self, request, obj, perm: str) -> None:
        """Raise PermissionDenied unless ``obj`` (with its new values) belongs to the user's accounts."""
        if not self._allowed_on(request, obj, perm):
            raise PermissionDenied("This object belongs to another agency.")

    # -- querysets
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.tenant_path is None:
            return qs
        return filter_by_accounts(qs, self.tenant_paths(), self._visible_account_ids(request))

    # -- form fields
    def _choices_for(self, db_field, request):
        related = db_field.remote_field.model
        roles: tuple[str, ...] | None = ALL_ROLES
        if related is OfficialAccount:
            ids = self._editable_account_ids(request)
            qs = OfficialAccount.objects.all() if ids is None else OfficialAccount.objects.filter(pk__in=ids)
        else:
            qs = scoped_choices(request, related, roles=roles, site=self.admin_site)
        related_admin = self.admin_site._registry.get(related)
        ordering = related_admin.get_ordering(request) if related_admin is not None else None
        if ordering:
            qs = qs.order_by(*ordering)
        return qs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = self._choices_for(db_field, request)
        if db_field.name in self.raw_id_fields and "widget" not in kwargs:
            kwargs["widget"] = ScopedForeignKeyRawIdWidget(
                db_field.remote_field, self.admin_site, allowed=kwargs["queryset"], using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = self._choices_for(db_field, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # -- list filters
    def get_list_filter(self, request):
        scoped = []
        for item in super().get_list_filter(request):
            if isinstance(item, str):
                try:
                    field = get_fields_from_path(self.model, item)[-1]
                except (FieldDoesNotExist, NotRelationField):
                    scoped.append(item)
                    continue
                scoped.append((item, ScopedRelatedFieldListFilter) if field.is_relation else item)
            elif (
                isinstance(item, (list, tuple))
                and isinstance(item[1], type)
                and issubclass(item[1], RelatedFieldListFilter)
                and not issubclass(item[1], (ScopedRelatedFieldListFilter, RelatedOnlyFieldListFilter))
            ):
                scoped.append((item[0], ScopedRelatedFieldListFilter))
            else:
                scoped.append(item)
        return scoped


class TenantScopedAdmin(TenantScopingMixin, admin.ModelAdmin):
    """A ModelAdmin scoped to the signed-in staff member's accounts. See the module docstring."""

    # -- permissions (roles, not Django model permissions)
    def has_view_permission(self, request, obj=None):
        return self._allowed_on(request, obj, "view") or self._allowed_on(request, obj, "change")

    def has_add_permission(self, request):
        return self._allowed_on(request, None, "add")

    def has_change_permission(self, request, obj=None):
        return self._allowed_on(request, obj, "change")

    def has_delete_permission(self, request, obj=None):
        return self._allowed_on(request, obj, "delete")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def __getattr__(self, name):
        # has_<perm>_permission for extra action permissions declared in required_roles ("approve", "erase").
        if name.startswith("has_") and name.endswith("_permission"):
            perm = name[4 : -len("_permission")]
            if perm in self.required_roles and perm not in PERMISSIONS:
                return lambda request, obj=None: self._allowed_on(request, obj, perm)
        raise AttributeError(name)

    # -- forms
    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        paths = self.tenant_paths()
        if len(paths) == 1 and paths[0] and "__" not in paths[0] and paths[0] not in initial:
            ids = self.accounts_for(request, "add")
            if ids is not None and len(ids) == 1:
                initial[paths[0]] = next(iter(ids))
        return initial

    def save_model(self, request, obj, form, change):
        self.check_tenant(request, obj, "change" if change else "add")
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        self.check_tenant(request, obj, "delete")
        super().delete_model(request, obj)

    def response_action(self, request, queryset, *args, **kwargs):
        # Django filters pk__in=<posted ids> unchecked: a tampered id ("abc", 10**30) would be a 500.
        pk = self.model._meta.pk
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                pk.run_validators(pk.to_python(value))
            except ValidationError as exc:
                raise BadRequest(gettext("Invalid selection.")) from exc
        return super().response_action(request, queryset, *args, **kwargs)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.check_tenant(request, obj, "delete")
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        inline = getattr(formset, "_oa_inline", None)
        instances = formset.save(commit=False)
        for obj in instances:
            if isinstance(inline, TenantScopingMixin):
                inline.check_tenant(request, obj, "change" if obj.pk else "add")
            obj.save()
        for obj in formset.deleted_objects:
            if isinstance(inline, TenantScopingMixin):
                inline.check_tenant(request, obj, "delete")
            obj.delete()
        formset.save_m2m()

    def get_formsets_with_inlines(self, request, obj=None):
        for formset_class, inline in super().get_formsets_with_inlines(request, obj):
            formset_class._oa_inline = inline
            yield formset_class, inline

    # -- autocomplete: the target admin's scoped queryset, limited by the source field
    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "autocomplete":
            queryset = queryset.filter(pk__in=self._autocomplete_limit(request).values("pk"))
        return queryset, may_have_duplicates

    def _autocomplete_limit(self, request) -> QuerySet:
        from django.apps import apps

        limit = scoped_choices(request, self.model, site=self.admin_site)
        try:
            source_model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        except (KeyError, LookupError):
            return limit.none()
        source_admin = self.admin_site._registry.get(source_model)
        if source_admin is None:  # the source may be an inline model
            for registered in self.admin_site._registry.values():
                for inline_class in registered.inlines:
                    if inline_class.model is source_model:
                        source_admin = inline_class(registered.model, self.admin_site)
        if source_admin is None or not source_admin.has_view_permission(request):
            return limit.none()
        if self.model is OfficialAccount and isinstance(source_admin, TenantScopingMixin):
            ids = source_admin._editable_account_ids(request)
            if ids is not None:
                limit = limit.filter(pk__in=ids)
        return limit

    # -- audit
    def audit_account(self, obj) -> OfficialAccount | None:
        ids = self.obj_accounts(obj) if self.tenant_path is not None else set()
        return OfficialAccount.objects.filter(pk=min(ids)).first() if ids else None

    def construct_change_message(self, request, form, formsets, add=False):
        changes: dict = {"fields": list(form.changed_data)}
        inlines = []
        for formset in formsets or []:
            label = formset.model._meta.label_lower
            inlines += [{"model": label, "added": str(o.pk)} for o in formset.new_objects]
            inlines += [{"model": label, "changed": str(o.pk), "fields": f} for o, f in formset.changed_objects]
            inlines += [{"model": label, "deleted": str(o.pk)} for o in formset.deleted_objects]
        if inlines:
            changes["inlines"] = inlines
        request._oa_audit_changes = changes
        return super().construct_change_message(request, form, formsets, add)

    def _audit(self, request, action: str, obj, changes: dict | None = None) -> None:

        audit_record(action=action, obj=obj, account=self.audit_account(obj), actor=request.user, changes=changes)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, "create", obj, getattr(request, "_oa_audit_changes", None))
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._audit(request, "update", obj, getattr(request, "_oa_audit_changes", None))
        return entry

    def log_deletions(self, request, queryset):
        result = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, "delete", obj)
        return result


class _TenantScopedInlineMixin(TenantScopingMixin):
    """Inline permissions: the role on the parent object's account(s)."""

    def _parent_allowed(self, request, obj, perm: str) -> bool:
        return self._allowed_on(
            request, obj, perm, paths_of=lambda parent: tenant_paths_for(type(parent), self.admin_site), unowned=False
        )

    def get_formset(self, request, obj=None, **kwargs):
        formset_class = super().get_formset(request, obj, **kwargs)

        class ScopedFormSet(formset_class):
            def add_fields(self, form, index):
                # Django validates an inline row's hidden id against *all* rows of the model; keep it to
                # this parent's (already scoped) rows.
                super().add_fields(form, index)
                pk_field = form.fields.get(self._pk_field.name)
                if isinstance(pk_field, forms.ModelChoiceField):
                    pk_field.queryset = self.get_queryset()

        ScopedFormSet.__name__ = formset_class.__name__
        return ScopedFormSet

    def has_view_permission(self, request, obj=None):
        return self._parent_allowed(request, obj, "view") or self._parent_allowed(request, obj, "change")

    def has_add_permission(self, request, obj=None):
        return self._parent_allowed(request, obj, "add")

    def has_change_permission(self, request, obj=None):
        return self._parent_allowed(request, obj, "change")

    def has_delete_permission(self, request, obj=None):
        return self._parent_allowed(request, obj, "delete")


class TenantScopedInline(_TenantScopedInlineMixin, admin.TabularInline):
    """A tabular inline with the same scoping as TenantScopedAdmin (set ``tenant_path`` and ``required_roles``)."""


class TenantScopedStackedInline(_TenantScopedInlineMixin, admin.StackedInline):
    """A stacked inline with the same scoping as TenantScopedAdmin."""


class SharedReferenceAdmin(TenantScopedAdmin):
    """Reference data every agency shares (areas): any staff member views it, only superusers change it."""

    tenant_path = None
    required_roles = {"view": ALL_ROLES, "add": SUPERUSER_ONLY, "change": SUPERUSER_ONLY, "delete": SUPERUSER_ONLY}

    def audit_account(self, obj):
        return None


class SuperuserOnlyAdmin(TenantScopedAdmin):
    """Platform-operator data (users, groups, agencies' creation): invisible to agency staff."""

    tenant_path = None
    required_roles = {"view": SUPERUSER_ONLY, "add": SUPERUSER_ONLY, "change": SUPERUSER_ONLY, "delete": SUPERUSER_ONLY}

    def audit_account(self, obj):
        return None
