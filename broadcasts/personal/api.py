"""REST API of personal notices (account tokens with scopes ``notifications:write`` and
``notifications:approve``): templates, their approval, one notification per request (idempotent on the client's
reference), its status history, and the token's status callback. Thin: parse, call a service, render."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcasts.personal import rendering, selectors, services
from broadcasts.personal.models import CHANNEL_CHOICES, Notification, TemplateVersion, TokenCallback
from broadcasts.services import Actor
from oa_platform.errors import NotFound
from oa_platform.models import ApiToken
from oa_platform.schema import NOT_BLANK
from oa_platform.url_policy import validate_provider_url

ERRORS = {
    403: OpenApiResponse(description="missing scope, other account, or the same person approving"),
    404: OpenApiResponse(description="no such template, notification or citizen in this account"),
    409: OpenApiResponse(
        description="template not approved yet, nothing to approve, or the reference used for other content"
    ),
}


class TemplateIn(serializers.Serializer):
    key = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=120, validators=[NOT_BLANK])
    body_vi = serializers.CharField(max_length=rendering.BODY_MAX, validators=[NOT_BLANK])
    body_en = serializers.CharField(max_length=rendering.BODY_MAX, required=False, allow_blank=True)
    body_zh = serializers.CharField(max_length=rendering.BODY_MAX, required=False, allow_blank=True)
    link = serializers.CharField(max_length=500, required=False, allow_blank=True, help_text="http(s) only")
    category = serializers.CharField(max_length=40, required=False, allow_blank=True, help_text="a topic key")
    zns_template_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    zns_params = serializers.DictField(
        child=serializers.CharField(max_length=50),
        required=False,
        help_text="ZNS parameter name -> placeholder name",
    )
    sms_text = serializers.CharField(
        max_length=rendering.BODY_MAX, required=False, allow_blank=True, help_text="empty: the Vietnamese body"
    )


class SmsLengthOut(serializers.Serializer):
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    units = serializers.IntegerField()
    segments = serializers.IntegerField()


class TemplateOut(serializers.Serializer):
    key = serializers.CharField(source="template.key")
    name = serializers.CharField(source="template.name")
    category = serializers.CharField(source="template.category")
    version = serializers.IntegerField(source="number")
    status = serializers.ChoiceField(choices=TemplateVersion.STATUS_CHOICES)
    placeholders = serializers.SerializerMethodField()
    sms = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_placeholders(self, version) -> list[str]:
        return rendering.placeholders(version.body_vi, version.body_en, version.body_zh, version.sms_text)

    @extend_schema_field(SmsLengthOut)
    def get_sms(self, version) -> dict:
        text = version.sms_text or version.body_vi
        length = rendering.sms_length(text)
        return {"encoding": length.encoding, "units": length.units, "segments": length.segments}


class TemplateResultOut(serializers.Serializer):
    template = TemplateOut()


class NotificationIn(serializers.Serializer):
    template = serializers.SlugField(max_length=60, help_text="the template's key")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    citizen_id = serializers.CharField(max_length=128, required=False, allow_blank=True)
    personalisation = serializers.DictField(
        child=serializers.CharField(max_length=rendering.VALUE_MAX, allow_blank=True),
        required=False,
        help_text="placeholder name -> value",
    )
    reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="your id: the same reference is sent once"
    )
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True)


class StatusEventOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=Notification.STATUS_CHOICES)
    channel = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class NotificationOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Notification.STATUS_CHOICES)
    channel = serializers.CharField(help_text=f"empty until planned; one of {', '.join(c for c, _ in CHANNEL_CHOICES)}")
    body = serializers.CharField(help_text="the rendered text (empty once deleted after the retention period)")
    reference = serializers.CharField()
    template = serializers.CharField(source="version.template.key")
    version = serializers.IntegerField(source="version.number")
    reason = serializers.CharField()
    cost = serializers.IntegerField(help_text="VND")
    scheduled_for = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class NotificationDetailOut(NotificationOut):
    history = StatusEventOut(source="events.all", many=True)


class NotificationResultOut(serializers.Serializer):
    notification = NotificationOut()


class NotificationDetailResultOut(serializers.Serializer):
    notification = NotificationDetailOut()


class CallbackIn(serializers.Serializer):
    url = serializers.CharField(max_length=500, allow_blank=True, help_text="empty: no callbacks")
    secret = serializers.CharField(max_length=256, required=False, allow_blank=True, help_text="HMAC key")

    def validate(self, attrs):
        if attrs["url"]:
            try:
                validate_provider_url(attrs["url"])
            except Exception as exc:  # noqa: BLE001 - Django's ValidationError; its message is the answer
                raise serializers.ValidationError({"url": "A public http(s) URL is expected."}) from exc
            if len(attrs.get("secret") or "") < 16:
                raise serializers.ValidationError({"secret": "At least 16 characters."})
        return attrs


class CallbackOut(serializers.Serializer):
    url = serializers.CharField()


class PersonalView(APIView):
    required_scope = ApiToken.SCOPE_NOTIFICATIONS_WRITE

    def actor(self) -> Actor:
        return Actor(token=self.request.auth)


class TemplateListView(PersonalView):
    @extend_schema(
        request=TemplateIn,
        responses={201: TemplateResultOut, **ERRORS},
        summary="Create a template, or a new version of the template with this key (both need approval)",
    )
    def post(self, request, slug: str):
        data = TemplateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = services.template_save(account=request.auth.account, actor=self.actor(), **values)
        return Response({"template": TemplateOut(version).data}, status=status.HTTP_201_CREATED)


class TemplateApproveView(PersonalView):
    required_scope = ApiToken.SCOPE_NOTIFICATIONS_APPROVE

    @extend_schema(
        request=None,
        responses={200: TemplateResultOut, **ERRORS},
        summary="Approve the template's newest version (never by its author)",
    )
    def post(self, request, slug: str, key: str):
        template = selectors.template_by_key(account=request.auth.account, key=key)
        if template is None:
            raise NotFound("No such template.")
        version = services.template_approve(template=template, actor=self.actor())
        return Response({"template": TemplateOut(version).data})


class NotificationListView(PersonalView):
    @extend_schema(
        request=NotificationIn,
        responses={
            201: NotificationResultOut,
            200: OpenApiResponse(NotificationResultOut, description="the same reference again: nothing is sent"),
            **ERRORS,
        },
        summary="Send one personal notice (201); the same reference again answers 200 and sends nothing",
    )
    def post(self, request, slug: str):
        data = NotificationIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        notification, created = services.notification_create(
            account=request.auth.account,
            actor=self.actor(),
            template_key=values["template"],
            phone=values.get("phone") or "",
            citizen_id=values.get("citizen_id") or "",
            personalisation=values.get("personalisation") or {},
            reference=values.get("reference") or "",
            scheduled_for=values.get("scheduled_for"),
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response({"notification": NotificationOut(notification).data}, status=code)


class NotificationDetailView(PersonalView):
    @extend_schema(
        responses={200: NotificationDetailResultOut, 404: ERRORS[404]},
        summary="A notification with its status history",
    )
    def get(self, request, slug: str, pk: int):
        found = (
            selectors.notifications_for_account(account=request.auth.account)
            .select_related("version", "version__template")
            .filter(pk=pk)
            .first()
        )
        if found is None:
            raise NotFound("No such notification.")
        return Response({"notification": NotificationDetailOut(found).data})


class CallbackView(PersonalView):
    @extend_schema(
        request=CallbackIn,
        responses={200: CallbackOut, 403: ERRORS[403]},
        summary="Set (or clear) this token's status callback URL: status changes are POSTed there, signed",
    )
    def put(self, request, slug: str):
        data = CallbackIn(data=request.data)
        data.is_valid(raise_exception=True)
        url = data.validated_data["url"]
        with transaction.atomic():
            if url:
                TokenCallback.objects.update_or_create(
                    token=request.auth, defaults={"url": url, "secret": data.validated_data["secret"]}
                )
            else:
                TokenCallback.objects.filter(token=request.auth).delete()
        return Response({"url": url})
