"""The collection pages of the staff console (/staff/<slug>/forms/...): the account's forms, a form's live
results (progress, a chart per question, who has not answered, "remind them now"), and the export. Editors and
managers see results; exports need the manager role. Thin: access by console_view, one selector or service."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oa_platform.collect import export, selectors, services
from oa_platform.collect.charts import bar_chart
from oa_platform.collect.models import Form
from oa_platform.console.access import EDITORS, MANAGERS, console_view
from oa_platform.console.formschedule import form_summary
from oa_platform.errors import DomainError
from oa_platform.phones import mask_phone

# People listed as not having answered; the count says how many more there are.
NON_RESPONDERS_SHOWN = 50


def _form(request, pk: int) -> Form:
    return selectors.form_of_account_or_404(account=request.account, pk=pk)


@console_view(EDITORS)
@require_GET
def forms(request, slug: str):
    rows = []
    for form in selectors.forms_for_account(account=request.account):
        round_ = selectors.round_for(form)
        rows.append({"form": form, "round": round_, "progress": round_ and selectors.round_progress(round_)})
    return render(request, "collect/console/forms.html", {"account": request.account, "rows": rows})


def _results_context(request, form: Form) -> dict:
    language = translation.get_language() or "vi"
    round_ = selectors.round_for(form)
    if round_ is None:
        raise Http404(_("Biểu mẫu chưa có đợt nào."))
    results = selectors.round_results(form=form, round_=round_, language=language)
    for question in results["questions"]:
        question["chart"] = bar_chart(question["counts"])
    waiting = services.non_responders(form=form, round_=round_)
    shown = [
        {"name": str(c), "phone": mask_phone(c.phone), "channel": c.get_channel_display()}
        for c in waiting[:NON_RESPONDERS_SHOWN]
    ]
    return {
        "account": request.account,
        "form": form,
        "title": form.title(language),
        "round": round_,
        "results": results,
        "waiting": shown,
        "waiting_total": (total := waiting.count()),
        "waiting_more": max(total - len(shown), 0),
        "can_export": request.role == "manager",
        "summary": form_summary(form, language),
    }


@console_view(EDITORS)
@require_GET
def form_results(request, slug: str, pk: int):
    return render(request, "collect/console/results.html", _results_context(request, _form(request, pk)))


@console_view(EDITORS)
@require_GET
def form_results_live(request, slug: str, pk: int):
    """The results block alone: what the page swaps in when its socket says answers arrived."""
    return render(request, "collect/console/_results.html", _results_context(request, _form(request, pk)))


@console_view(MANAGERS)
@require_GET
def form_export(request, slug: str, pk: int):
    form = _form(request, pk)
    round_ = selectors.round_for(form)
    if round_ is None:
        raise Http404(_("Biểu mẫu chưa có đợt nào."))
    language = translation.get_language() or "vi"
    name = f"{form.key}-{round_.opens_at:%Y%m%d}"
    if request.GET.get("format") == "xlsx":
        body = export.as_xlsx(form=form, round_=round_, language=language)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        name += ".xlsx"
    else:
        body, content_type, name = export.as_csv(form=form, round_=round_, language=language), "text/csv", name + ".csv"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@console_view(EDITORS)
@require_POST
def form_remind(request, slug: str, pk: int):
    form = _form(request, pk)
    round_ = selectors.round_for(form)
    try:
        if round_ is None:
            raise Http404(_("Biểu mẫu chưa có đợt nào."))
        count = services.round_remind(
            form=form, round_=round_, actor=request.user, base_url=request.build_absolute_uri("/")[:-1]
        )
    except DomainError as exc:
        flash.error(request, str(exc.message))
    else:
        flash.success(request, _("Đã nhắc %(count)s người chưa trả lời.") % {"count": count})
    return redirect("staff:form-results", slug=slug, pk=pk)
