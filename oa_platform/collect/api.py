"""REST API of forms for an agency's own app: create a form, submit a citizen's answers (idempotent by client
id), read the results. Thin: parse, call a service or a selector, render."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from oa_platform.collect import selectors, services
from oa_platform.collect.models import Form
from oa_platform.collect.serializers import (
    FormIn,
    FormOut,
    QuestionsIn,
    ResponseIn,
    ResponseOut,
    ResultsOut,
    ResultsQuery,
    SettingsIn,
)
from oa_platform.errors import NotFound
from oa_platform.models import ApiToken, Citizen
from oa_platform.services import citizen_get_or_create


def form_body(form: Form) -> dict:
    body = {
        "id": form.pk,
        "key": form.key,
        "title_vi": form.title_vi,
        "title_en": form.title_en,
        "title_zh": form.title_zh,
        "late_policy": form.late_policy,
        "retention_days": form.retention_days,
        "repeat": form.repeat,
        "open_time": form.open_time,
        "remind_time": form.remind_time,
        "weekdays": [int(d) for d in form.repeat_weekdays.split(",") if d],
        "window_minutes": form.window_minutes,
        "audience": {
            "kind": form.audience,
            "topic": form.audience_topic,
            "area": form.audience_area.code if form.audience_area_id else "",
            "phones": len(form.audience_phones),
        },
        "url": reverse("collect-form-page", kwargs={"slug": form.account.slug, "pk": form.pk}),
        "questions": list(form.questions.all()),
        "round": services.current_round(form),
    }
    return FormOut(body).data


def response_body(result: services.SubmitResult, client_id) -> dict:
    response = result.response
    response.status = result.status
    response.client_id = client_id
    return ResponseOut(response).data


class FormView(APIView):
    def form(self, pk: int) -> Form:
        form = selectors.form_of_account(account=self.request.auth.account, pk=pk)
        if form is None:
            raise NotFound("No such form.")
        return form


class FormListView(FormView):
    required_scope = ApiToken.SCOPE_FORMS_WRITE

    @extend_schema(
        request=FormIn,
        responses={201: FormOut, 409: OpenApiResponse(description="the account already has a form with this key")},
        summary="Create a form with its questions and its first round",
    )
    def post(self, request, slug: str):
        data = FormIn(data=request.data)
        data.is_valid(raise_exception=True)
        form = services.form_create(
            account=request.auth.account, actor_label=f"token {request.auth.name}", **data.validated_data
        )
        return Response(form_body(form), status=status.HTTP_201_CREATED)


class FormQuestionsView(FormView):
    required_scope = ApiToken.SCOPE_FORMS_WRITE

    @extend_schema(
        request=QuestionsIn,
        responses={
            200: FormOut,
            409: OpenApiResponse(
                description="question_has_answers: a question with answers cannot change type or go; "
                "option_has_answers: an option with answers cannot go"
            ),
        },
        summary="Replace a form's questions: new questions and fixed labels always; answered types and options stay",
    )
    def put(self, request, slug: str, pk: int):
        form = self.form(pk)
        data = QuestionsIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.form_questions_update(
            form=form, questions=data.validated_data["questions"], actor_label=f"token {request.auth.name}"
        )
        return Response(form_body(form))


class FormSettingsView(FormView):
    required_scope = ApiToken.SCOPE_FORMS_WRITE

    @extend_schema(
        request=SettingsIn,
        responses={200: FormOut},
        summary="Set a form's schedule (daily or on weekdays, open window, reminder) and audience (followers of a "
        "topic in an area, staff, or a list of phones); rounds to come follow them",
    )
    def put(self, request, slug: str, pk: int):
        form = self.form(pk)
        data = SettingsIn(data=request.data)
        data.is_valid(raise_exception=True)
        form = services.form_settings_update(form=form, actor_label=f"token {request.auth.name}", **data.validated_data)
        return Response(form_body(form))


class FormResponsesView(FormView):
    required_scope = ApiToken.SCOPE_FORMS_RESPOND

    @extend_schema(
        request=ResponseIn,
        responses={
            200: OpenApiResponse(ResponseOut, description="the same client id again: the response it stored"),
            201: ResponseOut,
            409: OpenApiResponse(
                description="round_closed: no open round (late answers refused); client_id_reused: the client id "
                "came before with other answers (the first stands)"
            ),
        },
        summary="Submit a citizen's answers (idempotent by client_id; one response per person per round)",
    )
    def post(self, request, slug: str, pk: int):
        form = self.form(pk)
        data = ResponseIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with transaction.atomic():  # a refused submission leaves no new citizen behind
            citizen, created = citizen_get_or_create(
                account=request.auth.account, channel=Citizen.CHANNEL_WEB, external_id=values["citizen_id"]
            )
            result = services.response_submit(
                form=form,
                citizen=citizen,
                client_id=values["client_id"],
                answers=values["answers"],
                citizen_created=created,
            )
        code = status.HTTP_201_CREATED if result.status == "created" else status.HTTP_200_OK
        return Response(response_body(result, values["client_id"]), status=code)


class FormResultsView(FormView):
    required_scope = ApiToken.SCOPE_READ

    @extend_schema(
        parameters=[OpenApiParameter("round", int, required=False, description="a round's id; default: the current")],
        responses={200: ResultsOut},
        summary="Counts of a round: audience, responded, per question and option",
    )
    def get(self, request, slug: str, pk: int):
        form = self.form(pk)
        query = ResultsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        round_ = selectors.round_for(form, query.validated_data.get("round"))
        if round_ is None:
            raise NotFound("No such round.")
        return Response(selectors.round_results(form=form, round_=round_, language=request.LANGUAGE_CODE or "vi"))
