"""The staff member's own chat identity (/staff/<slug>/me/chat/): which chat identity forms and test notices for
staff reach them through, and a one-time code to link one by themselves (oa_platform.conversations.staff_link):
no one has to set it for them in the admin. Every member of the account may open it, for themselves only."""

from __future__ import annotations

from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from oa_platform.console.access import console_view
from oa_platform.console.notice_forms import format_local
from oa_platform.conversations.staff_link import CODE_TTL, staff_link_code_issue
from oa_platform.models import Membership, StaffLinkCode
from oa_platform.services import audit_record


@console_view(None)
@never_cache  # the page that shows a code must not stay in a cache
@require_http_methods(["GET", "POST"])
def chat_link(request, slug: str):
    """GET: the linked identity (its channel) or none. POST ``action=code``: a new code, shown once on the page
    that answers (never stored in clear, never in a URL). POST ``action=unlink``: forget the identity."""
    account = request.account
    membership = Membership.objects.filter(user=request.user, account=account).select_related("test_citizen").first()
    context = {"account": account, "membership": membership, "minutes": int(CODE_TTL.total_seconds() // 60)}
    if request.method == "POST" and membership is not None:
        action = request.POST.get("action")
        if action == "code":
            code, expires_at = staff_link_code_issue(membership=membership)
            context.update(
                code=code,
                code_shown=f"{code[:4]} {code[4:]}",
                expires=format_local(expires_at, account.tzinfo),
                chat_url=reverse("oa-page", kwargs={"slug": account.slug}),
            )
        elif action == "unlink":
            StaffLinkCode.objects.filter(membership=membership).delete()
            if membership.test_citizen_id is not None:
                membership.test_citizen = None
                membership.save(update_fields=["test_citizen"])
                audit_record(action="staff_chat_unlink", obj=membership, account=account, actor=request.user)
            flash.success(request, _("Đã bỏ liên kết tài khoản chat."))
            return redirect("staff:chat-link", slug=slug)
    linked = membership.test_citizen if membership is not None else None
    if linked is not None:
        context["linked_channel"] = linked.get_channel_display()
    return render(request, "staff/chat_link.html", context)
