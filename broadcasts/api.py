"""REST API for notices (account tokens with scopes): create, submit/schedule, approve (by another token),
cancel, follow-up, audience preview, progress, CAP import/export. Thin: parse, call a service, render."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcasts import selectors, services
from broadcasts.cap import CAP_MAX_BYTES, cap_export
from broadcasts.fanout import audience_preview
from broadcasts.models import Notice
from broadcasts.serializers import (
    FollowUpIn,
    NoticeDetailOut,
    NoticeIn,
    NoticeOut,
    NoticeResultOut,
    PreviewOut,
    ProgressOut,
    SubmitIn,
)
from oa_platform.errors import NotFound, ValidationFailed
from oa_platform.models import ApiToken

# The error body and the answers every operation can give (400, 401, 403, 404, 413) are added by
# oa_platform.schema.ApiAutoSchema; these describe what the notice operations add to them.
ERRORS = {
    403: OpenApiResponse(description="missing scope, other account, or the same person approving"),
    404: OpenApiResponse(description="no such notice in this account"),
    409: OpenApiResponse(description="wrong status for this action"),
}
LIST_MAX = 100


class NoticeView(APIView):
    """Base: scope per method, the token's notice by id."""

    write_scope = ApiToken.SCOPE_BROADCAST_WRITE

    @property
    def required_scope(self) -> str:
        return ApiToken.SCOPE_READ if self.request.method in ("GET", "HEAD", "OPTIONS") else self.write_scope

    def actor(self) -> services.Actor:
        return services.Actor(token=self.request.auth)

    def notice(self, pk: int) -> Notice:
        notice = selectors.notices_for_account(account=self.request.auth.account).filter(pk=pk).first()
        if notice is None:
            raise NotFound("No such notice.")
        return notice

    @staticmethod
    def result(outcome, code=status.HTTP_200_OK) -> Response:
        return Response({"notice": NoticeOut(outcome.notice).data, "notes": outcome.notes}, status=code)


class NoticeListView(NoticeView):
    @extend_schema(responses={200: NoticeOut(many=True)}, summary="List the account's notices (newest first)")
    def get(self, request, slug: str):
        notices = selectors.notices_for_account(account=request.auth.account)[:LIST_MAX]
        return Response(NoticeOut(notices, many=True).data)

    @extend_schema(request=NoticeIn, responses={201: NoticeResultOut, **ERRORS}, summary="Create a draft notice")
    def post(self, request, slug: str):
        data = NoticeIn(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.notice_create(account=request.auth.account, actor=self.actor(), **data.validated_data)
        return self.result(outcome, status.HTTP_201_CREATED)


class NoticeDetailView(NoticeView):
    @extend_schema(responses={200: NoticeDetailOut, 404: ERRORS[404]}, summary="A notice with its progress")
    def get(self, request, slug: str, pk: int):
        notice = self.notice(pk)
        return Response({"notice": NoticeOut(notice).data, "progress": selectors.notice_progress(notice=notice)})


class NoticeSubmitView(NoticeView):
    @extend_schema(
        request=SubmitIn,
        responses={200: NoticeResultOut, **ERRORS},
        summary="Submit / schedule a draft (optionally at send_at): waits for approval or is scheduled",
    )
    def post(self, request, slug: str, pk: int):
        data = SubmitIn(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.notice_submit(
            notice=self.notice(pk), actor=self.actor(), send_at=data.validated_data["send_at"]
        )
        return self.result(outcome)


class NoticeApproveView(NoticeView):
    write_scope = ApiToken.SCOPE_BROADCAST_APPROVE

    @extend_schema(
        request=None,
        responses={200: NoticeResultOut, **ERRORS},
        summary="Approve a notice (never by the token that created it)",
    )
    def post(self, request, slug: str, pk: int):
        return self.result(services.notice_approve(notice=self.notice(pk), actor=self.actor()))


class NoticeCancelView(NoticeView):
    @extend_schema(request=None, responses={200: NoticeResultOut, **ERRORS}, summary="Cancel (also mid-send)")
    def post(self, request, slug: str, pk: int):
        return self.result(services.notice_cancel(notice=self.notice(pk), actor=self.actor()))


class NoticeFollowUpView(NoticeView):
    @extend_schema(
        request=FollowUpIn,
        responses={201: NoticeResultOut, **ERRORS},
        summary="Cancel / correct a sent notice: a pre-filled draft to exactly its recipients",
    )
    def post(self, request, slug: str, pk: int):
        notice = self.notice(pk)  # another account's id is a 404 before anything else is looked at
        data = FollowUpIn(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.notice_follow_up_create(notice=notice, kind=data.validated_data["kind"], actor=self.actor())
        return self.result(outcome, status.HTTP_201_CREATED)


class NoticePreviewView(NoticeView):
    @extend_schema(responses={200: PreviewOut, 404: ERRORS[404]}, summary="Audience: counts per channel and language")
    def get(self, request, slug: str, pk: int):
        return Response(audience_preview(self.notice(pk)))


class NoticeProgressView(NoticeView):
    @extend_schema(responses={200: ProgressOut, 404: ERRORS[404]}, summary="Delivery counts per status and channel")
    def get(self, request, slug: str, pk: int):
        return Response(selectors.notice_progress(notice=self.notice(pk)))


class CapParser(parsers.BaseParser):
    """Raw CAP XML, bounded in size before it is read whole."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read(CAP_MAX_BYTES + 1) if stream is not None else b""
        if len(data) > CAP_MAX_BYTES:
            raise ValidationFailed("CAP document too large.", code="cap_too_large")
        return data


class CapXmlParser(CapParser):
    media_type = "text/xml"


class CapAlertParser(CapParser):
    media_type = "application/cap+xml"


class NoticeCapExportView(NoticeView):
    @extend_schema(
        responses={(200, "application/cap+xml"): OpenApiResponse(OpenApiTypes.STR, description="CAP 1.2 alert")},
        summary="The notice as CAP 1.2 XML",
    )
    def get(self, request, slug: str, pk: int):
        return HttpResponse(cap_export(self.notice(pk)), content_type="application/cap+xml; charset=utf-8")


class NoticeCapImportView(NoticeView):
    parser_classes = [CapParser, CapXmlParser, CapAlertParser]

    @extend_schema(
        request={
            media: {"type": "string", "format": "binary"}
            for media in ("application/xml", "text/xml", "application/cap+xml")
        },
        responses={201: NoticeResultOut, 403: ERRORS[403]},
        summary="Import a CAP 1.2 alert as a draft notice",
    )
    def post(self, request, slug: str):
        data = request.data
        if not isinstance(data, bytes):
            raise ValidationFailed("Send the CAP XML as the body (Content-Type: application/xml).")
        outcome = services.notice_import_cap(account=request.auth.account, actor=self.actor(), data=data)
        return self.result(outcome, status.HTTP_201_CREATED)
